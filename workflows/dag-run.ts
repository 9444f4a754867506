/**
 * `dagRun`: the one workflow that runs every DAG. It interprets the DagSpec recorded in its own
 * input, so editing a DAG file never changes a run in flight. Task attempts and their retries
 * are driven from here (one activity per attempt, durable timers for backoff), which is what
 * lets the `state` query show Airflow's up_for_retry and exact attempt counts.
 */
import * as wf from '@temporalio/workflow';
import {
  failRunSignal,
  failRunUpdate,
  markTaskSuccessSignal,
  markTaskSuccessUpdate,
  retryTaskSignal,
  retryTaskUpdate,
  stateQuery,
  type DagRunInput,
  type DagRunResult,
  type DagRunStatus,
  type OperatorOutcome,
} from './messages';
import { DagIdKey, DagRunStateKey, FailedTasksKey, LogicalDateKey, ScheduledStartTimeKey } from './search-attributes';
import type { DagRunState } from './spec';
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
  const params = input.params ?? {};
  const run = new RunState(spec);
  const startedAt = new Date().toISOString();
  let runState: DagRunState = 'running';
  let failReason: string | undefined;
  let operatorDeadline: string | undefined;
  let dirty = false;

  const executor = new TaskExecutor(run, spec, {
    dagId: spec.dagId,
    runId: info.workflowId,
    logicalDate,
    dataIntervalStart: interval.start,
    dataIntervalEnd: interval.end,
    params,
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
  const retry = (taskId?: string | null): OperatorOutcome => {
    const targets = taskId ? [taskId] : run.failedTasks();
    const tasks = run.resetFailed(targets);
    dirty = true;
    return { tasks };
  };
  const markSuccess = (taskId: string): OperatorOutcome => {
    const tasks = run.markSuccess(taskId, new Date().toISOString());
    dirty = true;
    return { tasks };
  };
  const fail = (reason?: string | null): OperatorOutcome => {
    failReason = reason ?? 'failed by an operator';
    executor.cancelAll();
    return { tasks: [] };
  };
  wf.setHandler(stateQuery, status);
  wf.setHandler(retryTaskUpdate, retry, { validator: (taskId?: string | null) => validateRetry(run, taskId) });
  wf.setHandler(markTaskSuccessUpdate, markSuccess, { validator: (taskId) => validateMarkSuccess(run, taskId) });
  wf.setHandler(failRunUpdate, fail, { validator: (_reason?: string | null) => validateOpen(failReason) });
  wf.setHandler(retryTaskSignal, (taskId) => ignoreInvalid(() => validateRetry(run, taskId), () => retry(taskId)));
  wf.setHandler(markTaskSuccessSignal, (taskId) =>
    ignoreInvalid(() => validateMarkSuccess(run, taskId), () => markSuccess(taskId)),
  );
  wf.setHandler(failRunSignal, (reason) => ignoreInvalid(() => validateOpen(failReason), () => fail(reason)));

  wf.upsertSearchAttributes([
    { key: DagIdKey, value: spec.dagId },
    { key: LogicalDateKey, value: new Date(logicalDate) },
  ]);
  await publish('running');

  for (;;) {
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

function validateRetry(run: RunState, taskId?: string | null): void {
  if (!taskId) {
    if (run.failedTasks().length === 0) throw new Error('no failed task to retry');
    return;
  }
  const state = knownTask(run, taskId).state;
  if (state !== 'failed') throw new Error(`task '${taskId}' is ${state}; only failed tasks can be retried`);
}

function validateMarkSuccess(run: RunState, taskId: string): void {
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
