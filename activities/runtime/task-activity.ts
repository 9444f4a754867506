/**
 * Turns a task definition into the Temporal activity the `dagRun` workflow calls: it records the
 * attempt (through the worker's journal, which writes to Postgres in the background), gives the
 * task its context and logger, keeps the heartbeat going for tasks that declare a heartbeat
 * timeout, loads offloaded inputs and offloads large outputs.
 */
import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { runTask, type AnyTaskDef } from '../../dags/sdk/task-def';
import type { TaskContext as WireContext } from '../../workflows/spec';
import type { AttemptJournal } from './attempt-journal';
import { AttemptLog } from './attempt-log';
import type { OutputStore } from './outputs';
import type { Resources } from '../resources';
import { countTaskAttempt, withTaskScope } from '../../workers/metrics';

export interface TaskRuntimeDeps {
  journal: AttemptJournal;
  outputs: OutputStore;
  logger: Logger;
  resources: Resources;
}

/** The worker log's line (debug level) for every attempt that starts; `sluice dags test` shows it. */
export const ATTEMPT_STARTED = 'attempt started';

export type TaskActivity = (input: unknown, ctx: WireContext, outcome?: unknown) => Promise<unknown>;

export function taskActivity(task: AnyTaskDef, deps: TaskRuntimeDeps): TaskActivity {
  return async (input, wire, outcome) => {
    const activity = Context.current();
    const key = {
      // A run that continued as new keeps its history under its first execution's id.
      temporalRunId: wire.executionId ?? activity.info.workflowExecution?.runId ?? wire.runId,
      runId: wire.runId,
      dagId: wire.dagId,
      taskId: wire.taskId,
      mapIndex: wire.mapIndex ?? -1,
      attempt: wire.attempt,
    };
    const log = new AttemptLog(deps.logger.child({ runId: wire.runId, taskId: wire.taskId, mapIndex: wire.mapIndex, attempt: wire.attempt }));
    log.debug(ATTEMPT_STARTED);
    // The journal takes the record and returns: neither the start nor the end waits for Postgres.
    const startedAt = new Date();
    deps.journal.started(key, startedAt);
    const heartbeat = keepHeartbeating(activity);
    try {
      const hydrated = await deps.outputs.hydrate(input);
      const { resources } = deps;
      const ctx = {
        ...wire,
        log,
        resources,
        conn: resources.connections,
        vars: resources.variables,
        heartbeat: (details?: unknown) => activity.heartbeat(details),
        signal: activity.cancellationSignal,
      };
      const result = await withTaskScope({ dagId: wire.dagId, taskId: wire.taskId }, () => runTask(task, hydrated, ctx, outcome));
      const stored = await deps.outputs.store(wire, result);
      deps.journal.finished(key, startedAt, { state: 'success', logs: log.kept() });
      countTaskAttempt(wire.dagId, 'succeeded', secondsSince(startedAt));
      return stored;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.error(`task failed: ${message}`);
      deps.journal.finished(key, startedAt, { state: 'failed', error: message, logs: log.kept() });
      // Cancelled: an operator's failRun, a run's timeout, or a worker's shutdown grace running out.
      countTaskAttempt(wire.dagId, activity.cancellationSignal.aborted ? 'cancelled' : 'failed', secondsSince(startedAt));
      throw err;
    } finally {
      clearInterval(heartbeat);
    }
  };
}

const secondsSince = (start: Date) => (Date.now() - start.getTime()) / 1000;

/**
 * A heartbeat at a third of the timeout proves the worker is alive; a task that hangs is still
 * caught by its execution timeout. Heartbeats also deliver cancellation (an operator's failRun).
 */
function keepHeartbeating(activity: Context): NodeJS.Timeout | undefined {
  const timeout = activity.info.heartbeatTimeoutMs;
  if (!timeout) return undefined;
  return setInterval(() => activity.heartbeat(), Math.max(timeout / 3, 100));
}
