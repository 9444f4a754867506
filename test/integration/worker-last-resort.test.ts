/**
 * `sluice worker` against a task's bugs (issue 8, item 1): a promise rejection nobody handles is
 * logged and the worker keeps serving; an uncaught exception makes it stop taking tasks, let the
 * running ones finish and exit 1. Either way the task another run has in flight completes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { loadDags } from '../../server/dag-registry';
import { startDagRun, type StartedRun } from '../../server/client/start-run';
import { uniqueLogicalDate, waitForStatus } from '../support/dag-runs';
import { testPgPool, testTemporal } from '../support/env';

const SLUICE = path.resolve(__dirname, '../../server/cli/sluice.js');
const SDK = JSON.stringify(path.resolve(__dirname, '../../dags/sdk'));
const NAP_MS = 4_000;

/** Two DAGs on `queue`: `steady` naps, `buggy` does what `bug` says after its task returned. */
function writeDagFolder(queue: string, bug: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-last-resort-dags-'));
  fs.mkdirSync(path.join(dir, 'tasks'));
  fs.writeFileSync(
    path.join(dir, 'tasks/steps.ts'),
    `import { defineTask } from ${SDK};
export const nap = defineTask('nap', async (input: { ms: number }) => {
  await new Promise((resolve) => setTimeout(resolve, input.ms));
  return 'rested';
});
export const bug = defineTask('bug', async () => {
  setTimeout(() => { ${bug} }, 10);
  return 'returned';
});
`,
  );
  for (const [name, body] of [
    ['steady', `task(nap, { ms: ${NAP_MS} })`],
    ['buggy', 'task(bug, {})'],
  ] as const) {
    fs.writeFileSync(
      path.join(dir, `${name}.ts`),
      `import { dag } from ${SDK};
import { bug, nap } from './tasks/steps';
export default dag('${queue}_${name}', { taskQueue: '${queue}', retries: 0 }, ({ task }) => void ${body});
`,
    );
  }
  return dir;
}

interface ChildWorker {
  /** Starts a run of one of the folder's DAGs. */
  start(dagId: string): Promise<StartedRun>;
  /** The run's final state; fails at once if the worker exits first. */
  result(run: StartedRun): Promise<string>;
  /** Everything the worker printed so far. */
  output(): string;
  /** Its exit code, once it exits. */
  exit(): Promise<number | null>;
  exited(): boolean;
}

/** Runs `body` with a `sluice worker` serving `queue` for the DAGs of `writeDagFolder`. */
async function withWorker(queue: string, bug: string, body: (w: ChildWorker) => Promise<void>): Promise<void> {
  const dir = writeDagFolder(queue, bug);
  const env = { ...process.env, SLUICE_DAGS_DIR: dir, LOG_LEVEL: 'info' };
  const worker = spawn(process.execPath, [SLUICE, 'worker', '--queues', queue], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  worker.stdout.on('data', (d) => (output += d));
  worker.stderr.on('data', (d) => (output += d));
  let gone = false;
  const exit = new Promise<number | null>((resolve) => worker.on('exit', (code) => ((gone = true), resolve(code))));
  const { client, connection } = await testTemporal();
  const runs: StartedRun[] = [];
  try {
    for (let waited = 0; !output.includes(`serving ${queue}`); waited += 100) {
      if (waited > 30_000 || gone) throw new Error(`the worker did not start; its output:\n${output}`);
      await sleep(100);
    }
    const dags = loadDags(dir).dags;
    const start = async (dagId: string) => {
      const spec = dags.find((d) => d.spec.dagId === dagId)?.spec;
      assert.ok(spec, dagId);
      const run = await startDagRun(client, spec, { logicalDate: uniqueLogicalDate(), params: {}, trigger: 'manual' });
      runs.push(run);
      return run;
    };
    const result = (run: StartedRun) =>
      Promise.race([
        run.handle.result().then((r) => r.state),
        exit.then((code) => Promise.reject(new Error(`the worker exited (code ${String(code)}) before ${run.runId} ended; its output:\n${output}`))),
      ]);
    await body({ start, result, output: () => output, exit: () => exit, exited: () => gone });
  } finally {
    worker.kill('SIGKILL');
    for (const run of runs) await run.handle.terminate('test over').catch(() => undefined);
    await connection.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a promise rejection a task leaves unhandled is logged, and the worker keeps serving', { timeout: 90_000 }, async () => {
  const queue = 'last_resort_rejection';
  await withWorker(queue, "void Promise.reject(new Error('leaked on purpose'));", async (w) => {
    const steady = await w.start(`${queue}_steady`);
    await waitForStatus(steady.handle, (s) => s.tasks[0]?.state === 'running');
    const buggy = await w.start(`${queue}_buggy`);
    assert.equal(await w.result(buggy), 'success');
    // The same worker goes on: the run in flight finishes, and a new one runs.
    assert.equal(await w.result(steady), 'success');
    assert.equal(await w.result(await w.start(`${queue}_buggy`)), 'success');
    assert.equal(w.exited(), false, w.output());
    assert.match(w.output(), /a promise rejection nobody handled \(a bug\); the worker keeps serving/);
    assert.match(w.output(), /leaked on purpose/);
  });
});

test('an uncaught exception stops the worker taking tasks; the running ones finish; it exits 1', { timeout: 90_000 }, async () => {
  const queue = 'last_resort_exception';
  const db = testPgPool();
  try {
    await withWorker(queue, "throw new Error('thrown on purpose');", async (w) => {
      const steady = await w.start(`${queue}_steady`);
      await waitForStatus(steady.handle, (s) => s.tasks[0]?.state === 'running');
      const started = Date.now();
      await w.start(`${queue}_buggy`);
      assert.equal(await w.exit(), 1, w.output());
      assert.ok(Date.now() - started < 30_000);
      assert.match(w.output(), /an uncaught exception \(a bug\)/);
      assert.match(w.output(), /uncaught exception: stopped polling; waiting for running tasks to finish/);
      // The nap ran to its end on the stopping worker, and its end was recorded before it exited.
      const { rows } = await db.query<{ state: string }>(`select state from sluice.task_attempts where run_id = $1`, [steady.runId]);
      assert.deepEqual(rows.map((r) => r.state), ['success']);
    });
  } finally {
    await db.end();
  }
});
