/**
 * Assets (issue 11) on the real stack: two producer DAGs each write one asset (a task's
 * `outlets`); a DAG scheduled on both runs for a logical date only once both producers' runs of
 * that date succeeded, with the logical date and data interval of the run that completed them.
 * A rerun of an upstream date starts nothing more; two dates start two runs.
 *
 * The worker is given the DAG specs, as `sluice worker` is given its DAG folder: that is how the
 * asset activity knows which DAGs wait for which assets.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pino from 'pino';
import type { Resources } from '../../activities/resources';
import { dag } from '../../dags/sdk';
import { runIdFor } from '../../server/client/run-id';
import { createConsoleApp } from '../../server/console/app';
import { startDagRun } from '../../server/client/start-run';
import { createWorker } from '../../workers/create-worker';
import { closeResources, openResources } from '../../workers/resources';
import { installRuntime } from '../../workers/runtime';
import { stateQuery } from '../../workflows/messages';
import type { DagSpec } from '../../workflows/spec';
import { alwaysFail, echo, macros, testTasks } from '../fixtures/tasks';
import { compileOrThrow } from '../support/dag-runs';
import { testConfig } from '../support/env';

const TQ = 'test-assets';
const A = 'test_assets.table_a';
const B = 'lake:test_assets/b&c';
const producerA = compileOrThrow(
  dag('assets_producer_a', { taskQueue: TQ, schedule: '0 0 * * *' }, ({ task }) => {
    task(echo, { label: 'a' }, { id: 'writeA', outlets: [A] });
  }),
  testTasks,
);
const producerB = compileOrThrow(
  dag('assets_producer_b', { taskQueue: TQ, schedule: '0 0 * * *' }, ({ task }) => {
    const first = task(echo, { label: 'first' }, { id: 'prepare' });
    task(echo, { label: 'b', from: first }, { id: 'writeB', outlets: [B] });
  }),
  testTasks,
);
const consumer = compileOrThrow(
  dag('assets_consumer', { taskQueue: TQ, schedule: { assets: [A, B] } }, ({ task }) => {
    task(macros, {});
  }),
  testTasks,
);
/** Fails at once: Temporal would let a failed run's id start again, the asset trigger must not. */
const failingConsumer = compileOrThrow(
  dag('assets_failing_consumer', { taskQueue: TQ, schedule: { assets: [A] }, operatorWindow: 0 }, ({ task }) => {
    task(alwaysFail, { message: 'bad data' });
  }),
  testTasks,
);
const DAG_IDS = [producerA, producerB, consumer, failingConsumer].map((s) => s.dagId);

let client: Client;
let resources: Resources;
let worker: Worker;
let stop: () => Promise<void>;

before(async () => {
  const config = testConfig();
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  installRuntime(logger);
  resources = openResources(config);
  const native = await NativeConnection.connect({ address: config.temporal.address });
  const connection = await Connection.connect({ address: config.temporal.address });
  client = new Client({ connection, namespace: config.temporal.namespace });
  const bundlePath = process.env.SLUICE_WORKFLOW_BUNDLE;
  worker = await createWorker({
    connection: native,
    namespace: config.temporal.namespace,
    taskQueue: TQ,
    resources,
    tasks: testTasks,
    dags: [producerA, producerB, consumer, failingConsumer],
    logger,
    ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : {}),
  });
  const running = worker.run();
  stop = async () => {
    worker.shutdown();
    await running;
    await native.close();
    await connection.close();
  };
});

after(async () => {
  const db = resources.warehouse;
  const runIds: string[] = (await db('sluice.dag_runs').whereIn('dag_id', DAG_IDS).distinct('run_id')).map((r: { run_id: string }) => r.run_id);
  for (const id of runIds) await client.workflow.getHandle(id).terminate('end of test').catch(() => undefined);
  await stop?.();
  await db('sluice.asset_events').whereIn('dag_id', DAG_IDS).delete();
  await db('sluice.asset_triggers').whereIn('dag_id', DAG_IDS).delete();
  await db('sluice.task_attempts').whereIn('dag_id', DAG_IDS).delete();
  await db('sluice.dag_runs').whereIn('dag_id', DAG_IDS).delete();
  await closeResources(resources);
});

/** Runs a producer for a date to its end (`rerun`: again, after a success). */
async function produce(spec: DagSpec, day: Date, rerun = false): Promise<void> {
  const run = await startDagRun(client, spec, { logicalDate: day, params: {}, trigger: 'manual', rerun });
  assert.equal(run.started, true, `${run.runId} started`);
  assert.equal((await run.handle.result()).state, 'success');
}

/** The consumer's execution for a date, or undefined when none was started. */
async function consumerRun(day: Date, spec = consumer) {
  try {
    return await client.workflow.getHandle(runIdFor(spec.dagId, day)).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

test('a DAG scheduled on two assets runs once both are updated for a date, with that run\'s interval, and never again for it', { timeout: 60_000 }, async () => {
  const day = new Date('2024-05-02T00:00:00Z');
  await produce(producerA, day);
  // The producer's run ends after its asset activity: had it started the consumer, it would exist now.
  assert.equal(await consumerRun(day), undefined, 'not started after the first asset');
  const events = await resources.warehouse('sluice.asset_events').where({ dag_id: producerA.dagId }).select('asset', 'run_id', 'task_id', 'logical_date');
  assert.deepEqual(
    events.map((e) => [e.asset, e.run_id, e.task_id, new Date(e.logical_date).toISOString()]),
    [[A, runIdFor(producerA.dagId, day), 'writeA', day.toISOString()]],
  );

  await produce(producerB, day);
  const started = await consumerRun(day);
  assert.ok(started, 'started once the second asset was updated');
  const handle = client.workflow.getHandle(started.workflowId);
  assert.equal((await handle.result()).state, 'success');
  const status = await handle.query(stateQuery);
  assert.equal(status.logicalDate, '2024-05-02T00:00:00Z');
  // The upstream run's data interval (the previous day), not the empty one of a DAG without a cron.
  assert.deepEqual(status.tasks[0]?.output, {
    ds: '2024-05-02',
    dsNodash: '20240502',
    ts: '2024-05-02T00:00:00+00:00',
    tsNodash: '20240502T000000',
    prevDs: null,
    nextDs: null,
    dataIntervalStart: '2024-05-01T00:00:00.000Z',
    dataIntervalEnd: '2024-05-02T00:00:00.000Z',
  });
  const recorded = await resources.warehouse('sluice.dag_runs').where({ run_id: started.workflowId }).select('trigger', 'data_interval_start');
  assert.deepEqual(recorded.map((r) => r.trigger), ['asset']);

  // Both producers rerun the date: their assets are updated again, the consumer is not started again.
  await produce(producerA, day, true);
  await produce(producerB, day, true);
  assert.equal((await consumerRun(day))?.runId, started.runId, 'still the one execution');
  const runs = await resources.warehouse('sluice.dag_runs').where({ dag_id: consumer.dagId }).count<{ count: string }[]>('* as count');
  assert.equal(Number(runs[0]?.count), 1, 'one consumer run on record');
  const triggers = await resources.warehouse('sluice.asset_triggers').where({ dag_id: consumer.dagId }).select('run_id', 'upstream_run_id');
  assert.deepEqual(triggers, [{ run_id: started.workflowId, upstream_run_id: runIdFor(producerB.dagId, day) }]);
});

test('two dates, both producers at once: one consumer run per date, each with its logical date', { timeout: 60_000 }, async () => {
  const days = [new Date('2024-05-10T00:00:00Z'), new Date('2024-05-11T00:00:00Z')];
  // All four producer runs at the same time: the two of a date may finish together.
  await Promise.all(days.flatMap((day) => [produce(producerA, day), produce(producerB, day)]));
  for (const day of days) {
    const run = await consumerRun(day);
    assert.ok(run, `a consumer run for ${day.toISOString()}`);
    const handle = client.workflow.getHandle(run.workflowId);
    assert.equal((await handle.result()).state, 'success');
    const status = await handle.query(stateQuery);
    assert.equal(status.logicalDate, day.toISOString().replace('.000Z', 'Z'));
    assert.equal(status.dataIntervalEnd, day.toISOString());
  }
  const runs: Array<{ run_id: string }> = await resources.warehouse('sluice.dag_runs').where({ dag_id: consumer.dagId }).whereIn('logical_date', days).select('run_id');
  assert.deepEqual(runs.map((r) => r.run_id).sort(), days.map((d) => runIdFor(consumer.dagId, d)));
});

test('a consumer run that failed is not started again when its upstream date reruns', { timeout: 60_000 }, async () => {
  const day = new Date('2024-05-20T00:00:00Z');
  await produce(producerA, day);
  const failed = await consumerRun(day, failingConsumer);
  assert.ok(failed, 'started by its one asset');
  await assert.rejects(client.workflow.getHandle(failed.workflowId).result(), /bad data|failed/);
  await produce(producerA, day, true);
  assert.equal((await consumerRun(day, failingConsumer))?.runId, failed.runId, 'the failed execution is still the latest: nothing started again');
});

test('the console shows the asset schedule in the DAG list and the asset edges on the DAG pages, escaped', { timeout: 30_000 }, async () => {
  const token = 'assets-test-token';
  const app = createConsoleApp({ temporal: client, db: resources.warehouse, token, logger: pino({ level: 'silent' }), dags: () => [producerA, producerB, consumer, failingConsumer] });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const page = async (path: string) => (await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/html' } })).text();
  try {
    const home = await page('/');
    const row = /<tr data-dag="assets_consumer">[\s\S]*?<\/tr>/.exec(home)?.[0] ?? '';
    assert.match(row, /<td data-label="schedule"><span class="muted">assets:<\/span> <code>test_assets\.table_a<\/code>, <code>lake:test_assets\/b&#38;c<\/code><\/td>/);
    const consumerPage = await page('/dags/assets_consumer/grid');
    assert.match(consumerPage, /<section id="assets"><h2>Assets<\/h2>/);
    assert.match(consumerPage, /<li><a href="\/dags\/assets_producer_a\/grid">assets_producer_a<\/a> → <code>test_assets\.table_a<\/code> → assets_consumer<\/li>/);
    assert.match(consumerPage, /<li><a href="\/dags\/assets_producer_b\/grid">assets_producer_b<\/a> → <code>lake:test_assets\/b&#38;c<\/code> → assets_consumer<\/li>/);
    const producerPage = await page('/dags/assets_producer_b/grid');
    assert.match(producerPage, /<li>writeB writes <code>lake:test_assets\/b&#38;c<\/code><\/li>/);
    assert.match(producerPage, /<li>assets_producer_b → <code>lake:test_assets\/b&#38;c<\/code> → <a href="\/dags\/assets_consumer\/grid">assets_consumer<\/a><\/li>/);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
