/**
 * The `dagRun` interpreter on a real Temporal dev server, with a real worker writing attempts to
 * Postgres and outputs to S3. Each test builds its DAG with the authoring SDK, as a user would.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { s3KeySensor } from '../../activities/sensors';
import { callback, dag } from '../../dags/sdk';
import { failRun, markTaskSuccess, retryRun } from '../../server/client/operator';
import { listAttempts } from '../../server/client/run-history';
import { TRIGGER_RULES } from '../../workflows/spec';
import { add, alwaysFail, double, echo, flaky, needsObject, pickSide, range, sleepFor, testTasks, writeMarker } from '../fixtures/tasks';
import { attemptCounts, compileOrThrow, startRun, taskStates, waitForStatus } from '../support/dag-runs';
import { recordHistory } from '../support/histories';
import { runCli } from '../support/cli';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-interpreter';
const catalog = [...testTasks, s3KeySensor];
let w: TestWorker;

before(async () => {
  w = await startTestWorker(catalog, TQ);
});
after(async () => {
  await w?.stop();
});

describe('dagRun', { concurrency: true }, () => {
  test('a diamond runs each task once, passing outputs along its edges', async () => {
    const spec = compileOrThrow(
      dag('diamond', { taskQueue: TQ }, ({ task }) => {
        const a = task(echo, { label: 'a' }, { id: 'a' });
        const b = task(echo, { label: 'b', from: a.field('label') }, { id: 'b' });
        const c = task(echo, { label: 'c', from: a.field('label') }, { id: 'c' });
        task(echo, { label: 'd', from: [b.field('label'), c.field('label')] }, { id: 'd' });
      }),
      catalog,
    );
    const run = await startRun(w.client, spec);
    const result = await run.handle.result();
    assert.deepEqual(result.tasks, { a: 'success', b: 'success', c: 'success', d: 'success' });
    const status = await waitForStatus(run.handle, (s) => s.state === 'success');
    assert.deepEqual(status.tasks.find((t) => t.id === 'd')?.output, { label: 'd', task: 'd', from: ['b', 'c'] });
    const attempts = await listAttempts(w.resources.warehouse, run.runId);
    const started = (id: string) => attempts.find((a) => a.taskId === id)?.startedAt ?? '';
    const ended = (id: string) => attempts.find((a) => a.taskId === id)?.endedAt ?? '';
    assert.ok(started('b') >= ended('a') && started('c') >= ended('a'), 'b and c start after a');
    assert.ok(started('d') >= ended('b') && started('d') >= ended('c'), 'd starts after b and c');
    assert.deepEqual(await attemptCounts(w.resources.warehouse, run.runId), { a: 1, b: 1, c: 1, d: 1 });
    await recordHistory(run.handle, 'diamond');
  });

  test('every trigger rule decides as Airflow does, given one succeeded and one failed upstream', async () => {
    const spec = compileOrThrow(
      dag('trigger_rules', { taskQueue: TQ }, ({ task }) => {
        const ok = task(echo, { label: 'ok' }, { id: 'ok' });
        const bad = task(alwaysFail, { message: 'broken on purpose' }, { id: 'bad' });
        for (const rule of TRIGGER_RULES) task(echo, { label: rule }, { id: rule, triggerRule: rule }).after(ok, bad);
      }),
      catalog,
    );
    const run = await startRun(w.client, spec);
    const status = await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator');
    assert.deepEqual(taskStates(status), {
      ok: 'success',
      bad: 'failed',
      all_success: 'upstream_failed',
      all_failed: 'skipped',
      all_done: 'success',
      one_success: 'success',
      one_failed: 'success',
      none_failed: 'upstream_failed',
      none_failed_min_one_success: 'upstream_failed',
      always: 'success',
    });
    assert.equal(status.tasks.find((t) => t.id === 'bad')?.error, 'TestFailure: broken on purpose');
    await failRun(w.client, run.runId, 'test done');
    await assert.rejects(run.handle.result(), WorkflowFailedError);
  });

  test('retries back off exponentially and count attempts', async () => {
    const spec = compileOrThrow(
      dag('retries', { taskQueue: TQ }, ({ task }) => {
        task(flaky, { succeedOnAttempt: 3 }, { retries: 3, retryDelay: 500, retryBackoff: 2 });
      }),
      catalog,
    );
    const run = await startRun(w.client, spec);
    await run.handle.result();
    const attempts = await listAttempts(w.resources.warehouse, run.runId, 'flaky');
    assert.deepEqual(attempts.map((a) => [a.attempt, a.state]), [[1, 'failed'], [2, 'failed'], [3, 'success']]);
    const gap = (i: number) => Date.parse(attempts[i + 1]?.startedAt ?? '') - Date.parse(attempts[i]?.endedAt ?? '');
    assert.ok(gap(0) >= 450, `first backoff ${gap(0)} ms ≥ 500 ms`);
    assert.ok(gap(1) >= 950, `second backoff ${gap(1)} ms ≥ 1000 ms`);
    assert.equal(attempts[0]?.error, 'flaky attempt 1');
    await recordHistory(run.handle, 'retries');
  });

  test('an attempt over its execution timeout fails with a timeout error', async () => {
    const spec = compileOrThrow(
      dag('timeouts', { taskQueue: TQ, operatorWindow: '1s' }, ({ task }) => {
        task(sleepFor, { ms: 5_000 }, { executionTimeout: '1s' });
      }),
      catalog,
    );
    const run = await startRun(w.client, spec);
    const status = await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator' || s.state === 'failed');
    assert.match(status.tasks[0]?.error ?? '', /timed out \(START_TO_CLOSE/);
    await assert.rejects(run.handle.result(), WorkflowFailedError);
  });

  test('fan-out over 1,000 mapped tasks, then a reduce', async () => {
    const spec = compileOrThrow(
      dag('fan_out', { taskQueue: TQ, maxActiveTasks: 64 }, ({ task, map }) => {
        const numbers = task(range, { n: 1000 });
        const doubled = map(double, { over: numbers, input: (n) => ({ value: n }) });
        task(add, { values: doubled });
      }),
      catalog,
    );
    const run = await startRun(w.client, spec);
    await run.handle.result();
    const status = await waitForStatus(run.handle, (s) => s.state === 'success');
    assert.equal(status.tasks.find((t) => t.id === 'add')?.output, 2 * ((999 * 1000) / 2));
    assert.equal(status.tasks.find((t) => t.id === 'double')?.mapped?.length, 1000);
  });

  test('a branch runs the chosen path and skips the other', async () => {
    const spec = compileOrThrow(
      dag('branching', { taskQueue: TQ }, ({ task, branch }) => {
        const choice = branch(pickSide, { side: 'left' });
        const left = task(echo, { label: 'left' }, { id: 'left' }).after(choice.when('left'));
        const right = task(echo, { label: 'right' }, { id: 'right' }).after(choice.when('right'));
        const afterRight = task(echo, { label: 'after_right' }, { id: 'after_right' }).after(right);
        task(echo, { label: 'join' }, { id: 'join', triggerRule: 'none_failed_min_one_success' }).after(left, afterRight);
      }),
      catalog,
    );
    const run = await startRun(w.client, spec);
    const result = await run.handle.result();
    assert.deepEqual(result.tasks, { pickSide: 'success', left: 'success', right: 'skipped', after_right: 'skipped', join: 'success' });
    await recordHistory(run.handle, 'branch-arms');
  });

  test('a sensor waits on a durable timer until its S3 key appears, then the DAG proceeds', async () => {
    const key = `test/sensor/${Date.now()}/ready.flag`;
    const spec = compileOrThrow(
      dag('sensing', { taskQueue: TQ }, ({ task, sensor }) => {
        const ready = sensor(s3KeySensor, { key }, { pokeInterval: '500ms', timeout: '1m' });
        task(echo, { label: 'after' }, { id: 'after' }).after(ready);
      }),
      catalog,
    );
    const run = await startRun(w.client, spec);
    await waitForStatus(run.handle, (s) => (s.tasks.find((t) => t.id === 's3KeySensor')?.attempts ?? 0) >= 2);
    assert.equal(taskStates(await waitForStatus(run.handle, () => true)).after, 'pending');
    await w.resources.s3.send(new PutObjectCommand({ Bucket: w.resources.bucket, Key: key, Body: '' }));
    const result = await run.handle.result();
    assert.deepEqual(result.tasks, { s3KeySensor: 'success', after: 'success' });
    await recordHistory(run.handle, 'sensor');
  });

  test('an operator retries one failed task by Update; succeeded tasks never re-run', async () => {
    const key = `test/operator/${Date.now()}/input.csv`;
    const spec = compileOrThrow(
      dag('operator_retry', { taskQueue: TQ }, ({ task }) => {
        const first = task(echo, { label: 'first' }, { id: 'first' });
        const side = task(echo, { label: 'side' }, { id: 'side' });
        const load = task(needsObject, { key }, { id: 'load' }).after(first);
        task(echo, { label: 'publish' }, { id: 'publish' }).after(load, side);
      }),
      catalog,
    );
    const run = await startRun(w.client, spec);
    const waiting = await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator');
    assert.deepEqual(waiting.failedTasks, ['load']);
    await assert.rejects(retryRun(w.client, run.runId, 'first'), (err: Error) => {
      assert.ok(err instanceof WorkflowUpdateFailedError);
      assert.match(String(err.cause?.message), /task 'first' is success; only failed tasks can be retried/);
      return true;
    });
    await w.resources.s3.send(new PutObjectCommand({ Bucket: w.resources.bucket, Key: key, Body: 'id\n1\n' }));
    assert.deepEqual((await retryRun(w.client, run.runId, 'load')).tasks, ['load', 'publish']);
    await run.handle.result();
    assert.deepEqual(await attemptCounts(w.resources.warehouse, run.runId), { first: 1, side: 1, load: 2, publish: 1 });
    await recordHistory(run.handle, 'operator-retry');
  });

  test('an operator retries all failed tasks with `sluice retry` from the CLI', async () => {
    const key = `test/cli/${Date.now()}/input.csv`;
    const spec = compileOrThrow(
      dag('cli_retry', { taskQueue: TQ }, ({ task }) => {
        const first = task(echo, { label: 'first' }, { id: 'first' });
        task(needsObject, { key }, { id: 'load' }).after(first);
      }),
      catalog,
    );
    const run = await startRun(w.client, spec);
    await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator');
    const refused = await runCli(['retry', run.runId, '--task', 'first', '--json']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /only failed tasks can be retried/);
    await w.resources.s3.send(new PutObjectCommand({ Bucket: w.resources.bucket, Key: key, Body: 'id\n1\n' }));
    const retried = await runCli(['retry', run.runId, '--json']);
    assert.equal(retried.code, 0, retried.stderr);
    assert.deepEqual(JSON.parse(retried.stdout), { runId: run.runId, tasks: ['load'] });
    await run.handle.result();
    assert.deepEqual(await attemptCounts(w.resources.warehouse, run.runId), { first: 1, load: 2 });
  });

  test('mark-success lets the downstream tasks run without re-running the failed one', async () => {
    const spec = compileOrThrow(
      dag('mark_success', { taskQueue: TQ }, ({ task }) => {
        const bad = task(alwaysFail, { message: 'bad data upstream' }, { id: 'bad' });
        task(echo, { label: 'next' }, { id: 'next' }).after(bad);
      }),
      catalog,
    );
    const run = await startRun(w.client, spec);
    await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator');
    assert.deepEqual((await markTaskSuccess(w.client, run.runId, 'bad')).tasks, ['bad', 'next']);
    const result = await run.handle.result();
    assert.deepEqual(result.tasks, { bad: 'success', next: 'success' });
    assert.deepEqual(await attemptCounts(w.resources.warehouse, run.runId), { bad: 1, next: 1 });
    await recordHistory(run.handle, 'mark-success');
  });

  test('when the operator window ends the run fails, and the failure callback fires', async () => {
    const marker = `test/callbacks/${Date.now()}/failed`;
    const spec = compileOrThrow(
      dag('window_expiry', { taskQueue: TQ, operatorWindow: '2s', onFailure: callback(writeMarker, { key: marker }) }, ({ task }) => {
        task(alwaysFail, { message: 'nobody came' });
      }),
      catalog,
    );
    const run = await startRun(w.client, spec);
    await assert.rejects(run.handle.result(), (err: Error) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(String(err.cause?.message), /no operator action within the 2s operator window.*alwaysFail/);
      return true;
    });
    assert.ok(await w.objectExists(marker), 'onFailure callback wrote its marker');
    const row = await w.resources.warehouse.withSchema('sluice').table('dag_runs').where('run_id', run.runId).first();
    assert.equal(row.state, 'failed');
    assert.deepEqual(row.failed_tasks, ['alwaysFail']);
    await recordHistory(run.handle, 'window-expiry');
  });

  test('a run keeps the DAG version it started with when the DAG is edited mid-run', async () => {
    const key = `test/versions/${Date.now()}/go`;
    const build = (extraTask: boolean) =>
      dag('edited', { taskQueue: TQ }, ({ task, sensor }) => {
        const go = sensor(s3KeySensor, { key }, { pokeInterval: '300ms', timeout: '1m' });
        const a = task(echo, { label: 'v1' }, { id: 'a' }).after(go);
        if (extraTask) task(echo, { label: 'v2 only' }, { id: 'added_in_v2' }).after(a);
      });
    const v1 = compileOrThrow(build(false), catalog);
    const v2 = compileOrThrow(build(true), catalog);
    assert.notEqual(v1.version, v2.version);
    const run = await startRun(w.client, v1);
    await waitForStatus(run.handle, (s) => s.tasks[0]?.state === 'running');
    // The edit lands (a new spec is what the next run gets); the running one is untouched.
    const next = await startRun(w.client, v2);
    await w.resources.s3.send(new PutObjectCommand({ Bucket: w.resources.bucket, Key: key, Body: '' }));
    assert.deepEqual((await run.handle.result()).tasks, { s3KeySensor: 'success', a: 'success' });
    assert.equal((await waitForStatus(run.handle, () => true)).version, v1.version);
    assert.deepEqual(Object.keys((await next.handle.result()).tasks), ['s3KeySensor', 'a', 'added_in_v2']);
  });
});
