/**
 * What a TaskFlow user expects, on the real stack: Airflow's macros and tpl strings resolved at
 * run time, param defaults applied however a run starts (schedule trigger, backfill, a bare
 * start as the Temporal UI makes), typed branch arms, and clearing tasks of open and closed runs.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { dag, tpl, z } from '../../dags/sdk';
import { startBackfill, backfillProgress } from '../../server/client/backfill';
import { clearTask } from '../../server/client/clear';
import { startDagRun } from '../../server/client/start-run';
import { scheduleCreate } from '../../server/schedules/schedule-options';
import { backfillQueue } from '../../workflows/backfill';
import { retryTaskSignal, type DagRunInput } from '../../workflows/messages';
import type { DagSpec } from '../../workflows/spec';
import { alwaysFail, countRuns, echo, macros, needsObject, pickSide, testTasks } from '../fixtures/tasks';
import { attemptCounts, compileOrThrow, startRun, taskStates, waitForStatus } from '../support/dag-runs';
import { runCli } from '../support/cli';
import { recordHistory } from '../support/histories';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-authoring';
let w: TestWorker;
let backfills: TestWorker;

before(async () => {
  w = await startTestWorker(testTasks, TQ);
  backfills = await startTestWorker(testTasks, backfillQueue(TQ));
});
after(async () => {
  await w?.stop();
  await backfills?.stop();
});

const output = (status: { tasks: Array<{ id: string; output?: unknown }> }, id: string) => status.tasks.find((t) => t.id === id)?.output;
const runsOf = async (key: string) =>
  Number(await (await w.resources.s3.send(new GetObjectCommand({ Bucket: w.resources.bucket, Key: key }))).Body?.transformToString());

describe('templating', { concurrency: true }, () => {
  test("ctx macros and tpl strings resolve to the run's dates, on the task context and in inputs", async () => {
    const spec = compileOrThrow(
      dag('macro_dates', { taskQueue: TQ, schedule: '0 6 * * *' }, ({ task, ctx }) => {
        task(macros, {});
        task(echo, { label: tpl`landing/dt=${ctx.ds}/prev=${ctx.prevDs}/next=${ctx.nextDs}/${ctx.tsNodash}` });
      }),
      testTasks,
    );
    const run = await startDagRun(w.client, spec, { logicalDate: new Date('2026-03-10T06:00:00Z'), params: {}, trigger: 'manual', rerun: true });
    await run.handle.result();
    const status = await waitForStatus(run.handle, (s) => s.state === 'success');
    assert.deepEqual(output(status, 'macros'), {
      ds: '2026-03-10',
      dsNodash: '20260310',
      ts: '2026-03-10T06:00:00+00:00',
      tsNodash: '20260310T060000',
      prevDs: '2026-03-09',
      nextDs: '2026-03-11',
      dataIntervalStart: '2026-03-09T06:00:00.000Z',
      dataIntervalEnd: '2026-03-10T06:00:00.000Z',
    });
    assert.equal((output(status, 'echo') as { label: string }).label, 'landing/dt=2026-03-10/prev=2026-03-09/next=2026-03-11/20260310T060000');
    await recordHistory(run.handle, 'templating');
  });

  test('a tpl value that is null fails the task with a message naming it', async () => {
    const spec = compileOrThrow(
      dag('manual_prev', { taskQueue: TQ, operatorWindow: '1s' }, ({ task, ctx }) => {
        task(echo, { label: tpl`prev=${ctx.prevDs}` });
      }),
      testTasks,
    );
    const run = await startRun(w.client, spec);
    await assert.rejects(run.handle.result(), WorkflowFailedError);
    const status = await waitForStatus(run.handle, () => true);
    assert.equal(status.tasks[0]?.error, 'tpl value 1 (ctx.prevDs) is null in this run');
  });
});

describe('params', () => {
  const withDefault = (dagId: string) =>
    compileOrThrow(
      dag(dagId, { taskQueue: TQ, schedule: '0 6 * * *', params: z.object({ dir: z.string().default('/x'), n: z.number().int().optional() }) }, ({ task, params }) => {
        task(echo, { label: params.field('dir') });
      }),
      testTasks,
    );

  test('a schedule trigger (the Temporal UI\'s "Trigger") runs with the param defaults', async () => {
    const spec = withDefault('params_scheduled');
    const schedule = await w.client.schedule.create({ ...scheduleCreate(spec as DagSpec & { schedule: NonNullable<DagSpec['schedule']> }), state: { paused: true } });
    try {
      await schedule.trigger('ALLOW_ALL');
      let runId: string | undefined;
      for (let i = 0; i < 100 && !runId; i++) {
        runId = (await schedule.describe()).info.recentActions.at(-1)?.action.workflow.workflowId;
        if (!runId) await sleep(100);
      }
      assert.ok(runId, 'the schedule started a run');
      const handle = w.client.workflow.getHandle(runId);
      await handle.result();
      assert.deepEqual(output(await waitForStatus(handle, (s) => s.state === 'success'), 'echo'), { label: '/x', task: 'echo', from: null });
    } finally {
      await schedule.delete();
    }
  });

  test('a backfill started without params (as the console does) runs with the defaults', async () => {
    const spec = withDefault('params_backfill');
    const id = await startBackfill(w.client, spec, { logicalDates: [new Date('2025-05-01T06:00:00Z')], concurrency: 1, reprocess: 'all', params: {} });
    for (let p = await backfillProgress(w.client, id); p.state !== 'done'; p = await backfillProgress(w.client, id)) await sleep(200);
    const handle = w.client.workflow.getHandle('params_backfill-2025-05-01T06:00:00Z');
    assert.deepEqual(output(await waitForStatus(handle, (s) => s.state === 'success'), 'echo'), { label: '/x', task: 'echo', from: null });
  });

  test('a run started with invalid params (a bare start, as the Temporal UI makes) fails at once and is recorded', async () => {
    const spec = withDefault('params_invalid');
    const runId = `params_invalid-${Date.now()}`;
    const input: DagRunInput = { spec, logicalDate: '2025-05-02T06:00:00Z', params: { dir: 5 } };
    const handle = await w.client.workflow.start('dagRun', { workflowId: runId, taskQueue: TQ, args: [input] });
    await assert.rejects(handle.result(), (err: Error) => {
      assert.match(String((err as WorkflowFailedError).cause?.message), /invalid params: param 'dir': expected string, received number/);
      return true;
    });
    const row = await w.resources.warehouse.withSchema('sluice').table('dag_runs').where('run_id', runId).first();
    assert.equal(row.state, 'failed');
    assert.deepEqual(await attemptCounts(w.resources.warehouse, runId), {});
  });
});

describe('branches and operator messages', { concurrency: true }, () => {
  test('a branch label picks its arm; a label no arm takes fails the branch task', async () => {
    const build = (side: 'left' | 'right') =>
      compileOrThrow(
        dag(`arms_${side}`, { taskQueue: TQ, operatorWindow: '1s' }, ({ task, branch }) => {
          const choice = branch(pickSide, { side });
          task(echo, { label: 'left' }, { id: 'left' }).after(choice.when('left'));
          task(echo, { label: 'either' }, { id: 'either' }).after(choice.when('left', 'right'));
        }),
        testTasks,
      );
    const left = await startRun(w.client, build('left'));
    assert.deepEqual((await left.handle.result()).tasks, { pickSide: 'success', left: 'success', either: 'success' });
    const right = await startRun(w.client, build('right'));
    assert.deepEqual((await right.handle.result()).tasks, { pickSide: 'success', left: 'skipped', either: 'success' });
  });

  test('retryTask as a Signal takes the object form the console uses, {"taskId": ...}', async () => {
    const key = `test/authoring/${Date.now()}/input`;
    const spec = compileOrThrow(
      dag('signal_forms', { taskQueue: TQ }, ({ task }) => void task(needsObject, { key }, { id: 'load' })),
      testTasks,
    );
    const run = await startRun(w.client, spec);
    await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator');
    await w.resources.s3.send(new PutObjectCommand({ Bucket: w.resources.bucket, Key: key, Body: 'x' }));
    await run.handle.signal(retryTaskSignal, { taskId: 'load' });
    await run.handle.result();
    assert.deepEqual(await attemptCounts(w.resources.warehouse, run.runId), { load: 2 });
  });
});

describe('clearing', () => {
  const chain = (dagId: string, prefix: string, extra: { fail?: boolean } = {}) =>
    compileOrThrow(
      dag(dagId, { taskQueue: TQ }, ({ task }) => {
        const a = task(countRuns, { key: `${prefix}/a` }, { id: 'a' });
        const b = task(countRuns, { key: `${prefix}/b`, from: a.field('runs') }, { id: 'b' });
        task(countRuns, { key: `${prefix}/c`, from: b.field('runs') }, { id: 'c' });
        if (extra.fail) task(alwaysFail, { message: 'keeps the run open' }, { id: 'stuck' });
      }),
      testTasks,
    );

  test('a closed run: clear re-runs one task, keeping the others and their outputs; --downstream re-runs what follows', async () => {
    const prefix = `test/clear/${Date.now()}`;
    const run = await startRun(w.client, chain('clear_closed', prefix));
    await run.handle.result();

    const one = await clearTask(w.client, run.runId, 'b', { downstream: false });
    assert.deepEqual({ ...one, execution: undefined }, { runId: run.runId, mode: 'closed', tasks: ['b'], execution: undefined });
    const again = w.client.workflow.getHandle(run.runId, one.execution);
    assert.deepEqual((await again.result()).tasks, { a: 'success', b: 'success', c: 'success' });
    assert.deepEqual([await runsOf(`${prefix}/a`), await runsOf(`${prefix}/b`), await runsOf(`${prefix}/c`)], [1, 2, 1]);
    const status = await waitForStatus(again, (s) => s.state === 'success');
    assert.deepEqual(output(status, 'b'), { runs: 2, from: 1 }, "b read a's recorded output");
    assert.deepEqual(status.tasks.map((t) => t.attempts), [1, 2, 1], 'attempt numbers go on from the closed execution');

    const cli = await runCli(['clear', run.runId, 'b', '--downstream', '--json']);
    assert.equal(cli.code, 0, cli.stderr);
    const cleared = JSON.parse(cli.stdout) as { execution: string };
    assert.deepEqual({ ...cleared, execution: undefined }, { runId: run.runId, mode: 'closed', tasks: ['b', 'c'], execution: undefined });
    await w.client.workflow.getHandle(run.runId, cleared.execution).result();
    assert.deepEqual([await runsOf(`${prefix}/a`), await runsOf(`${prefix}/b`), await runsOf(`${prefix}/c`)], [1, 3, 2]);
    const rows = await w.resources.warehouse.withSchema('sluice').table('dag_runs').where('run_id', run.runId).orderBy('started_at');
    assert.deepEqual(rows.map((r) => r.state), ['success', 'success', 'success'], 'three executions recorded');
    await recordHistory(w.client.workflow.getHandle(run.runId, cleared.execution), 'clear-closed');

    const refused = await runCli(['clear', run.runId, 'nope']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /unknown task 'nope'/);
  });

  test('an open run takes clearTask as an Update: the cleared tasks run again in the same execution', async () => {
    const prefix = `test/clear-open/${Date.now()}`;
    const run = await startRun(w.client, chain('clear_open', prefix, { fail: true }));
    await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator');
    assert.deepEqual(await clearTask(w.client, run.runId, 'a', { downstream: true }), { runId: run.runId, mode: 'open', tasks: ['a', 'b', 'c'] });
    const status = await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator' && taskStates(s).c === 'success' && s.tasks[0]?.attempts === 2);
    assert.deepEqual(taskStates(status), { a: 'success', stuck: 'failed', b: 'success', c: 'success' });
    assert.deepEqual([await runsOf(`${prefix}/a`), await runsOf(`${prefix}/b`), await runsOf(`${prefix}/c`)], [2, 2, 2]);
    await assert.rejects(clearTask(w.client, run.runId, 'ghost', { downstream: false }), (err: Error) => {
      assert.match(String(err.cause instanceof Error ? err.cause.message : err.message), /unknown task 'ghost'/);
      return true;
    });
    await run.handle.executeUpdate('failRun', { args: [{ reason: 'test done' }] });
    await assert.rejects(run.handle.result(), WorkflowFailedError);
  });
});
