/**
 * `maxActiveRuns` across runs (issue 11, first part), on the real stack: ten runs of a DAG with
 * `maxActiveRuns: 2` never overlap more than two, the extra ones wait in `queued` (in the state
 * query and in `sluice.dag_runs`) and start oldest logical date first; a run terminated while
 * holding a slot gives it back within the gate's check interval (set to 2 s here).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dag } from '../../dags/sdk';
import { startDagRun, type StartedRun } from '../../server/client/start-run';
import { stateQuery } from '../../workflows/messages';
import { runSlotsId, slotsQuery } from '../../workflows/run-slots';
import { sleepFor, testTasks } from '../fixtures/tasks';
import { compileOrThrow, waitForStatus } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

// The gates this file's worker starts check for ended holders every 2 s (30 s by default).
process.env.SLUICE_GATE_CHECK_INTERVAL_MS = '2000';
const TQ = 'test-max-active-runs';
const twoAtOnce = compileOrThrow(
  dag('mar_two', { taskQueue: TQ, maxActiveRuns: 2 }, ({ task }) => {
    task(sleepFor, { ms: 1_500 });
  }),
  testTasks,
);
const oneAtOnce = compileOrThrow(
  dag('mar_one', { taskQueue: TQ, maxActiveRuns: 1 }, ({ task }) => {
    task(sleepFor, { ms: 120_000 });
  }),
  testTasks,
);

let worker: TestWorker;
const started: string[] = [];

before(async () => {
  worker = await startTestWorker(testTasks, TQ);
});

after(async () => {
  for (const id of [...started, runSlotsId('mar_two', TQ), runSlotsId('mar_one', TQ)]) await worker.client.workflow.getHandle(id).terminate('end of test').catch(() => undefined);
  await worker?.stop();
});

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('ten runs of a DAG with maxActiveRuns 2: never more than two at once, the rest queued, oldest date first', { timeout: 120_000 }, async () => {
  const day = (i: number) => new Date(Date.UTC(2024, 0, 1 + i));
  // The two newest dates ask first and take the slots; the eight others queue in any order.
  const runs: StartedRun[] = [];
  for (const i of [9, 8]) runs.push(await startDagRun(worker.client, twoAtOnce, { logicalDate: day(i), params: {}, trigger: 'manual' }));
  const slots = worker.client.workflow.getHandle(runSlotsId('mar_two', TQ));
  await eventually('the two first runs to hold the slots', async () => ((await slots.query(slotsQuery)).holders.length === 2 ? true : undefined));
  for (const i of [3, 0, 6, 1, 7, 2, 5, 4]) runs.push(await startDagRun(worker.client, twoAtOnce, { logicalDate: day(i), params: {}, trigger: 'manual' }));
  started.push(...runs.map((r) => r.runId));

  // Queued where people look: the run's state query and the run history.
  const waiting = runs[2] as StartedRun;
  assert.equal((await waitForStatus(waiting.handle, (s) => s.state === 'queued')).state, 'queued');
  const gate = await eventually('all eight to ask', async () => {
    const now = await slots.query(slotsQuery);
    return now.waiting.length === 8 ? now : undefined;
  });
  assert.equal(gate.maxActiveRuns, 2);
  assert.equal(gate.holders.length, 2);
  assert.deepEqual(
    gate.waiting.map((w) => w.logicalDate),
    [0, 1, 2, 3, 4, 5, 6, 7].map((i) => day(i).toISOString().replace('.000Z', 'Z')),
    'the queue is in logical date order',
  );
  await eventually('the queued run on record', async () => {
    const row = await worker.resources.warehouse('sluice.dag_runs').where({ run_id: waiting.runId }).first('state');
    return row?.state === 'queued' ? true : undefined;
  });

  const results = await Promise.all(runs.map((r) => r.handle.result()));
  assert.deepEqual(results.map((r) => r.state), runs.map(() => 'success'));

  // From the recorded attempts: at most two tasks ran at any moment, and after the first two,
  // runs started in logical date order.
  const attempts = await eventually('every attempt on record', async () => {
    const rows = await worker.resources.warehouse('sluice.task_attempts').whereIn('run_id', started).whereNotNull('ended_at').select('run_id', 'started_at', 'ended_at');
    return rows.length === 10 ? rows : undefined;
  });
  const edges = attempts.flatMap((a) => [
    [new Date(a.started_at).getTime(), 1],
    [new Date(a.ended_at).getTime(), -1],
  ]);
  edges.sort((a, b) => (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number));
  let running = 0;
  let most = 0;
  for (const [, step] of edges) most = Math.max(most, (running += step as number));
  assert.equal(most, 2, 'never more than maxActiveRuns at once');
  // Runs let in together (two slots freed at once) start within moments of each other, in either
  // order; each wave comes a task's length (1.5 s) after the one before.
  const startOf = new Map(attempts.map((a) => [a.run_id as string, new Date(a.started_at).getTime()]));
  const queued = [...startOf.keys()].filter((id) => !id.endsWith('2024-01-10T00:00:00Z') && !id.endsWith('2024-01-09T00:00:00Z')).sort();
  assert.equal(queued.length, 8);
  for (let i = 1; i < queued.length; i++) {
    const [older, newer] = [queued[i - 1] as string, queued[i] as string];
    assert.ok((startOf.get(older) as number) <= (startOf.get(newer) as number) + 500, `${older} started before ${newer}, or with it`);
  }

  await eventually('the gate to empty', async () => ((await slots.query(slotsQuery)).holders.length === 0 ? true : undefined));
});

test('a run terminated while holding the only slot gives it back, and the queued run starts', { timeout: 120_000 }, async () => {
  const first = await startDagRun(worker.client, oneAtOnce, { logicalDate: new Date('2024-02-01T00:00:00Z'), params: {}, trigger: 'manual' });
  started.push(first.runId);
  await waitForStatus(first.handle, (s) => s.state === 'running' && s.tasks.some((t) => t.state === 'running'));
  const second = await startDagRun(worker.client, oneAtOnce, { logicalDate: new Date('2024-02-02T00:00:00Z'), params: {}, trigger: 'manual' });
  started.push(second.runId);
  await waitForStatus(second.handle, (s) => s.state === 'queued');

  // Terminated from outside: the run cannot say it is done; the gate finds out by itself.
  await first.handle.terminate('an operator gave up');
  const terminatedAt = Date.now();
  await waitForStatus(second.handle, (s) => s.state === 'running', 60_000);
  const took = Date.now() - terminatedAt;
  assert.ok(took < 10_000, `the slot came back after ${took} ms`);
  const status = await second.handle.query(stateQuery);
  assert.equal(status.state, 'running');
});
