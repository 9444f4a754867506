/**
 * The console's `/metrics` on the real Postgres: runs, task attempts and quarantined records
 * counted when scraped, request latency labelled by route pattern (never the URL), a scrape
 * that still answers, with an error count, when Postgres does not, and the console app serving
 * them behind its token.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Client, Connection } from '@temporalio/client';
import express, { Router, type Express } from 'express';
import type { Knex } from 'knex';
import pino from 'pino';
import { createKnex } from '../../infra/db/knex';
import { createConsoleApp } from '../../server/console/app';
import { requireToken } from '../../server/console/auth';
import { errorHandler, HttpError } from '../../server/console/errors';
import { createConsoleMetrics } from '../../server/console/metrics';
import { MANAGED_MEMO } from '../../server/schedules/schedule-options';
import { testConfig, testTemporal } from '../support/env';

const TOKEN = 'metrics-test-token';
const suffix = randomUUID().slice(0, 8);
const DAG_A = `metrics_a_${suffix}`;
const DAG_B = `metrics_b_${suffix}`;
const RUN_ID = `${DAG_A}-2026-01-01T00:00:00Z`;
const SECRET_RUN = `secret-${suffix}`;

let db: Knex;
let down: Knex;
let temporal: Connection | undefined;
const servers: Server[] = [];

before(() => {
  db = createKnex(testConfig().postgres.databaseUrl, { maxConnections: 2 });
  // Port 1 on loopback: nothing listens there, so every count fails at once.
  down = createKnex('postgres://nobody@127.0.0.1:1/nothing', { maxConnections: 1 });
});

after(async () => {
  await cleanUp();
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  await db.destroy();
  await down.destroy();
  await temporal?.close();
});

async function cleanUp(): Promise<void> {
  await db.withSchema('sluice').table('task_attempts').whereIn('dag_id', [DAG_A, DAG_B]).delete();
  await db.withSchema('sluice').table('dag_runs').whereIn('dag_id', [DAG_A, DAG_B]).delete();
  await db.withSchema('ops').table('exceptions').whereIn('dag_id', [DAG_A, DAG_B]).delete();
  await db.withSchema('ops').table('quality_scores').whereIn('dag_id', [DAG_A, DAG_B]).delete();
}

/** The console's wiring in small: metrics first, then the token, then routers and errors. */
async function serve(database: Knex, client?: Client): Promise<string> {
  const metrics = createConsoleMetrics(database, client);
  const app = express();
  app.use(metrics.middleware);
  app.use(requireToken(TOKEN));
  app.get('/metrics', metrics.handler);
  const api = Router();
  api.get('/runs/:runId', (req, res) => {
    res.json({ runId: req.params.runId });
  });
  api.get('/runs/:runId/tasks/:taskId/attempts', () => {
    throw new HttpError(409, 'refused');
  });
  app.use('/api', api);
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use(errorHandler);
  return listen(app);
}

async function listen(app: Express): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A GET with the console token, another token, or none (`''`). */
async function get(url: string, token = TOKEN): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus' text format, sample lines only (no label value here holds `,` or `"`). */
function parse(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(match, `not a sample line: ${line}`);
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

/** The value of the one sample named `name` whose labels include `labels`; undefined when there is none. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

async function scrape(origin: string): Promise<Sample[]> {
  const res = await get(`${origin}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.type ?? '', /^text\/plain; version=0\.0\.4/);
  return parse(res.text);
}

function run(dagId: string, day: number, state: string): Record<string, unknown> {
  const logical = new Date(Date.UTC(2026, 0, day));
  return {
    temporal_run_id: randomUUID(),
    run_id: `${dagId}-${logical.toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
    dag_id: dagId,
    version: 'v1',
    logical_date: logical,
    data_interval_start: logical,
    data_interval_end: new Date(logical.getTime() + 86_400_000),
    state,
    trigger: 'scheduled',
    started_at: logical,
  };
}

function exception(dagId: string, category: string): Record<string, unknown> {
  return { dag_id: dagId, run_id: RUN_ID, task_id: 'validate', logical_date: '2026-01-01', source: 'orders', category, stage: 'validate', reason: 'test', raw: {} };
}

describe('console metrics', () => {
  test('counts runs, task attempts and quarantined records when scraped', async () => {
    const origin = await serve(db);
    const earlier = await scrape(origin);
    const attemptsBefore = (state: string) => value(earlier, 'sluice_task_attempts', { state }) ?? 0;

    const runs = [run(DAG_A, 1, 'success'), run(DAG_A, 2, 'success'), run(DAG_A, 3, 'failed'), run(DAG_B, 1, 'running')];
    await db.withSchema('sluice').table('dag_runs').insert(runs);
    const first = runs[0]!;
    const attempt = (taskId: string, n: number, state: string) => ({
      temporal_run_id: first.temporal_run_id,
      run_id: first.run_id,
      dag_id: DAG_A,
      task_id: taskId,
      attempt: n,
      state,
      started_at: first.started_at,
      worker: 'test',
    });
    await db.withSchema('sluice').table('task_attempts').insert([attempt('extract', 1, 'failed'), attempt('extract', 2, 'success'), attempt('load', 1, 'success')]);
    await db
      .withSchema('ops')
      .table('exceptions')
      .insert([exception(DAG_A, 'DUPLICATE_RECORD'), exception(DAG_A, 'DUPLICATE_RECORD'), exception(DAG_A, 'DATA_FORMAT_ERROR'), exception(DAG_B, 'DUPLICATE_RECORD')]);

    const later = await scrape(origin);
    assert.equal(value(later, 'sluice_runs', { dag_id: DAG_A, state: 'success' }), 2);
    assert.equal(value(later, 'sluice_runs', { dag_id: DAG_A, state: 'failed' }), 1);
    assert.equal(value(later, 'sluice_runs', { dag_id: DAG_B, state: 'running' }), 1);
    assert.equal(value(later, 'sluice_runs', { dag_id: DAG_B, state: 'success' }), undefined);
    // Attempts by their own state: extract's failed first attempt counts beside its success.
    assert.equal((value(later, 'sluice_task_attempts', { state: 'success' }) ?? 0) - attemptsBefore('success'), 2);
    assert.equal((value(later, 'sluice_task_attempts', { state: 'failed' }) ?? 0) - attemptsBefore('failed'), 1);
    assert.equal(value(later, 'sluice_quarantined_records', { category: 'DUPLICATE_RECORD', dag_id: DAG_A }), 2);
    assert.equal(value(later, 'sluice_quarantined_records', { category: 'DATA_FORMAT_ERROR', dag_id: DAG_A }), 1);
    assert.equal(value(later, 'sluice_quarantined_records', { category: 'DUPLICATE_RECORD', dag_id: DAG_B }), 1);
    assert.equal(value(later, 'sluice_console_scrape_errors_total'), 0);
    assert.ok(value(later, 'process_cpu_user_seconds_total') !== undefined, 'default process metrics are exported');

    // Deleted rows leave the next scrape: the gauges are counted afresh, not kept.
    await cleanUp();
    const cleaned = await scrape(origin);
    assert.equal(value(cleaned, 'sluice_runs', { dag_id: DAG_A, state: 'success' }), undefined);
    assert.equal(value(cleaned, 'sluice_quarantined_records', { category: 'DUPLICATE_RECORD', dag_id: DAG_A }), undefined);
  });

  test("each table's latest quality score, and each schedule's missed catch-ups", async () => {
    const { client, connection } = await testTemporal();
    temporal = connection;
    const score = (day: string, value: number) => ({ dag_id: DAG_A, run_id: `${DAG_A}-${day}`, logical_date: day, table_name: 'silver.orders', score: value, checks: 4, failed_blocking: 0, failed_warning: 1 });
    await db.withSchema('ops').table('quality_scores').insert([score('2026-01-02', 87.5), score('2026-01-01', 40)]);
    // A paused schedule carrying Sluice's memo, as `schedules sync` makes them: it has missed nothing.
    const schedule = await client.schedule.create({
      scheduleId: `${DAG_A}-schedule`,
      spec: { intervals: [{ every: '1 day' }] },
      action: { type: 'startWorkflow', workflowType: 'dagRun', taskQueue: `metrics-${suffix}`, args: [] },
      memo: { [MANAGED_MEMO]: DAG_A },
      state: { paused: true },
    });
    try {
      const samples = await scrape(await serve(db, client));
      assert.equal(value(samples, 'sluice_quality_score', { dag_id: DAG_A, table: 'silver.orders' }), 87.5, 'the latest day, not the lowest or the first');
      assert.equal(value(samples, 'sluice_schedule_missed_catchup_window', { dag_id: DAG_A }), 0);
      assert.equal(value(samples, 'sluice_console_scrape_errors_total'), 0);
    } finally {
      await schedule.delete();
      await cleanUp();
    }
  });

  test('request latency is labelled by route pattern, never by the URL', async () => {
    const origin = await serve(db);
    for (let i = 0; i < 3; i++) assert.equal((await get(`${origin}/api/runs/${SECRET_RUN}-${i}`)).status, 200);
    assert.equal((await get(`${origin}/api/runs/${SECRET_RUN}/tasks/extract/attempts`)).status, 409);
    assert.equal((await get(`${origin}/api/nothing/${SECRET_RUN}`)).status, 404);
    assert.equal((await get(`${origin}/api/runs/${SECRET_RUN}`, 'wrong-token')).status, 401);

    const text = (await get(`${origin}/metrics`)).text;
    assert.ok(!text.includes(SECRET_RUN), 'no URL reaches the metrics');
    const samples = parse(text);
    const count = (route: string, status: string) => value(samples, 'sluice_console_http_request_duration_seconds_count', { method: 'GET', route, status });
    assert.equal(count('/api/runs/:runId', '200'), 3);
    assert.equal(count('/api/runs/:runId/tasks/:taskId/attempts', '409'), 1);
    assert.equal(count('unmatched', '404'), 1);
    assert.equal(count('unmatched', '401'), 1);
    const buckets = samples.filter((s) => s.name === 'sluice_console_http_request_duration_seconds_bucket' && s.labels.route === '/api/runs/:runId');
    assert.ok(buckets.length > 5, 'a histogram, with buckets');
    assert.equal(buckets.find((b) => b.labels.le === '+Inf')?.value, 3);
    // This scrape is counted when it is done, so the next one shows it.
    assert.equal(value(await scrape(origin), 'sluice_console_http_request_duration_seconds_count', { method: 'GET', route: '/metrics', status: '200' }), 1);
  });

  test('a scrape while Postgres is unreachable still answers, and counts the error', async () => {
    const origin = await serve(down);
    assert.equal((await get(`${origin}/api/runs/x`)).status, 200);
    const samples = await scrape(origin);
    assert.equal(value(samples, 'sluice_console_scrape_errors_total'), 1);
    assert.equal(value(samples, 'sluice_console_http_request_duration_seconds_count', { method: 'GET', route: '/api/runs/:runId', status: '200' }), 1);
    assert.equal(samples.filter((s) => s.name === 'sluice_runs' || s.name === 'sluice_task_attempts').length, 0);
    assert.equal(value(await scrape(origin), 'sluice_console_scrape_errors_total'), 2);
  });

  test('the console app serves them at /metrics, behind the token', async () => {
    const { client, connection } = await testTemporal();
    temporal = connection;
    const origin = await listen(createConsoleApp({ temporal: client, db, token: TOKEN, logger: pino({ level: 'silent' }), dags: () => [] }));
    assert.equal((await get(`${origin}/metrics`, '')).status, 401);
    assert.equal((await get(`${origin}/api/dags/${SECRET_RUN}/grid`)).status, 404);
    assert.equal((await get(`${origin}/api/runs?limit=1`)).status, 200);
    const samples = await scrape(origin);
    const count = (route: string, status: string) => value(samples, 'sluice_console_http_request_duration_seconds_count', { method: 'GET', route, status });
    assert.equal(count('/api/dags/:dagId/grid', '404'), 1);
    assert.equal(count('/api/runs', '200'), 1);
    assert.equal(count('unmatched', '401'), 1);
    assert.equal(value(samples, 'sluice_console_scrape_errors_total'), 0);
  });
});
