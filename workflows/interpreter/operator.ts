/**
 * Operator messages on a run: `retryTask`, `markTaskSuccess`, `clearTask` and `failRun`, each
 * as an Update (validated, answered: what changed, or why not) and as a Signal (the Temporal UI's
 * "Send a Signal"). A task is named by its id or, where only one task uses it, by the activity
 * name the Temporal UI's timeline shows. A Signal that cannot be applied is not lost in the
 * worker's log: the run records it as a warning, which the `state` query and the console show.
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
  targetTask,
  type ClearTarget,
  type FailReason,
  type OperatorOutcome,
  type RunWarning,
  type TaskTarget,
} from '../messages';
import type { RunState } from './run-state';

/** Most warnings a run keeps (the newest), so a flood of bad Signals cannot grow its state. */
const MAX_WARNINGS = 50;

export interface OperatorHooks {
  /** Something changed that the interpreter loop must look at. */
  changed(): void;
  /** The run's current failure reason, if it is already failing. */
  failing(): string | undefined;
  /** Fail the run now. */
  fail(reason: string): void;
}

/** Registers the operator Updates and Signals; returns the warnings list the run's status shows. */
export function handleOperatorMessages(run: RunState, hooks: OperatorHooks): RunWarning[] {
  const warnings: RunWarning[] = [];
  const changed = (tasks: string[]): OperatorOutcome => {
    hooks.changed();
    return { tasks };
  };
  const retry = {
    validate: (target?: TaskTarget | null) => validateRetry(run, optionalTask(run, target)),
    act: (target?: TaskTarget | null) => {
      const taskId = optionalTask(run, target);
      return changed(run.resetFailed(taskId ? [taskId] : run.failedTasks()));
    },
  };
  const markSuccess = {
    validate: (target: TaskTarget) => validateMarkSuccess(run, requiredTask(run, target, 'markTaskSuccess')),
    act: (target: TaskTarget) => changed(run.markSuccess(requiredTask(run, target, 'markTaskSuccess'), new Date().toISOString())),
  };
  const clear = {
    request: (target: ClearTarget, downstream?: boolean) => {
      const request = guard(() => clearRequest(target, downstream));
      return { ...request, taskId: resolveTask(run, request.taskId) };
    },
    validate: (target: ClearTarget, downstream?: boolean) => validateClear(run, clear.request(target, downstream)),
    act: (target: ClearTarget, downstream?: boolean) => {
      const request = clear.request(target, downstream);
      return changed(run.clear([request.taskId], request.downstream));
    },
  };
  const fail = {
    validate: (reason?: FailReason | null) => {
      guard(() => reasonOf(reason));
      const current = hooks.failing();
      if (current !== undefined) throw refusal(`run is already failing: ${current}`);
    },
    act: (reason?: FailReason | null): OperatorOutcome => {
      hooks.fail(reasonOf(reason) ?? 'failed by an operator');
      return { tasks: [] };
    },
  };

  wf.setHandler(retryTaskUpdate, retry.act, { validator: retry.validate });
  wf.setHandler(markTaskSuccessUpdate, markSuccess.act, { validator: markSuccess.validate });
  wf.setHandler(clearTaskUpdate, clear.act, { validator: clear.validate });
  wf.setHandler(failRunUpdate, fail.act, { validator: fail.validate });
  // A Signal cannot answer: what it cannot do is recorded on the run instead.
  const signal = <A extends unknown[]>(name: string, handler: { validate: (...args: A) => void; act: (...args: A) => unknown }) =>
    (...args: A): void => {
      try {
        handler.validate(...args);
      } catch (err) {
        const warning = { at: new Date().toISOString(), message: `${name} ${JSON.stringify(args.length === 1 ? args[0] : args) ?? ''} ignored: ${(err as Error).message}` };
        warnings.push(warning);
        if (warnings.length > MAX_WARNINGS) warnings.shift();
        wf.log.warn('ignored operator signal', { warning: warning.message });
        return;
      }
      handler.act(...args);
    };
  wf.setHandler(retryTaskSignal, signal('retryTask', retry));
  wf.setHandler(markTaskSuccessSignal, signal('markTaskSuccess', markSuccess));
  wf.setHandler(clearTaskSignal, signal('clearTask', clear));
  wf.setHandler(failRunSignal, signal('failRun', fail));
  return warnings;
}

/**
 * An operator's task name: a task id, or the activity name the Temporal UI's timeline shows when
 * exactly one task runs that activity.
 */
export function resolveTask(run: RunState, name: string): string {
  if (run.hasTask(name)) return name;
  const using = run.tasksRunning(name);
  if (using.length === 1) return using[0] as string;
  if (using.length > 1) throw refusal(`'${name}' is the activity of tasks ${using.join(', ')}: name the task id`);
  throw refusal(`unknown task '${name}' (tasks: ${run.order.join(', ')})`);
}

function optionalTask(run: RunState, target: TaskTarget | null | undefined): string | undefined {
  const name = guard(() => targetTask(target));
  return name === undefined ? undefined : resolveTask(run, name);
}

function requiredTask(run: RunState, target: TaskTarget, message: string): string {
  const taskId = optionalTask(run, target);
  if (taskId === undefined) throw refusal(`${message} needs a task id, e.g. "load" or {"taskId": "load"}`);
  return taskId;
}

function validateRetry(run: RunState, taskId: string | undefined): void {
  if (taskId === undefined) {
    if (run.failedTasks().length === 0) throw refusal('no failed task to retry');
    return;
  }
  const state = run.record(taskId).state;
  if (state !== 'failed') throw refusal(`task '${taskId}' is ${state}; only failed tasks can be retried`);
}

function validateMarkSuccess(run: RunState, taskId: string): void {
  const state = run.record(taskId).state;
  if (state === 'success' || state === 'running' || state === 'queued' || state === 'up_for_retry') {
    throw refusal(`task '${taskId}' is ${state}; only a task that failed or did not run can be marked successful`);
  }
}

function validateClear(run: RunState, request: { taskId: string; downstream: boolean }): void {
  const state = run.record(request.taskId).state;
  if (state === 'pending') throw refusal(`task '${request.taskId}' has not run yet; there is nothing to clear`);
  const targets = request.downstream ? run.withDescendants([request.taskId]) : [request.taskId];
  const busy = targets.filter((id) => ['queued', 'running', 'up_for_retry'].includes(run.record(id).state));
  if (busy.length > 0) {
    throw refusal(`cannot clear while ${busy.map((id) => `'${id}' is ${run.record(id).state}`).join(', ')}; wait for it to finish`);
  }
}

/** Runs a parser of message arguments, turning its complaint into a refusal. */
function guard<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw refusal((err as Error).message);
  }
}

/**
 * The error an Update is refused with. Its stack is the message alone: the caller (an operator in
 * the Temporal UI, the CLI) needs the reason, not the worker's file paths.
 */
function refusal(message: string): wf.ApplicationFailure {
  const failure = wf.ApplicationFailure.create({ message, type: 'Refused', nonRetryable: true });
  failure.stack = `Refused: ${message}`;
  return failure;
}
