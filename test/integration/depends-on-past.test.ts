/**
 * `dependsOnPast` / `waitForDownstream` (issue 11) on the real stack: a backfill whose second
 * date fails stops the dates after it (their task never runs, their error names the run that
 * blocked them); a run whose previous run is still going waits in `queued`, saying so, and
 * starts once that run's task succeeded; the DAG's first run is exempt; with waitForDownstream a
 * failed downstream task in the previous run blocks.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { dag } from '../../dags/sdk';
import { backfillProgress, startBackfill } from '../../server/client/backfill';
import { startDagRun } from '../../server/client/start-run';
import { whyNotRunning } from '../../server/console/why-waiting';
import { backfillQueue } from '../../workflows/backfill';
import { stateQuery, type DagRunStatus } from '../../workflows/messages';
import { runSlotsId } from '../../workflows/run-slots';
import { echo, loadDay, sleepFor, testTasks } from '../fixtures/tasks';
import { attemptCounts, compileOrThrow, waitForStatus } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-depends-on-past';
const DAGS = ['dop_backfill', 'dop_wait', 'dop_downstream'];

let worker: TestWorker;
let backfills: TestWorker;
const started: string[] = [];

before(async () => {
  [worker, backfills] = await Promise.all([startTestWorker(testTasks, TQ), startTestWorker(testTasks, backfillQueue(TQ))]);
});

after(async () => {
  const gates = DAGS.flatMap((d) => [runSlotsId(d, TQ), runSlotsId(d, backfillQueue(TQ))]);
  for (const id of [...started, ...gates]) await worker.client.workflow.getHandle(id).terminate('end of test').catch(() => undefined);
  const db = worker.resources.warehouse;
  await db.withSchema('sluice').table('task_attempts').whereIn('dag_id', DAGS).delete();
  await db.withSchema('sluice').table('dag_runs').whereIn('dag_id', DAGS).delete();
  await Promise.all([worker?.stop(), backfills?.stop()]);
});

const taskOf = (status: DagRunStatus, id: string) => status.tasks.find((t) => t.id === id);

test('a dependsOnPast backfill stops at the failed date: the later dates never run the task and name the run that blocked them', { timeout: 60_000 }, async () => {
  const spec = compileOrThrow(
    dag('dop_backfill', { schedule: '0 0 * * *', taskQueue: TQ, dependsOnPast: true }, ({ task, ctx }) => {
      task(loadDay, { logicalDate: ctx.logicalDate, brokenDays: [2], fixKey: 'dop/never-fixed' });
    }),
    testTasks,
  );
  assert.equal(spec.tasks[0]?.dependsOnPast, true, 'the DAG-wide default reaches the task');
  const dates = [1, 2, 3, 4].map((d) => new Date(Date.UTC(2024, 2, d)));
  const id = await startBackfill(worker.client, spec, { logicalDates: dates, concurrency: 4, reprocess: 'all', params: {} });
  started.push(id);
  let progress = await backfillProgress(worker.client, id);
  for (const until = Date.now() + 50_000; progress.state !== 'done' && Date.now() < until; progress = await backfillProgress(worker.client, id)) await sleep(250);
  assert.equal(progress.state, 'done');
  assert.deepEqual(progress.dates.map((d) => d.outcome), ['success', 'failed', 'failed', 'failed']);
  const runIds = progress.dates.map((d) => d.runId);
  started.push(...runIds);

  // Date 1 ran, date 2 ran and failed; dates 3 and 4 never ran the task body.
  const counts = await Promise.all(runIds.map((r) => attemptCounts(worker.resources.warehouse, r)));
  assert.deepEqual(counts, [{ loadDay: 1 }, { loadDay: 1 }, {}, {}]);
  const [, second, third, fourth] = runIds as [string, string, string, string];
  const status3 = await waitForStatus(worker.client.workflow.getHandle(third), (s) => s.state === 'failed');
  assert.equal(taskOf(status3, 'loadDay')?.attempts, 0);
  assert.equal(
    taskOf(status3, 'loadDay')?.error,
    `depends on past: run ${second} (2024-03-02T00:00:00Z) did not succeed task 'loadDay' (state failed)`,
  );
  const status4 = await waitForStatus(worker.client.workflow.getHandle(fourth), (s) => s.state === 'failed');
  assert.match(taskOf(status4, 'loadDay')?.error ?? '', new RegExp(`^depends on past: run ${third} \\(2024-03-03T00:00:00Z\\) did not succeed task 'loadDay' \\(state failed\\)$`));
  // Backfill runs have no operator window: they failed at once, on record too.
  const rows = await worker.resources.warehouse.withSchema('sluice').table('dag_runs').whereIn('run_id', [third, fourth]).select('state');
  assert.deepEqual(rows.map((r) => r.state), ['failed', 'failed']);
});

test('a run whose previous run is still running waits in queued, says why, and starts once that run succeeded; the first run is exempt', { timeout: 60_000 }, async () => {
  const spec = compileOrThrow(
    dag('dop_wait', { taskQueue: TQ }, ({ task }) => {
      task(sleepFor, { ms: 6_000 }, { dependsOnPast: true });
    }),
    testTasks,
  );
  // The DAG's first run: nothing before it, so it starts at once.
  const first = await startDagRun(worker.client, spec, { logicalDate: new Date('2024-04-01T00:00:00Z'), params: {}, trigger: 'manual' });
  started.push(first.runId);
  await waitForStatus(first.handle, (s) => taskOf(s, 'sleepFor')?.state === 'running', 20_000);

  const next = await startDagRun(worker.client, spec, { logicalDate: new Date('2024-04-02T00:00:00Z'), params: {}, trigger: 'manual' });
  started.push(next.runId);
  const waiting = await waitForStatus(next.handle, (s) => taskOf(s, 'sleepFor')?.waitingForPast !== undefined, 20_000);
  const task = taskOf(waiting, 'sleepFor');
  assert.equal(task?.state, 'queued');
  assert.equal(task?.attempts, 0);
  assert.deepEqual({ ...task?.waitingForPast, why: undefined }, { runId: first.runId, logicalDate: '2024-04-01T00:00:00Z', tasks: ['sleepFor'], why: undefined });
  const why = whyNotRunning({ spec, runId: next.runId, run: waiting, attempts: [], now: new Date() });
  assert.match(why.tasks.find((t) => t.taskId === 'sleepFor')?.reason ?? '', new RegExp(`^depends on past: waits for 'sleepFor' in the previous run, ${first.runId}`));

  assert.equal((await first.handle.result()).state, 'success');
  assert.equal((await next.handle.result()).state, 'success');
  const rows = await worker.resources.warehouse.withSchema('sluice').table('task_attempts').whereIn('run_id', [first.runId, next.runId]).orderBy('started_at').select('run_id', 'started_at', 'ended_at');
  assert.deepEqual(rows.map((r) => r.run_id), [first.runId, next.runId]);
  assert.ok(new Date(rows[1].started_at) >= new Date(rows[0].ended_at), 'the second run started its task after the first one finished it');
  assert.equal((await next.handle.query(stateQuery)).tasks[0]?.waitingForPast, undefined);
});

test('waitForDownstream: a downstream task that failed in the previous run blocks the task', { timeout: 60_000 }, async () => {
  const spec = compileOrThrow(
    dag('dop_downstream', { taskQueue: TQ, operatorWindow: 0 }, ({ task, ctx }) => {
      const extract = task(echo, { label: 'extract' }, { waitForDownstream: true });
      task(loadDay, { logicalDate: ctx.logicalDate, brokenDays: [5], fixKey: 'dop/never-fixed' }).after(extract);
    }),
    testTasks,
  );
  const broken = await startDagRun(worker.client, spec, { logicalDate: new Date('2024-05-05T00:00:00Z'), params: {}, trigger: 'manual' });
  started.push(broken.runId);
  await assert.rejects(broken.handle.result());
  const next = await startDagRun(worker.client, spec, { logicalDate: new Date('2024-05-06T00:00:00Z'), params: {}, trigger: 'manual' });
  started.push(next.runId);
  await assert.rejects(next.handle.result());
  const status = await waitForStatus(next.handle, (s) => s.state === 'failed');
  assert.equal(
    taskOf(status, 'echo')?.error,
    `depends on past: run ${broken.runId} (2024-05-05T00:00:00Z) did not succeed task 'loadDay' (state failed), downstream of 'echo' (waitForDownstream)`,
  );
  assert.equal(taskOf(status, 'loadDay')?.state, 'upstream_failed');
  assert.deepEqual(await attemptCounts(worker.resources.warehouse, next.runId), {});
});
