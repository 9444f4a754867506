/**
 * End to end: `sluice up --demo` (what `npm start` runs) against the test stack's servers, so it
 * starts no embedded ones here but does everything else for real: migrations, the workflow
 * bundle, the worker process, the console, the demo data (a week of a small shop) and the first
 * DAG runs (`daily_etl`, then `quality_checks`, for the latest seeded day). Then the console is queried over HTTP, and
 * Ctrl-C must stop it cleanly.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createKnex } from '../../infra/db/knex';
import { createS3Client } from '../../infra/s3';
import { recordHistory } from '../support/histories';
import { testConfig } from '../support/env';
import { startSluiceUp } from '../support/sluice-up';

const TOKEN = 'e2e-console-token';

test('sluice up --demo seeds a week, runs daily_etl and quality_checks, serves the console, and stops on Ctrl-C', { timeout: 180_000 }, async () => {
  const up = await startSluiceUp(['--demo'], { SLUICE_CONSOLE_TOKEN: TOKEN, LOG_LEVEL: 'warn' });
  try {
    const demo = await up.waitFor(/demo run (daily_etl-\S+): (\w+)/, 150_000);
    const [, runId, state] = demo;
    assert.ok(runId !== undefined);
    assert.equal(state, 'success', up.stderr());
    // The day's quality checks run next, so the data pages have a score.
    const checks = await up.waitFor(/demo run (quality_checks-\S+): (\w+)/, 60_000);
    assert.equal(checks[2], 'success', up.stderr());
    assert.match(up.stdout(), /Sluice is up in [\d.]+ s/);
    // Progress and pointers go to stderr, like every command's human messages.
    assert.match(up.stderr(), /demo data: \d+ orders from \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}/);
    assert.match(up.stderr(), /Where to look:/);
    // The run's logical date is the midnight after the day it loads.
    const day = new Date(Date.parse(runId?.slice('daily_etl-'.length) ?? '') - 86_400_000).toISOString().slice(0, 10);

    const base = up.consoleUrl;
    assert.equal((await fetch(`${base}/api/runs`)).status, 401);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const runs = (await (await fetch(`${base}/api/runs?dagId=daily_etl`, { headers: auth })).json()) as { runs: Array<{ runId: string; state: string }> };
    assert.deepEqual(runs.runs.find((r) => r.runId === runId)?.state, 'success');
    const detail = (await (await fetch(`${base}/api/runs/${runId}`, { headers: auth })).json()) as { tasks: Array<{ id: string; state: string }>; attempts: unknown[] };
    assert.ok(detail.tasks.length >= 10, 'the whole pipeline ran');
    assert.deepEqual(detail.tasks.filter((t) => t.state !== 'success'), []);
    assert.equal(detail.attempts.length, detail.tasks.length);
    const refused = await fetch(`${base}/api/runs/${runId}/retry`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(refused.status, 409);
    const bad = await fetch(`${base}/api/runs?state=exploded`, { headers: auth });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /state/);
    const page = await fetch(`${base}/?token=${TOKEN}`, { redirect: 'manual' });
    assert.equal(page.status, 302);
    const html = await (await fetch(`${base}/runs?dagId=daily_etl`, { headers: { cookie: `sluice_token=${TOKEN}` } })).text();
    assert.ok(html.includes(`data-run="${runId ?? '?'}" data-state="success"`), 'the run list shows the demo run');

    const config = testConfig();
    const s3 = createS3Client(config);
    await s3.send(new HeadObjectCommand({ Bucket: config.s3.bucket, Key: `bronze/order_items/dt=${day}/part-00000.parquet` }));
    await s3.send(new HeadObjectCommand({ Bucket: config.s3.bucket, Key: `silver/order_items/dt=${day}/part-00000.parquet` }));
    s3.destroy();
    const warehouse = createKnex(config.postgres.databaseUrl, { maxConnections: 1 });
    const facts = await warehouse('warehouse.fact_sales').where({ load_date: day }).count<{ count: string }[]>('* as count');
    const quarantined = await warehouse('ops.exceptions').where({ logical_date: day }).count<{ count: string }[]>('* as count');
    await warehouse.destroy();
    assert.ok(Number(facts[0]?.count) > 100, 'the day is in the star schema');
    assert.ok(Number(quarantined[0]?.count) > 0, 'its bad records are in quarantine');

    const connection = await Connection.connect({ address: config.temporal.address });
    await recordHistory(new Client({ connection }).workflow.getHandle(runId ?? ''), 'daily_etl');
    await connection.close();
  } finally {
    const code = await up.interrupt();
    assert.equal(code, 0, `sluice up should exit 0 on Ctrl-C; stderr:\n${up.stderr()}`);
  }
});
