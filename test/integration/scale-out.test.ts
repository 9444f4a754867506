/**
 * Scale-out: three production worker processes (`sluice worker`) on two task queues, one worker
 * stopped with SIGTERM and another SIGKILLed while runs are in flight.
 *
 * - w1 serves q1, w2 serves q1 and q2, w3 serves q2, each with 3 task slots per queue, so the
 *   tasks of one queue cannot all fit on one worker and must spread.
 * - Two DAGs, one running its workflow on each queue, each with two waves of tasks pinned half to
 *   q1 and half to q2. Each task records its attempt (pid) as it starts and, at its end, one
 *   effect row keyed (run_id, task_id) with a count: a task that runs twice shows n = 2.
 * - Once both queues' tasks have run on two pids each, and w1 and w3 have each finished 3 tasks
 *   and have one running,
 *   w1 gets SIGTERM (it must let its running tasks finish and exit 0) and w3 SIGKILL (its running
 *   attempts are lost and, after the 2 s heartbeat timeout, retried on w2). w2 is left serving
 *   both queues, so no replacement is started.
 * - Every run must succeed, have exactly one workflow execution, and every task its effect;
 *   effects counted twice (an attempt killed after its effect and before Temporal heard of its
 *   completion) are reported, not failed: tasks are idempotent for that reason.
 * - A run whose workflow was cached on w3 stalls about 10 s (the SDK's sticky schedule-to-start
 *   timeout) before w2 takes it over; one cached on the SIGTERMed w1 does not. The line printed
 *   at the end gives the runs cached on each worker at the stops and their workflow task timeouts.
 */
import type { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import { startDagRun, type StartedRun } from '../../server/client/start-run';
import { waitForOutcome } from '../../server/client/wait';
import { loadDags } from '../../server/dag-registry';
import { uniqueLogicalDate } from '../support/dag-runs';
import { testPgPool, testTemporal } from '../support/env';

const { EventType } = temporal.api.enums.v1;
const CLI = path.resolve(__dirname, '../../server/cli/sluice.js');
const SDK = JSON.stringify(path.resolve(__dirname, '../../dags/sdk'));
const Q1 = 'test-scale-q1';
const Q2 = 'test-scale-q2';
const RUNS_PER_DAG = 2;
const TASKS_PER_QUEUE_PER_WAVE = 3;
const TASK_MS = 800;
const SLOTS = 3;

/** Both DAGs use it: records the attempt as it starts, waits, then counts its effect once. */
const WORK_TASK = `import { defineTask } from ${SDK};
export const scaleOutWork = defineTask('scaleOutWork', async (input: { ms: number }, ctx) => {
  const db = ctx.conn.pg('warehouse');
  await db.raw('insert into public.scale_out_attempts (run_id, task_id, attempt, pid) values (?, ?, ?, ?)', [ctx.runId, ctx.taskId, ctx.attempt, process.pid]);
  await new Promise((resolve) => setTimeout(resolve, input.ms));
  await db.raw(
    'insert into public.scale_out_effects (run_id, task_id, n, pids) values (?, ?, 1, array[?]::int[]) on conflict (run_id, task_id) do update set n = scale_out_effects.n + 1, pids = scale_out_effects.pids || excluded.pids',
    [ctx.runId, ctx.taskId, process.pid],
  );
  return process.pid;
});
`;

/** A DAG whose workflow runs on `dagQueue`: wave b<i> after a<i>, each task pinned to q1 or q2 by its id. */
const dagFile = (dagId: string, dagQueue: string) => `import { dag } from ${SDK};
import { scaleOutWork } from './tasks/work';
export default dag(${JSON.stringify(dagId)}, { taskQueue: ${JSON.stringify(dagQueue)}, retries: 3, retryDelay: '500ms', retryBackoff: 1, heartbeatTimeout: '2s' }, ({ task }) => {
  for (const queue of [${JSON.stringify(Q1)}, ${JSON.stringify(Q2)}]) {
    for (let i = 0; i < ${TASKS_PER_QUEUE_PER_WAVE}; i += 1) {
      const first = task(scaleOutWork, { ms: ${TASK_MS} }, { id: \`a_\${queue}_\${i}\`, taskQueue: queue });
      task(scaleOutWork, { ms: ${TASK_MS} }, { id: \`b_\${queue}_\${i}\`, taskQueue: queue }).after(first);
    }
  }
});
`;

const queueOf = (taskId: string) => (taskId.includes(Q1) ? Q1 : Q2);

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-scale-out-'));
let db: pg.Pool;
let client: Client;
let connection: Connection;
const workers: ChildProcess[] = [];
const runIds: string[] = [];

before(async () => {
  mkdirSync(path.join(dir, 'tasks'));
  writeFileSync(path.join(dir, 'tasks/work.ts'), WORK_TASK);
  writeFileSync(path.join(dir, 'scale_out_q1.ts'), dagFile('scale_out_q1', Q1));
  writeFileSync(path.join(dir, 'scale_out_q2.ts'), dagFile('scale_out_q2', Q2));
  db = testPgPool();
  await db.query('create table if not exists public.scale_out_attempts (run_id text not null, task_id text not null, attempt int not null, pid int not null, at timestamptz not null default clock_timestamp())');
  await db.query('create table if not exists public.scale_out_effects (run_id text not null, task_id text not null, n int not null, pids int[] not null, primary key (run_id, task_id))');
  ({ client, connection } = await testTemporal());
});

after(async () => {
  for (const w of workers) w.kill('SIGKILL');
  await Promise.all(workers.map(exitOf));
  await db.query('delete from public.scale_out_attempts where run_id = any($1)', [runIds]);
  await db.query('delete from public.scale_out_effects where run_id = any($1)', [runIds]);
  // Sluice's own record of the runs, so later files' counts of runs and attempts do not see them.
  await db.query('delete from sluice.task_attempts where run_id = any($1)', [runIds]);
  await db.query('delete from sluice.dag_runs where run_id = any($1)', [runIds]);
  await db.end();
  await connection.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `sluice worker --queues <queues>` on the temp DAG folder; resolves once it reports ready. */
async function startWorker(queues: string[]): Promise<ChildProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_DAGS_DIR: dir, LOG_LEVEL: 'warn' };
  // Each process would bind the same metrics or health port.
  delete env.SLUICE_WORKER_METRICS;
  delete env.SLUICE_WORKER_HTTP;
  const child = fork(CLI, ['worker', '--queues', queues.join(','), '--concurrency', String(SLOTS)], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  workers.push(child);
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type?: string }) => m.type === 'ready' && resolve());
    child.once('exit', (code) => reject(new Error(`worker ${queues.join(',')} exited with ${String(code)} before it was ready`)));
  });
  return child;
}

const exitOf = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });

interface AttemptRow {
  run_id: string;
  task_id: string;
  attempt: number;
  pid: number;
}
interface EffectRow {
  run_id: string;
  task_id: string;
  n: number;
  pids: number[];
}

const attempts = async () => (await db.query<AttemptRow>('select run_id, task_id, attempt, pid from public.scale_out_attempts where run_id = any($1) order by at', [runIds])).rows;
const effects = async () => (await db.query<EffectRow>('select run_id, task_id, n, pids from public.scale_out_effects where run_id = any($1)', [runIds])).rows;

/** Attempts started by `pid` with no effect of `pid` yet: what it is running now. */
const runningOn = (pid: number, started: AttemptRow[], done: EffectRow[]) =>
  started.filter((a) => a.pid === pid && !done.some((e) => e.run_id === a.run_id && e.task_id === a.task_id && e.pids.includes(pid)));

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('three workers on two queues share the tasks, and runs survive a SIGTERM and a SIGKILL exactly once', { timeout: 120_000 }, async () => {
  const [w1, w2, w3] = await Promise.all([startWorker([Q1]), startWorker([Q1, Q2]), startWorker([Q2])]);
  const pid = { w1: w1.pid!, w2: w2.pid!, w3: w3.pid! };
  const specs = loadDags(dir);
  assert.deepEqual(specs.errors, []);
  const runs: StartedRun[] = [];
  for (const { spec } of specs.dags) {
    for (let i = 0; i < RUNS_PER_DAG; i += 1) {
      const run = await startDagRun(client, spec, { logicalDate: uniqueLogicalDate(), params: {}, trigger: 'manual' });
      runs.push(run);
      runIds.push(run.runId);
    }
  }
  const outcomes = runs.map((r) => waitForOutcome(r.handle, 250));

  // Spread, and the moment: both queues on two pids each, w1 and w3 each done with a slot's worth
  // of tasks and in the middle of another.
  const moment = await until('tasks on two workers per queue, with w1 and w3 busy', async () => {
    const [started, done] = [await attempts(), await effects()];
    const pidsOf = (queue: string) => new Set(started.filter((a) => queueOf(a.task_id) === queue).map((a) => a.pid));
    const spread = pidsOf(Q1).size >= 2 && pidsOf(Q2).size >= 2;
    const finishedOn = (p: number) => done.filter((e) => e.pids.includes(p)).length;
    const busy = (p: number) => finishedOn(p) >= SLOTS && runningOn(p, started, done).length > 0;
    return spread && busy(pid.w1) && busy(pid.w3) ? { started, done } : undefined;
  });
  const w1Exit = exitOf(w1);
  const w3Exit = exitOf(w3);
  w1.kill('SIGTERM');
  w3.kill('SIGKILL');
  const stoppedAt = Date.now();
  const draining = runningOn(pid.w1, moment.started, moment.done);

  assert.deepEqual(await w1Exit, { code: 0, signal: null }, 'w1 drains and exits 0 on SIGTERM');
  assert.deepEqual(await w3Exit, { code: null, signal: 'SIGKILL' });
  // Known only now: an attempt may have counted its effect between the look above and the kill.
  const killed = runningOn(pid.w3, await attempts(), await effects());

  const results = await Promise.all(outcomes);
  const stopsToDoneMs = Date.now() - stoppedAt;
  for (const [i, result] of results.entries()) assert.equal(result.state, 'success', `${runs[i]!.runId}: ${JSON.stringify(result.tasks.filter((t) => t.state !== 'success'))}`);

  // Exactly one workflow execution per run id (visibility is eventually consistent: poll).
  for (const run of runs) {
    const executions = await until(`${run.runId} closed in visibility`, async () => {
      const found = [];
      for await (const execution of client.workflow.list({ query: `WorkflowId = '${run.runId}'` })) found.push(execution);
      return found.length > 0 && found.every((e) => e.status.name !== 'RUNNING') ? found : undefined;
    });
    assert.deepEqual(executions.map((e) => e.status.name), ['COMPLETED'], `${run.runId}: one completed execution`);
  }

  // Every task's effect is there; what w1 was running when it got SIGTERM finished on w1.
  const started = await attempts();
  const done = await effects();
  const taskIds = [Q1, Q2].flatMap((q) => Array.from({ length: TASKS_PER_QUEUE_PER_WAVE }, (_, i) => [`a_${q}_${i}`, `b_${q}_${i}`]).flat());
  const missing = runIds.flatMap((runId) => taskIds.filter((t) => !done.some((e) => e.run_id === runId && e.task_id === t)).map((t) => `${runId} ${t}`));
  assert.deepEqual(missing, [], 'every task of every run has its effect');
  for (const a of draining) assert.ok(done.some((e) => e.run_id === a.run_id && e.task_id === a.task_id && e.pids.includes(pid.w1)), `${a.run_id} ${a.task_id} finished on the draining w1`);
  // The killed attempts ran again elsewhere: on w2, the only worker left on q2.
  for (const a of killed) assert.ok(started.some((b) => b.run_id === a.run_id && b.task_id === a.task_id && b.attempt > a.attempt && b.pid === pid.w2), `${a.run_id} ${a.task_id} retried on w2`);
  assert.ok(!started.some((a) => queueOf(a.task_id) === Q1 && a.pid === pid.w3), 'q1 tasks never ran on w3');
  assert.ok(!started.some((a) => queueOf(a.task_id) === Q2 && a.pid === pid.w1), 'q2 tasks never ran on w1');

  // No attempt is left 'running' in Sluice's own record: the killed ones are closed as lost.
  await until('every attempt closed in sluice.task_attempts', async () => {
    const { rows } = await db.query<{ n: number }>("select count(*)::int as n from sluice.task_attempts where run_id = any($1) and state = 'running'", [runIds]);
    return rows[0]?.n === 0 ? true : undefined;
  }, 20_000);

  // Where each run's workflow was cached at the stops (the worker of its last workflow task
  // before them), and its workflow task timeouts: a run cached on the killed w3 waits out the
  // SDK's sticky schedule-to-start timeout (10 s) before w2 takes it, most of "stops to done".
  const cachedAt: Record<string, { runs: number; stickyTimeouts: number }> = {};
  for (const run of runs) {
    const events = (await run.handle.fetchHistory()).events ?? [];
    const before = events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED && Number(e.eventTime?.seconds) * 1000 < stoppedAt);
    const identity = before.at(-1)?.workflowTaskStartedEventAttributes?.identity ?? '';
    const worker = Object.entries(pid).find(([, p]) => identity.startsWith(`${p}@`))?.[0] ?? 'none';
    cachedAt[worker] ??= { runs: 0, stickyTimeouts: 0 };
    cachedAt[worker].runs += 1;
    cachedAt[worker].stickyTimeouts += events.filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT).length;
  }
  const duplicates = done.filter((e) => e.n > 1).map((e) => `${e.run_id} ${e.task_id} ×${e.n}`);
  const byWorker = (rows: AttemptRow[]) => JSON.stringify(Object.fromEntries(Object.entries(pid).map(([name, p]) => [name, rows.filter((a) => a.pid === p).length])));
  process.stdout.write(
    `scale-out: ${started.length} attempts of ${runIds.length * taskIds.length} tasks; attempts by worker before the stops ${byWorker(moment.started)}, in all ${byWorker(started)}; ` +
      `w1 drained ${draining.length}, w3 killed with ${killed.length} running; ${duplicates.length} effects repeated${duplicates.length ? ` (${duplicates.join(', ')})` : ''}; stops to all runs done ${stopsToDoneMs} ms; runs cached by worker at the stops ${JSON.stringify(cachedAt)}\n`,
  );
});
