/**
 * `dagRun`: the one workflow that runs every DAG. It interprets the DagSpec recorded in its own
 * input, so editing a DAG file never changes a run in flight. Task attempts and their retries
 * are driven from here (one activity per attempt, durable timers for backoff), which is what
 * lets the `state` query show Airflow's up_for_retry and exact attempt counts.
 */
import * as wf from '@temporalio/workflow';
import {
  clearRequest,
  clearTaskSignal,
  clearTaskUpdate,
  failReason as reasonOf,
  failRunSignal,
  failRunUpdate,
  markTaskSuccessSignal,
  markTaskSuccessUpdate,
  retryTaskSignal,
  retryTaskUpdate,
  stateQuery,
  targetTask,
  type DagRunInput,
  type DagRunResult,
  type DagRunStatus,
  type OperatorOutcome,
} from './messages';
import { DagIdKey, DagRunStateKey, FailedTasksKey, LogicalDateKey, ScheduledStartTimeKey } from './search-attributes';
import type { DagRunState } from './spec';
import { runMacros } from './interpreter/macros';
import { RunState } from './interpreter/run-state';
import { local, system } from './interpreter/system-activities';
import { TaskExecutor } from './interpreter/task-executor';

export async function dagRun(input: DagRunInput): Promise<DagRunResult> {
  const { spec } = input;
  const info = wf.workflowInfo();
  const logicalDate = input.logicalDate ?? scheduledTime() ?? new Date(info.startTime).toISOString();
  const trigger = input.trigger ?? (scheduledTime() ? 'scheduled' : 'manual');
  const interval = await local.resolveRun({
    runId: info.workflowId,
    temporalRunId: info.runId,
    trigger,
    schedule: spec.schedule,
    logicalDate,
    params: input.params,
    paramsSchema: spec.paramsSchema,
    resumed: input.resume !== undefined,
  });
  if (interval.alreadySucceeded) {
    // A scheduled fire for a date that already ran (manually or in a backfill): not a new run.
    wf.upsertSearchAttributes([
      { key: DagIdKey, value: spec.dagId },
      { key: LogicalDateKey, value: new Date(logicalDate) },
      { key: DagRunStateKey, value: 'success' },
    ]);
    return { state: 'duplicate', duplicateOf: interval.alreadySucceeded, tasks: {} };
  }
  // Runs recorded before params were parsed at start resolved none: they used their input as is.
  const parsed = interval.params ?? { ok: true, params: input.params ?? {} };
  const params = parsed.ok ? parsed.params : {};
  const run = new RunState(spec);
  if (input.resume) run.restore(input.resume.tasks, input.resume.cleared);
  const startedAt = new Date().toISOString();
  let runState: DagRunState = 'running';
  let failReason: string | undefined = parsed.ok ? undefined : `invalid params: ${parsed.error}`;
  let operatorDeadline: string | undefined;
  let dirty = false;

  const executor = new TaskExecutor(run, spec, {
    dagId: spec.dagId,
    runId: info.workflowId,
    logicalDate,
    dataIntervalStart: interval.start,
    dataIntervalEnd: interval.end,
    params,
    ...runMacros(logicalDate, spec.schedule ? interval.start : null, interval.next),
  }, () => (dirty = true));

  const status = (): DagRunStatus => ({
    dagId: spec.dagId,
    runId: info.workflowId,
    version: spec.version,
    state: runState,
    logicalDate,
    dataIntervalStart: interval.start,
    dataIntervalEnd: interval.end,
    failedTasks: run.failedTasks(),
    operatorDeadline: runState === 'awaiting_operator' ? operatorDeadline : undefined,
    tasks: run.snapshot(),
  });

  const publish = async (state: DagRunState): Promise<void> => {
    runState = state;
    wf.upsertSearchAttributes([
      { key: DagRunStateKey, value: state },
      { key: FailedTasksKey, value: run.failedTasks() },
    ]);
    await system.recordRun({
      runId: info.workflowId,
      temporalRunId: info.runId,
      dagId: spec.dagId,
      version: spec.version,
      logicalDate,
      dataIntervalStart: interval.start,
      dataIntervalEnd: interval.end,
      state,
      trigger,
      params,
      failedTasks: run.failedTasks(),
      startedAt,
      endedAt: state === 'success' || state === 'failed' ? new Date().toISOString() : null,
    });
  };

  // Operator actions: Updates validate and answer; Signals (Temporal UI) do the same silently.
  // Each takes a bare task id (or reason) or the object form the console's API uses.
  const changed = (tasks: string[]): OperatorOutcome => {
    dirty = true;
    return { tasks };
  };
  const operator = {
    retry: {
      validate: (target?: Parameters<typeof targetTask>[0]) => validateRetry(run, targetTask(target)),
      act: (target?: Parameters<typeof targetTask>[0]) => {
        const taskId = targetTask(target);
        return changed(run.resetFailed(taskId ? [taskId] : run.failedTasks()));
      },
    },
    markSuccess: {
      validate: (target: Parameters<typeof targetTask>[0]) => validateMarkSuccess(run, targetTask(target)),
      act: (target: Parameters<typeof targetTask>[0]) => changed(run.markSuccess(targetTask(target) as string, new Date().toISOString())),
    },
    fail: {
      validate: (reason?: Parameters<typeof reasonOf>[0]) => {
        reasonOf(reason);
        validateOpen(failReason);
      },
      act: (reason?: Parameters<typeof reasonOf>[0]): OperatorOutcome => {
        failReason = reasonOf(reason) ?? 'failed by an operator';
        executor.cancelAll();
        return { tasks: [] };
      },
    },
    clear: {
      validate: (target: Parameters<typeof clearRequest>[0], downstream?: boolean) => validateClear(run, clearRequest(target, downstream)),
      act: (target: Parameters<typeof clearRequest>[0], downstream?: boolean) => {
        const request = clearRequest(target, downstream);
        return changed(run.clear([request.taskId], request.downstream));
      },
    },
  };
  wf.setHandler(stateQuery, status);
  wf.setHandler(retryTaskUpdate, operator.retry.act, { validator: operator.retry.validate });
  wf.setHandler(markTaskSuccessUpdate, operator.markSuccess.act, { validator: operator.markSuccess.validate });
  wf.setHandler(failRunUpdate, operator.fail.act, { validator: operator.fail.validate });
  wf.setHandler(clearTaskUpdate, operator.clear.act, { validator: operator.clear.validate });
  wf.setHandler(retryTaskSignal, (target) => ignoreInvalid(() => operator.retry.validate(target), () => operator.retry.act(target)));
  wf.setHandler(markTaskSuccessSignal, (target) => ignoreInvalid(() => operator.markSuccess.validate(target), () => operator.markSuccess.act(target)));
  wf.setHandler(failRunSignal, (reason) => ignoreInvalid(() => operator.fail.validate(reason), () => operator.fail.act(reason)));
  wf.setHandler(clearTaskSignal, (target, downstream) =>
    ignoreInvalid(() => operator.clear.validate(target, downstream), () => operator.clear.act(target, downstream)),
  );

  wf.upsertSearchAttributes([
    { key: DagIdKey, value: spec.dagId },
    { key: LogicalDateKey, value: new Date(logicalDate) },
  ]);
  await publish('running');

  // Invalid params: nothing may run (failReason says why).
  while (parsed.ok) {
    executor.launchReady();
    if (failReason !== undefined) break;
    if (executor.idle() && run.isSettled()) {
      if (run.failedTasks().length === 0) break;
      if (spec.operatorWindowMs <= 0) {
        failReason = 'tasks failed and the run has no operator window';
        break;
      }
      // Everything that could run has run: wait for an operator within the DAG's window.
      operatorDeadline = new Date(Date.now() + spec.operatorWindowMs).toISOString();
      dirty = false;
      await publish('awaiting_operator');
      const acted = await wf.condition(() => dirty || failReason !== undefined, spec.operatorWindowMs);
      if (!acted) failReason = `no operator action within the ${formatWindow(spec.operatorWindowMs)} operator window`;
      if (failReason !== undefined) break;
      await publish('running');
      continue;
    }
    await wf.condition(() => dirty || failReason !== undefined);
    dirty = false;
  }

  await executor.drain();
  await wf.condition(wf.allHandlersFinished);
  if (failReason === undefined && run.failedTasks().length === 0) {
    await publish('success');
    await executor.runCallback(spec.onSuccess, { state: 'success', failedTasks: [] });
    return { state: 'success', tasks: Object.fromEntries(run.snapshot().map((t) => [t.id, t.state])) };
  }
  const failedTasks = run.failedTasks();
  await publish('failed');
  await executor.runCallback(spec.onFailure, { state: 'failed', failedTasks, reason: failReason });
  throw wf.ApplicationFailure.nonRetryable(
    `DAG run ${info.workflowId} failed: ${failReason ?? 'tasks failed'} (failed tasks: ${failedTasks.join(', ') || 'none'})`,
    'DagRunFailed',
    { failedTasks },
  );
}

function scheduledTime(): string | undefined {
  const fromTyped = wf.workflowInfo().typedSearchAttributes.get(ScheduledStartTimeKey);
  return fromTyped ? fromTyped.toISOString() : undefined;
}

function validateClear(run: RunState, request: { taskId: string; downstream: boolean }): void {
  const state = knownTask(run, request.taskId).state;
  if (state === 'pending') throw new Error(`task '${request.taskId}' has not run yet; there is nothing to clear`);
  const targets = request.downstream ? run.withDescendants([request.taskId]) : [request.taskId];
  const busy = targets.filter((id) => ['queued', 'running', 'up_for_retry'].includes(run.record(id).state));
  if (busy.length > 0) {
    throw new Error(`cannot clear while ${busy.map((id) => `'${id}' is ${run.record(id).state}`).join(', ')}; wait for it to finish`);
  }
}

function validateRetry(run: RunState, taskId?: string | null): void {
  if (!taskId) {
    if (run.failedTasks().length === 0) throw new Error('no failed task to retry');
    return;
  }
  const state = knownTask(run, taskId).state;
  if (state !== 'failed') throw new Error(`task '${taskId}' is ${state}; only failed tasks can be retried`);
}

function validateMarkSuccess(run: RunState, taskId: string | undefined): void {
  if (taskId === undefined) throw new Error('markTaskSuccess needs a task id');
  const state = knownTask(run, taskId).state;
  if (state === 'success' || state === 'running' || state === 'queued' || state === 'up_for_retry') {
    throw new Error(`task '${taskId}' is ${state}; only a task that failed or did not run can be marked successful`);
  }
}

function validateOpen(failReason: string | undefined): void {
  if (failReason !== undefined) throw new Error(`run is already failing: ${failReason}`);
}

function knownTask(run: RunState, taskId: string) {
  try {
    return run.record(taskId);
  } catch {
    throw new Error(`unknown task '${taskId}'`);
  }
}

function ignoreInvalid(validate: () => void, act: () => unknown): void {
  try {
    validate();
  } catch (err) {
    wf.log.warn('ignored operator signal', { error: (err as Error).message });
    return;
  }
  act();
}

function formatWindow(ms: number): string {
  const hours = ms / 3_600_000;
  return hours >= 1 ? `${hours}h` : `${Math.round(ms / 1000)}s`;
}
