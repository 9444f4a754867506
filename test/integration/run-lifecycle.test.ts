/**
 * What an operator meets outside the happy path, on the real stack: operator messages as the
 * Temporal UI sends them (task ids or the activity names its timeline shows, bare or as objects;
 * a Signal the run cannot apply is recorded on the run, an Update refused without a stack),
 * "Request Cancellation", and runs whose sensors and mapped tasks would outgrow Temporal's
 * history, which continue as new without losing or repeating work.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { callback, dag } from '../../dags/sdk';
import { s3KeySensor } from '../../activities/sensors';
import { stateQuery, type DagRunInput } from '../../workflows/messages';
import { DagRunStateKey } from '../../workflows/search-attributes';
import { add, alwaysFail, double, echo, needsObject, range, testTasks, writeMarker } from '../fixtures/tasks';
import { attemptCounts, compileOrThrow, startRun, taskStates, uniqueLogicalDate, waitForStatus } from '../support/dag-runs';
import { recordHistory } from '../support/histories';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-lifecycle';
const catalog = [...testTasks, s3KeySensor];
let w: TestWorker;

before(async () => {
  w = await startTestWorker(catalog, TQ);
});
after(async () => {
  await w?.stop();
});

const put = (key: string) => w.resources.s3.send(new PutObjectCommand({ Bucket: w.resources.bucket, Key: key, Body: 'x' }));
describe('operator messages', { concurrency: true }, () => {
  test("a task is named by its id or by the activity name the Temporal UI's timeline shows; a Signal the run cannot apply is recorded as a warning", async () => {
    const key = `test/lifecycle/${Date.now()}/input`;
    const spec = compileOrThrow(
      dag('ui_names', { taskQueue: TQ }, ({ task }) => {
        task(echo, { label: 'a' }, { id: 'first' });
        task(echo, { label: 'b' }, { id: 'second' });
        task(needsObject, { key }, { id: 'load' });
      }),
      catalog,
    );
    const run = await startRun(w.client, spec);
    await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator');
    // 'echo' is the activity of two tasks: ambiguous, so the Signal is refused, on the record.
    await run.handle.signal('markTaskSuccess', 'echo');
    const warned = await waitForStatus(run.handle, (s) => (s.warnings?.length ?? 0) > 0);
    assert.match(warned.warnings?.[0]?.message ?? '', /^markTaskSuccess "echo" ignored: 'echo' is the activity of tasks first, second: name the task id$/);
    // An Update is refused with the reason alone: no stack, no worker file paths.
    await assert.rejects(run.handle.executeUpdate('retryTask', { args: [{ taskId: 'ghost' }] }), (err: Error) => {
      assert.ok(err instanceof WorkflowUpdateFailedError);
      const cause = err.cause as Error;
      assert.match(cause.message, /^unknown task 'ghost' \(tasks: first, second, load\)$/);
      assert.doesNotMatch(String(cause.stack), /\.ts|\/work\/|node_modules/);
      return true;
    });
    // The activity name of the one task that runs it works, as an object too.
    await put(key);
    await run.handle.signal('retryTask', { taskId: 'needsObject' });
    await run.handle.result();
    assert.deepEqual(await attemptCounts(w.resources.warehouse, run.runId), { first: 1, second: 1, load: 2 });
  });

  test('"Request Cancellation" fails the run everywhere, with its failure callback', async () => {
    const marker = `test/lifecycle/${Date.now()}/cancelled`;
    const spec = compileOrThrow(
      dag('cancelled_run', { taskQueue: TQ, onFailure: callback(writeMarker, { key: marker }) }, ({ task }) => {
        task(alwaysFail, { message: 'waits for an operator' });
      }),
      catalog,
    );
    const run = await startRun(w.client, spec);
    await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator');
    await run.handle.cancel();
    await assert.rejects(run.handle.result(), (err: Error) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(String(err.cause?.message), /failed: cancelled \(failed tasks: alwaysFail\)/);
      return true;
    });
    const status = await run.handle.query(stateQuery);
    assert.deepEqual([status.state, status.reason], ['failed', 'cancelled']);
    const row = await w.resources.warehouse.withSchema('sluice').table('dag_runs').where('run_id', run.runId).first();
    assert.equal(row.state, 'failed');
    assert.deepEqual((await run.handle.describe()).typedSearchAttributes.get(DagRunStateKey), 'failed');
    assert.ok(await w.objectExists(marker), 'the failure callback ran');
    await recordHistory(run.handle, 'cancelled');
  });
});

describe('long runs continue as new', { concurrency: true }, () => {
  const startLong = async (spec: ReturnType<typeof compileOrThrow>, continueAsNewAfterEvents: number) => {
    const logicalDate = uniqueLogicalDate().toISOString();
    const input: DagRunInput = { spec, logicalDate, params: {}, continueAsNewAfterEvents };
    const runId = `${spec.dagId}-${logicalDate}`;
    return w.client.workflow.start('dagRun', { workflowId: runId, taskQueue: TQ, args: [input] });
  };

  test('a sensor poking past the history budget continues as new, keeping its deadline and attempt count', async () => {
    const key = `test/lifecycle/${Date.now()}/late.flag`;
    const spec = compileOrThrow(
      dag('long_sensor', { taskQueue: TQ }, ({ task, sensor }) => {
        const ready = sensor(s3KeySensor, { key }, { pokeInterval: '100ms', timeout: '5m' });
        task(echo, { label: 'after' }, { id: 'after' }).after(ready);
      }),
      catalog,
    );
    const handle = await startLong(spec, 40);
    const first = (await handle.describe()).runId;
    // Enough pokes for a few executions' worth of history.
    await waitForStatus(handle, (s) => (s.tasks[0]?.attempts ?? 0) >= 25, 60_000);
    await put(key);
    const result = await w.client.workflow.getHandle(handle.workflowId).result();
    assert.deepEqual(result.tasks, { s3KeySensor: 'success', after: 'success' });
    const latest = await w.client.workflow.getHandle(handle.workflowId).describe();
    assert.notEqual(latest.runId, first, 'the run continued as new');
    const status = await w.client.workflow.getHandle(handle.workflowId).query(stateQuery);
    const pokes = status.tasks[0]?.attempts ?? 0;
    assert.ok(pokes >= 25, `attempt numbers go on across executions (${pokes})`);
    const rows = await w.resources.warehouse.withSchema('sluice').table('dag_runs').where('run_id', handle.workflowId);
    assert.deepEqual(rows.map((r) => [r.temporal_run_id, r.state]), [[first, 'success']], 'one run on record, under its first execution');
    const counts = await attemptCounts(w.resources.warehouse, handle.workflowId);
    assert.deepEqual(counts, { s3KeySensor: pokes, after: 1 });
    const attemptExecutions = await w.resources.warehouse.withSchema('sluice').table('task_attempts').where('run_id', handle.workflowId).distinct('temporal_run_id');
    assert.deepEqual(attemptExecutions.map((r) => r.temporal_run_id), [first], 'attempts are kept under the first execution too');
    await recordHistory(w.client.workflow.getHandle(handle.workflowId, first), 'continue-as-new');
  });

  test('a mapped task cut by continue-as-new runs each instance once and reduces every output', async () => {
    const spec = compileOrThrow(
      dag('long_map', { taskQueue: TQ, maxActiveTasks: 2 }, ({ task, map }) => {
        const numbers = task(range, { n: 40 });
        task(add, { values: map(double, { over: numbers, input: (n) => ({ value: n }) }) });
      }),
      catalog,
    );
    const handle = await startLong(spec, 60);
    const first = (await handle.describe()).runId;
    const result = await w.client.workflow.getHandle(handle.workflowId).result();
    assert.deepEqual(result.tasks, { range: 'success', double: 'success', add: 'success' });
    assert.notEqual((await w.client.workflow.getHandle(handle.workflowId).describe()).runId, first, 'the run continued as new');
    const status = await w.client.workflow.getHandle(handle.workflowId).query(stateQuery);
    assert.equal(status.tasks.find((t) => t.id === 'add')?.output, 2 * ((39 * 40) / 2));
    const perInstance = await w.resources.warehouse
      .withSchema('sluice')
      .table('task_attempts')
      .where({ run_id: handle.workflowId, task_id: 'double' })
      .groupBy('map_index')
      .select('map_index')
      .count<Array<{ map_index: number; count: string }>>('* as count');
    assert.equal(perInstance.length, 40);
    assert.ok(perInstance.every((r) => Number(r.count) === 1), 'each instance ran once');
    assert.deepEqual(taskStates(status), { range: 'success', double: 'success', add: 'success' });
  });
});
