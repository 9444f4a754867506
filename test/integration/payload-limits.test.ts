/**
 * A task whose input is too large for Temporal (here a fan-in of 140 upstream outputs of 8 KB
 * each, every one small enough to stay inline) fails at once with an error that says what to do,
 * without an attempt, and the run waits for an operator. Without the check the server refused
 * the workflow task that scheduled it, again and again, and the run hung without an error.
 * (A single output over the limit is offloaded to S3: test/chaos/races.test.ts.)
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { dag, defineTask } from '../../dags/sdk';
import { compileOrThrow, startRun, waitForStatus } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-payload-limits';
const PARTS = 140;
/** Just under the 8 KB an output may take inline. */
const part = defineTask('payloadPart', async (input: { i: number }) => `${input.i}:`.padEnd(8_000, 'x'));
const collect = defineTask('payloadCollect', async (input: { parts: string[] }) => input.parts.length);

let worker: TestWorker;
before(async () => {
  worker = await startTestWorker([part, collect], TQ);
});
after(async () => {
  await worker?.stop();
});

test(`a task fed ${PARTS} inline outputs of 8 KB (1.1 MB) fails at once with a clear error; the run waits for an operator`, { timeout: 120_000 }, async () => {
  const spec = compileOrThrow(
    dag('payload_fan_in', { taskQueue: TQ, operatorWindow: '1m', maxActiveTasks: 32 }, ({ task }) => {
      const parts = Array.from({ length: PARTS }, (_, i) => task(part, { i }, { id: `part${i}` }));
      task(collect, { parts }, { id: 'collect' });
    }),
    [part, collect],
  );
  const run = await startRun(worker.client, spec);
  const status = await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator', 90_000);
  const collected = status.tasks.find((t) => t.id === 'collect')!;
  assert.equal(collected.state, 'failed');
  assert.equal(collected.attempts, 0, 'no attempt was scheduled');
  assert.match(collected.error ?? '', /input is 1\.1 MB of JSON, over the 1 MB .* pass S3 keys/);
  assert.equal(status.tasks.filter((t) => t.state === 'success').length, PARTS, 'every upstream task succeeded');
  await run.handle.terminate('test over');
});
