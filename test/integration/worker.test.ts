/**
 * `sluice worker`, the production worker process, against the test stack: it serves the queues
 * it is given with the tasks of its DAG folder, serves the Temporal SDK's Prometheus metrics where
 * SLUICE_WORKER_METRICS says, and on SIGTERM it stops polling, lets the task it is running finish,
 * and exits 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { findFreePorts } from '../../infra/dev-stack/ports';
import { runCli } from '../support/cli';
import { testPgPool, testTemporal } from '../support/env';

const SLUICE = path.resolve(__dirname, '../../server/cli/sluice.js');
const SDK = JSON.stringify(path.resolve(__dirname, '../../dags/sdk'));
const NAP_MS = 2_000;

test('sluice worker serves its queues and lets a running task finish on SIGTERM', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-worker-dags-'));
  mkdirSync(path.join(dir, 'tasks'));
  writeFileSync(path.join(dir, 'tasks/nap.ts'), `import { defineTask } from ${SDK};
export const nap = defineTask('nap', async (input: { ms: number }) => {
  await new Promise((resolve) => setTimeout(resolve, input.ms));
  return { slept: input.ms };
});
`);
  writeFileSync(path.join(dir, 'nap.ts'), `import { dag } from ${SDK};
import { nap } from './tasks/nap';
export default dag('worker_nap', { taskQueue: 'worker-test' }, ({ task }) => void task(nap, { ms: ${NAP_MS} }));
`);
  const [metricsPort] = await findFreePorts(1);
  const env = { ...process.env, SLUICE_DAGS_DIR: dir, LOG_LEVEL: 'info', SLUICE_WORKER_METRICS: `127.0.0.1:${String(metricsPort)}` };
  const worker = spawn(process.execPath, [SLUICE, 'worker', '--queues', 'worker-test', '--concurrency', '2'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  worker.stdout.on('data', (d) => (output += d));
  worker.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => worker.on('close', resolve));
  const db = testPgPool();
  const { client, connection } = await testTemporal();
  let runId: string | undefined;
  try {
    await until(() => output.includes('serving worker-test with 1 task: nap'), () => output);
    const trigger = await runCli(['trigger', 'worker_nap', '--json'], env);
    assert.equal(trigger.code, 0, trigger.stderr);
    runId = (JSON.parse(trigger.stdout) as { runId: string }).runId;
    const attempt = async () =>
      (await db.query<{ state: string; ms: number }>(
        `select state, extract(epoch from ended_at - started_at) * 1000 as ms from sluice.task_attempts where run_id = $1 and task_id = 'nap'`,
        [runId],
      )).rows[0];
    await until(async () => (await attempt())?.state === 'running', () => output);

    // SLUICE_WORKER_METRICS: the SDK's Prometheus metrics, the running task holding a slot.
    const metrics = await (await fetch(`http://127.0.0.1:${String(metricsPort)}/metrics`)).text();
    assert.match(metrics, /^temporal_worker_task_slots_available\{[^}]*task_queue="worker-test"[^}]*\} \d+/m, metrics.slice(0, 2000));
    assert.match(metrics, /^temporal_activity_poll_no_task|^temporal_workflow_task_schedule_to_start_latency|^temporal_request/m);

    worker.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /SIGTERM: stopped polling; waiting for running tasks to finish/);
    const finished = await attempt();
    assert.equal(finished?.state, 'success', 'the task ran to its end on the stopping worker');
    assert.ok(Number(finished?.ms) >= NAP_MS, `it took ${finished?.ms} ms`);
  } finally {
    worker.kill('SIGKILL');
    // No worker is left to finish the run: it would wait on its queue forever.
    if (runId) await client.workflow.getHandle(runId).terminate('test over').catch(() => undefined);
    await connection.close();
    await db.end();
    rmSync(dir, { recursive: true, force: true });
  }
});

async function until(probe: () => boolean | Promise<boolean>, context: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
