/**
 * A worker SIGKILLed in the middle of a task: the attempt stops heartbeating, Temporal times it
 * out, the run retries it on another worker at once (without using up the task's retries), and
 * the lost attempt's row in `sluice.task_attempts` is closed with the reason.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { test } from 'node:test';
import { dag } from '../../dags/sdk';
import { listAttempts } from '../../server/client/run-history';
import { hangsOnce, testTasks } from '../fixtures/tasks';
import { compileOrThrow, startRun, waitForStatus } from '../support/dag-runs';
import { startTestWorker } from '../support/test-worker';

const TQ = 'test-lost-worker';

test('a task whose worker was killed is retried on another worker within its heartbeat timeout', { timeout: 120_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../support/worker-child.ts'), TQ], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
  await ready;
  // Serves another queue: the test uses its client and database pool to watch the run.
  const observer = await startTestWorker(testTasks, `${TQ}-observer`);
  try {
    const spec = compileOrThrow(
      // No retries: a lost worker must not use up the task's own.
      dag('lost_worker', { taskQueue: TQ, heartbeatTimeout: '3s', retries: 0 }, ({ task }) => void task(hangsOnce, { ms: 600_000 })),
      testTasks,
    );
    const run = await startRun(observer.client, spec);
    await waitForStatus(run.handle, (s) => s.tasks[0]?.state === 'running');
    // Give the attempt time to record its start, as it would in the middle of real work.
    const deadline = Date.now() + 10_000;
    while ((await listAttempts(observer.resources.warehouse, run.runId)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    await once(child, 'exit');
    const killedAt = Date.now();
    // The only worker left for the queue starts now.
    const replacement = await startTestWorker(testTasks, TQ);
    try {
      const result = await run.handle.result();
      assert.deepEqual(result.tasks, { hangsOnce: 'success' });
      assert.ok(Date.now() - killedAt < 30_000, `retried ${Date.now() - killedAt} ms after the kill`);
      const attempts = await listAttempts(observer.resources.warehouse, run.runId);
      assert.deepEqual(attempts.map((a) => [a.attempt, a.state]), [[1, 'failed'], [2, 'success']]);
      assert.equal(attempts[0]?.error, 'attempt lost: no heartbeat for 3s (its worker stopped or hung)');
    } finally {
      await replacement.stop();
    }
  } finally {
    child.kill('SIGKILL');
    await observer.stop();
  }
});
