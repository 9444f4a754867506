/**
 * Mapped tasks over more than 5,000 elements (issue 11), on the real stack: they run in
 * `mapBatch` child workflows of 2,000 instances, transparently to the DAG: the reduce gets every
 * output in order, the `state` query summarises the instances instead of listing them, and an
 * operator's retry re-runs only the failed instances. The 50,000-element run is in
 * `npm run bench:map`, which is too long for this suite.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { dag } from '../../dags/sdk';
import { retryRun } from '../../server/client/operator';
import { stateQuery } from '../../workflows/messages';
import { add, doubleUnlessBroken, range, testTasks } from '../fixtures/tasks';
import { compileOrThrow, startRun, waitForStatus } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-large-map';
const N = 6_500;
const BROKEN = [7, 4_001, 6_499];

let worker: TestWorker;

before(async () => {
  worker = await startTestWorker(testTasks, TQ);
});

after(async () => {
  await worker?.stop();
});

function largeMap(dagId: string, fixKey: string) {
  return compileOrThrow(
    dag(dagId, { taskQueue: TQ, maxActiveTasks: 64, operatorWindow: '2m' }, ({ task, map }) => {
      const numbers = task(range, { n: N });
      const doubled = map(doubleUnlessBroken, { over: numbers, input: (n) => ({ value: n, broken: BROKEN, fixKey }) }, { id: 'doubled' });
      task(add, { values: doubled }, { id: 'total' });
    }),
    testTasks,
  );
}

test(`a map over ${N.toLocaleString('en')} elements runs in child workflows; failed instances alone re-run`, async () => {
  const fixKey = `test-large-map/fix-${Date.now()}`;
  const run = await startRun(worker.client, largeMap('large_map', fixKey));

  // Three instances fail: the task fails with their indexes, and the run waits for an operator.
  const failed = await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator', 240_000);
  const doubled = failed.tasks.find((t) => t.id === 'doubled')!;
  assert.equal(doubled.state, 'failed');
  assert.equal(doubled.mapped, undefined, 'no per-instance list past 1,000 instances');
  assert.deepEqual(doubled.mapSummary, { total: N, counts: { success: N - BROKEN.length, failed: BROKEN.length }, failedIndexes: BROKEN });
  assert.match(doubled.error ?? '', /3 of 6500 mapped instances failed \(indexes 7, 4001, 6499\)/);
  assert.equal(doubled.attempts, N);

  // The children are real workflows, one per 2,000 instances.
  const batches = Math.ceil(N / 2_000);
  let children: string[] = [];
  // Visibility lags history by a moment.
  for (const deadline = Date.now() + 15_000; children.length < batches && Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
    children = [];
    for await (const w of worker.client.workflow.list({ query: `WorkflowType = 'mapBatch' AND WorkflowId STARTS_WITH '${run.handle.workflowId}~'` })) children.push(w.workflowId);
  }
  assert.equal(children.length, batches);

  await worker.resources.s3.send(new PutObjectCommand({ Bucket: worker.resources.bucket, Key: fixKey, Body: 'fixed' }));
  await retryRun(worker.client, run.handle.workflowId);
  await run.handle.result();

  const done = await run.handle.query(stateQuery);
  const after = done.tasks.find((t) => t.id === 'doubled')!;
  assert.deepEqual(after.mapSummary, { total: N, counts: { success: N }, failedIndexes: [] });
  // Only the broken elements ran again, and only the batches that held them started again.
  assert.equal(after.attempts, N + BROKEN.length);
  const total = done.tasks.find((t) => t.id === 'total')!;
  assert.equal(total.output, N * (N - 1), 'the reduce got every doubled element');

  const attempts = await worker.resources.warehouse.withSchema('sluice').table('task_attempts').where({ run_id: run.handle.workflowId, task_id: 'doubled' }).count<{ count: string }[]>('* as count');
  assert.equal(Number(attempts[0]!.count), N + BROKEN.length, 'every instance attempt is on record');
});

test('a map over more than 100,000 elements fails with a clear error', async () => {
  const spec = compileOrThrow(
    dag('too_large_map', { taskQueue: TQ }, ({ task, map }) => {
      const numbers = task(range, { n: 100_001 });
      map(doubleUnlessBroken, { over: numbers, input: (n) => ({ value: n, broken: [], fixKey: 'none' }) }, { id: 'doubled' });
    }),
    testTasks,
  );
  const run = await startRun(worker.client, { ...spec, operatorWindowMs: 0 });
  await assert.rejects(run.handle.result(), (err: unknown) => {
    assert.ok(err instanceof WorkflowFailedError);
    return true;
  });
  const status = await run.handle.query(stateQuery);
  assert.match(status.tasks.find((t) => t.id === 'doubled')!.error ?? '', /100001 elements; the limit is 100000/);
});
