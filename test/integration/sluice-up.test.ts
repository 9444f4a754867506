/**
 * End to end: `sluice up --demo` (what `npm start` runs) against the test stack's servers, so it
 * starts no embedded ones here but does everything else for real: migrations, the workflow
 * bundle, the worker process, the console, and the first DAG (`stack_check`: warehouse row → S3
 * object → read back). Then the console is queried over HTTP, and Ctrl-C must stop it cleanly.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createS3Client } from '../../infra/s3';
import { recordHistory } from '../support/histories';
import { testConfig } from '../support/env';
import { startSluiceUp } from '../support/sluice-up';

const TOKEN = 'e2e-console-token';

test('sluice up --demo runs stack_check, serves the console, and stops on Ctrl-C', { timeout: 180_000 }, async () => {
  const up = await startSluiceUp(['--demo'], { SLUICE_CONSOLE_TOKEN: TOKEN, LOG_LEVEL: 'warn' });
  try {
    const demo = await up.waitFor(/demo run (stack_check-\S+): (\w+)/, 150_000);
    const [, runId, state] = demo;
    assert.ok(runId !== undefined);
    assert.equal(state, 'success', up.stderr());
    assert.match(up.stdout(), /Sluice is up in [\d.]+ s/);
    const day = runId?.slice('stack_check-'.length, 'stack_check-'.length + 10);

    const base = up.consoleUrl;
    assert.equal((await fetch(`${base}/api/runs`)).status, 401);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const runs = (await (await fetch(`${base}/api/runs?dagId=stack_check`, { headers: auth })).json()) as { runs: Array<{ runId: string; state: string }> };
    assert.deepEqual(runs.runs.find((r) => r.runId === runId)?.state, 'success');
    const detail = (await (await fetch(`${base}/api/runs/${runId}`, { headers: auth })).json()) as { tasks: Array<{ id: string; state: string }>; attempts: unknown[] };
    assert.deepEqual(detail.tasks.map((t) => [t.id, t.state]), [['probeWarehouse', 'success'], ['writeProbe', 'success'], ['readProbe', 'success']]);
    assert.equal(detail.attempts.length, 3);
    const refused = await fetch(`${base}/api/runs/${runId}/retry`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: '{}' });
    assert.equal(refused.status, 409);
    const bad = await fetch(`${base}/api/runs?state=exploded`, { headers: auth });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /state/);
    const page = await fetch(`${base}/?token=${TOKEN}`, { redirect: 'manual' });
    assert.equal(page.status, 302);
    const html = await (await fetch(`${base}/`, { headers: { cookie: `sluice_token=${TOKEN}` } })).text();
    assert.ok(html.includes(runId ?? '?'), 'the run list shows the demo run');

    const config = testConfig();
    const s3 = createS3Client(config);
    await s3.send(new HeadObjectCommand({ Bucket: config.s3.bucket, Key: `_sluice/stack_check/dt=${day}/probe.json` }));
    s3.destroy();

    const connection = await Connection.connect({ address: config.temporal.address });
    await recordHistory(new Client({ connection }).workflow.getHandle(runId ?? ''), 'stack_check');
    await connection.close();
  } finally {
    const code = await up.interrupt();
    assert.equal(code, 0, `sluice up should exit 0 on Ctrl-C; stderr:\n${up.stderr()}`);
  }
});
