/**
 * Scale-out benchmark, run with `npm run bench:scale`:
 * - throughput of one 2,000-task DAG run served by 1 and by 3 production worker processes
 *   (`sluice worker`) on one task queue. The DAG: `range` makes 2,000 numbers, a task is mapped
 *   over them (2,000 small tasks), `add` sums the outputs (checked): 2,002 tasks,
 *   `maxActiveTasks: 64` as in the other fan-out benchmarks. Two kinds of mapped task:
 *   - `double`, a no-op: the run's workflow, the Temporal server and the cores are the limit;
 *   - `sleepFor` 200 ms (a task waiting on I/O) with 16 task slots a worker (`--concurrency 16`):
 *     a worker's slots are the limit, what adding workers is for.
 *   Rounds alternate 1 and 3 workers; SLUICE_BENCH_SCALE_ROUNDS (default 2).
 * - a production worker's start-up, spawn to its 'ready' message, with a pre-built workflow
 *   bundle (SLUICE_WORKFLOW_BUNDLE, written here by writeWorkflowBundle) and without one (it
 *   bundles `workflows/` itself). SLUICE_BENCH_SCALE_STARTS starts of each (default 3).
 * Prints JSON; asserts only the sum.
 */
import type { Client } from '@temporalio/client';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startDagRun } from '../../server/client/start-run';
import { loadDags } from '../../server/dag-registry';
import { createLogger } from '../../infra/logger';
import { writeWorkflowBundle } from '../../workers/bundle';
import { stateQuery } from '../../workflows/messages';
import type { DagSpec } from '../../workflows/spec';
import { uniqueLogicalDate } from '../support/dag-runs';
import { testConfig, testTemporal } from '../support/env';

const CLI = path.resolve(__dirname, '../../server/cli/sluice.js');
const SDK = JSON.stringify(path.resolve(__dirname, '../../dags/sdk'));
const FIXTURES = JSON.stringify(path.resolve(__dirname, '../fixtures/tasks'));
const TQ = 'bench-scale';
const ELEMENTS = 2000;
const TASKS = ELEMENTS + 2;
const MAX_ACTIVE_TASKS = 64;
const ROUNDS = Number(process.env.SLUICE_BENCH_SCALE_ROUNDS ?? 2);
const STARTS = Number(process.env.SLUICE_BENCH_SCALE_STARTS ?? 3);

const WAIT_MS = 200;

const SCENARIOS = [
  { name: 'no-op tasks', dagId: 'bench_scale_noop', concurrency: undefined, expectedTotal: ELEMENTS * (ELEMENTS - 1) },
  { name: `tasks waiting ${WAIT_MS} ms, 16 slots a worker`, dagId: 'bench_scale_wait', concurrency: 16, expectedTotal: ELEMENTS * WAIT_MS },
];

const DAGS = {
  bench_scale_noop: `import { dag } from ${SDK};
import { add, double, range } from ${FIXTURES};
export default dag('bench_scale_noop', { taskQueue: ${JSON.stringify(TQ)}, maxActiveTasks: ${MAX_ACTIVE_TASKS} }, ({ task, map }) => {
  const numbers = task(range, { n: ${ELEMENTS} });
  task(add, { values: map(double, { over: numbers, input: (v) => ({ value: v }) }, { id: 'mapped' }) }, { id: 'total' });
});
`,
  bench_scale_wait: `import { dag } from ${SDK};
import { add, range, sleepFor } from ${FIXTURES};
export default dag('bench_scale_wait', { taskQueue: ${JSON.stringify(TQ)}, maxActiveTasks: ${MAX_ACTIVE_TASKS} }, ({ task, map }) => {
  const numbers = task(range, { n: ${ELEMENTS} });
  task(add, { values: map(sleepFor, { over: numbers, input: () => ({ ms: ${WAIT_MS} }) }, { id: 'mapped' }) }, { id: 'total' });
});
`,
};

interface StartedWorker {
  child: ChildProcess;
  readyMs: number;
}

/** `sluice worker --queues <TQ>` on `dagsDir`; resolves at its 'ready' message with the time since spawn. */
function startWorker(dagsDir: string, bundle: string | undefined, concurrency?: number): Promise<StartedWorker> {
  const env: NodeJS.ProcessEnv = { ...process.env, SLUICE_DAGS_DIR: dagsDir, LOG_LEVEL: 'warn' };
  delete env.SLUICE_WORKER_METRICS;
  delete env.SLUICE_WORKER_HTTP;
  if (bundle) env.SLUICE_WORKFLOW_BUNDLE = bundle;
  else delete env.SLUICE_WORKFLOW_BUNDLE;
  const spawned = Date.now();
  const flags = concurrency === undefined ? [] : ['--concurrency', String(concurrency)];
  const child = fork(CLI, ['worker', '--queues', TQ, ...flags], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.on('message', (m: { type?: string }) => m.type === 'ready' && resolve({ child, readyMs: Date.now() - spawned }));
    child.once('exit', (code) => reject(new Error(`worker exited with ${String(code)} before it was ready`)));
  });
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, min: sorted[0], p50: sorted[Math.floor(sorted.length / 2)], max: sorted.at(-1) };
};

/** One run of `spec`, start to result; its sum checked. */
async function timeOneRun(client: Client, spec: DagSpec, expectedTotal: number): Promise<{ runId: string; wallMs: number }> {
  const t0 = Date.now();
  const run = await startDagRun(client, spec, { logicalDate: uniqueLogicalDate(), params: {}, trigger: 'manual' });
  await run.handle.result();
  const wallMs = Date.now() - t0;
  const status = await run.handle.query(stateQuery);
  const total = status.tasks.find((t) => t.id === 'total')?.output;
  if (total !== expectedTotal) throw new Error(`${spec.dagId}: wrong sum ${String(total)}`);
  return { runId: run.runId, wallMs };
}

async function main(): Promise<void> {
  const dagsDir = mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-scale-'));
  for (const [dagId, source] of Object.entries(DAGS)) writeFileSync(path.join(dagsDir, `${dagId}.ts`), source);
  const { client, connection } = await testTemporal();
  const db = new pg.Pool({ connectionString: testConfig().postgres.databaseUrl, max: 2 });
  const workers: ChildProcess[] = [];
  try {
    const bundleStarted = Date.now();
    const bundle = await writeWorkflowBundle(dagsDir, createLogger('bench'));
    console.log(JSON.stringify({ measure: 'workflow bundle build', ms: Date.now() - bundleStarted }));

    // Start-up, one worker at a time, alternating with and without the bundle.
    const startup: Record<'withBundle' | 'withoutBundle', number[]> = { withBundle: [], withoutBundle: [] };
    for (let i = 0; i < STARTS; i += 1) {
      for (const kind of ['withBundle', 'withoutBundle'] as const) {
        const { child, readyMs } = await startWorker(dagsDir, kind === 'withBundle' ? bundle : undefined);
        startup[kind].push(readyMs);
        await stopWorker(child);
      }
    }
    console.log(JSON.stringify({ measure: 'worker start-up, spawn to ready (ms)', withBundle: stats(startup.withBundle), withoutBundle: stats(startup.withoutBundle) }));

    const loaded = loadDags(dagsDir);
    for (const scenario of SCENARIOS) {
      const spec = loaded.dags.find((d) => d.spec.dagId === scenario.dagId)!.spec;
      for (let round = 0; round < ROUNDS; round += 1) {
        for (const count of [1, 3]) {
          const started = await Promise.all(Array.from({ length: count }, () => startWorker(dagsDir, bundle, scenario.concurrency)));
          workers.push(...started.map((w) => w.child));
          const measured = await timeOneRun(client, spec, scenario.expectedTotal);
          for (const w of started) await stopWorker(w.child);
          // Stopped workers have flushed their attempt journals: the split between them is complete.
          const { rows } = await db.query<{ n: number }>('select count(*)::int as n from sluice.task_attempts where run_id = $1 group by worker order by n desc', [measured.runId]);
          console.log(
            JSON.stringify({
              scenario: scenario.name,
              round,
              workers: count,
              tasks: TASKS,
              maxActiveTasks: MAX_ACTIVE_TASKS,
              wallSeconds: Math.round(measured.wallMs / 100) / 10,
              tasksPerSecond: Math.round(TASKS / (measured.wallMs / 1000)),
              attemptsByWorker: rows.map((r) => r.n),
              loadAverage: os.loadavg().map((l) => Math.round(l * 10) / 10),
            }),
          );
        }
      }
    }
  } finally {
    for (const w of workers) w.kill('SIGKILL');
    await db.end();
    await connection.close();
    rmSync(dagsDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
