/**
 * `dagRun`: the one workflow that runs every DAG. It interprets the DagSpec recorded in its own
 * input, so editing a DAG file never changes a run in flight. Task attempts and their retries
 * are driven from here (one activity per attempt, durable timers for backoff), which is what
 * lets the `state` query show Airflow's up_for_retry and exact attempt counts.
 *
 * Changes here must keep runs in flight replaying: guard them with `patched()` (see the patch ids
 * below) and keep test/integration/replay.test.ts green.
 */
import * as wf from '@temporalio/workflow';
import { slotGrantedSignal, stateQuery, type DagRunInput, type DagRunResult, type DagRunStatus } from './messages';
import { releaseSlotSignal, runSlotsId } from './run-slots';
import { DagIdKey, DagRunStateKey, FailedTasksKey, LogicalDateKey, ScheduledStartTimeKey } from './search-attributes';
import type { DagRunState } from './spec';
import { watchDeadline } from './interpreter/deadline';
import { runMacros } from './interpreter/macros';
import { handleOperatorMessages } from './interpreter/operator';
import { RunState } from './interpreter/run-state';
import { local, system } from './interpreter/system-activities';
import { TaskExecutor, type FinishedAttempt } from './interpreter/task-executor';

/** Patch: attempts are put on record by the run too (a worker may have lost them). */
const RECORD_ATTEMPTS = 'sluice-record-attempts';
/** Patch: a cancelled run is recorded as failed, with its failure callback, before it ends. */
const CANCEL_AS_FAILURE = 'sluice-cancel-as-failure';
/** Patch: a run waits in `queued` for a slot of its DAG's `maxActiveRuns` (workflows/run-slots.ts). */
const MAX_ACTIVE_RUNS = 'sluice-max-active-runs';
/** Attempts per `recordAttempts` call: a few hundred KB at most. */
const ATTEMPT_BATCH = 1000;
/** Temporal refuses a history past 51,200 events; a run continues as new long before. */
const CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;

export async function dagRun(input: DagRunInput): Promise<DagRunResult> {
  const { spec } = input;
  const info = wf.workflowInfo();
  // Asked first, before anything else records a command, so replays meet the marker where it was.
  const gated = wf.patched(MAX_ACTIVE_RUNS);
  // A run's history lives under its first execution, across continue-as-new.
  const executionId = info.firstExecutionRunId;
  const logicalDate = input.logicalDate ?? scheduledTime() ?? new Date(info.startTime).toISOString();
  const trigger = input.trigger ?? (scheduledTime() ? 'scheduled' : 'manual');
  const interval = await local.resolveRun({
    runId: info.workflowId,
    temporalRunId: executionId,
    trigger,
    schedule: spec.schedule,
    logicalDate,
    params: input.params,
    paramsSchema: spec.paramsSchema,
    resumed: input.resume !== undefined || input.checkpoint !== undefined,
    ...(input.dataInterval ? { dataInterval: input.dataInterval } : {}),
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
  if (input.checkpoint) run.restore(input.checkpoint.tasks, []);
  const startedAt = input.checkpoint?.startedAt ?? new Date().toISOString();
  let runState: DagRunState = 'running';
  let failReason: string | undefined = parsed.ok ? undefined : `invalid params: ${parsed.error}`;
  let operatorDeadline: string | undefined;
  let dirty = false;

  const executor = new TaskExecutor(
    run,
    spec,
    {
      dagId: spec.dagId,
      runId: info.workflowId,
      executionId,
      logicalDate,
      dataIntervalStart: interval.start,
      dataIntervalEnd: interval.end,
      params,
      ...runMacros(logicalDate, spec.schedule ? interval.start : null, interval.next),
    },
    () => (dirty = true),
    input.checkpoint?.instanceAttempts,
  );

  const warnings = handleOperatorMessages(run, {
    changed: () => (dirty = true),
    failing: () => failReason,
    fail: (reason) => {
      failReason = reason;
      executor.cancelAll();
    },
  });
  warnings.push(...(input.checkpoint?.warnings ?? []));
  wf.setHandler(stateQuery, (): DagRunStatus => ({
    dagId: spec.dagId,
    runId: info.workflowId,
    version: spec.version,
    state: runState,
    logicalDate,
    dataIntervalStart: interval.start,
    dataIntervalEnd: interval.end,
    failedTasks: run.failedTasks(),
    operatorDeadline: runState === 'awaiting_operator' ? operatorDeadline : undefined,
    ...(failReason !== undefined ? { reason: failReason } : {}),
    ...(warnings.length > 0 ? { warnings: [...warnings] } : {}),
    tasks: run.snapshot(),
  }));

  const publish = async (state: DagRunState): Promise<void> => {
    runState = state;
    wf.upsertSearchAttributes([
      { key: DagRunStateKey, value: state },
      { key: FailedTasksKey, value: run.failedTasks() },
    ]);
    await system.recordRun({
      runId: info.workflowId,
      temporalRunId: executionId,
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
      ...(failReason !== undefined ? { reason: failReason } : {}),
    });
  };

  /** Puts the attempts that ended on record from the run's side, in case a worker could not. */
  const recordAttempts = async (): Promise<void> => {
    if (!wf.patched(RECORD_ATTEMPTS)) return;
    const attempts: FinishedAttempt[] = executor.takeFinished();
    for (let i = 0; i < attempts.length; i += ATTEMPT_BATCH) {
      await system.recordAttempts({ temporalRunId: executionId, runId: info.workflowId, dagId: spec.dagId, attempts: attempts.slice(i, i + ATTEMPT_BATCH) });
    }
  };

  /**
   * Puts the assets the run's succeeded tasks wrote (their `outlets`) on record for its logical
   * date, which starts the DAGs scheduled on them. Specs without outlets (every run recorded
   * before assets existed) issue no command.
   */
  const recordAssets = async (): Promise<void> => {
    const outlets = spec.tasks.filter((t) => (t.outlets?.length ?? 0) > 0 && run.record(t.id).state === 'success').map((t) => ({ taskId: t.id, assets: t.outlets ?? [] }));
    if (outlets.length === 0) return;
    await system.recordAssetEvents({ dagId: spec.dagId, runId: info.workflowId, logicalDate, dataIntervalStart: interval.start, dataIntervalEnd: interval.end, outlets });
  };

  /**
   * Waits in `queued` until the DAG's gate lets the run in (maxActiveRuns, oldest logical date
   * first). An operator's "fail run" ends the wait.
   */
  let slotHeld = false;
  /** Whether the gate knows this run (holding or waiting); a continued execution inherits it. */
  let slotAsked = input.checkpoint?.holdsSlot ?? false;
  const waitForSlot = async (): Promise<void> => {
    wf.setHandler(slotGrantedSignal, () => {
      slotHeld = true;
    });
    await publish('queued');
    await system.requestRunSlot({ dagId: spec.dagId, taskQueue: spec.taskQueue, runId: info.workflowId, logicalDate, maxActiveRuns: spec.maxActiveRuns });
    slotAsked = true;
    await wf.condition(() => slotHeld || failReason !== undefined);
  };
  /** Gives the slot back (or leaves the queue) as the run ends; the gate's check covers a run that cannot. */
  const releaseSlot = async (): Promise<void> => {
    if (!slotAsked) return;
    slotAsked = false;
    try {
      await wf.getExternalWorkflowHandle(runSlotsId(spec.dagId, spec.taskQueue)).signal(releaseSlotSignal, { runId: info.workflowId });
    } catch {
      // The gate is gone: nothing is held there.
    }
  };

  const historyLimit = input.continueAsNewAfterEvents ?? CONTINUE_AS_NEW_AFTER_EVENTS;
  const historyFull = () => wf.workflowInfo().historyLength >= historyLimit;

  // The DAG's deadline (interpreter/deadline.ts): its onDeadlineMiss runs beside the run, once.
  const deadline = await watchDeadline({
    spec,
    logicalDate,
    trigger,
    missedBefore: input.checkpoint?.deadlineMissed ?? false,
    resumed: input.resume !== undefined,
    warnings,
    onMiss: (at) => executor.runCallback(spec.onDeadlineMiss, { state: 'deadline_missed', deadline: at, failedTasks: run.failedTasks() }),
  });

  try {
    wf.upsertSearchAttributes([
      { key: DagIdKey, value: spec.dagId },
      { key: LogicalDateKey, value: new Date(logicalDate) },
    ]);
    // A continued execution already holds its slot (the gate knows the run by its id).
    if (gated && parsed.ok && !input.checkpoint) await waitForSlot();
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
        await recordAttempts();
        const acted = await wf.condition(() => dirty || failReason !== undefined, spec.operatorWindowMs);
        if (!acted) failReason = `no operator action within the ${formatWindow(spec.operatorWindowMs)} operator window`;
        if (failReason !== undefined) break;
        await publish('running');
        continue;
      }
      await wf.condition(() => dirty || failReason !== undefined || historyFull());
      dirty = false;
      if (historyFull() && failReason === undefined) {
        // Long sensors and retries must not reach Temporal's history limit: carry on in a new
        // execution, with everything this one did. Attempts in flight finish first.
        await executor.park();
        await recordAttempts();
        await deadline.end();
        await wf.condition(wf.allHandlersFinished);
        const { resume: _applied, ...rest } = input;
        return await wf.continueAsNew<typeof dagRun>({
          ...rest,
          params,
          logicalDate,
          trigger,
          checkpoint: { tasks: run.checkpoint(), instanceAttempts: executor.instanceAttemptCounts(), startedAt, warnings: [...warnings], holdsSlot: slotAsked, ...(deadline.missed ? { deadlineMissed: true } : {}) },
        });
      }
    }
    await executor.drain();
    await wf.condition(wf.allHandlersFinished);
  } catch (err) {
    // "Request Cancellation" in the Temporal UI: the run ends as failed, everywhere, with its callback.
    if (!wf.isCancellation(err) || !wf.patched(CANCEL_AS_FAILURE)) throw err;
    failReason = 'cancelled';
    return await wf.CancellationScope.nonCancellable(async () => {
      await executor.drain();
      return finish();
    });
  }
  return finish();

  async function finish(): Promise<DagRunResult> {
    deadline.stop();
    await releaseSlot();
    if (failReason === undefined && run.failedTasks().length === 0) {
      await publish('success');
      await recordAttempts();
      await recordAssets();
      await executor.runCallback(spec.onSuccess, { state: 'success', failedTasks: [] });
      await deadline.end(); // waits for an onDeadlineMiss still under way
      return { state: 'success', tasks: Object.fromEntries(run.snapshot().map((t) => [t.id, t.state])) };
    }
    const failedTasks = run.failedTasks();
    await publish('failed');
    await recordAttempts();
    await executor.runCallback(spec.onFailure, { state: 'failed', failedTasks, reason: failReason });
    await deadline.end();
    throw wf.ApplicationFailure.nonRetryable(
      `DAG run ${info.workflowId} failed: ${failReason ?? 'tasks failed'} (failed tasks: ${failedTasks.join(', ') || 'none'})`,
      'DagRunFailed',
      { failedTasks },
    );
  }
}

function scheduledTime(): string | undefined {
  const fromTyped = wf.workflowInfo().typedSearchAttributes.get(ScheduledStartTimeKey);
  return fromTyped ? fromTyped.toISOString() : undefined;
}

function formatWindow(ms: number): string {
  const hours = ms / 3_600_000;
  return hours >= 1 ? `${hours}h` : `${Math.round(ms / 1000)}s`;
}
