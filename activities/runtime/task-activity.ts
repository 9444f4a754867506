/**
 * Turns a task definition into the Temporal activity the `dagRun` workflow calls: it records the
 * attempt in Postgres, gives the task its context and logger, keeps the heartbeat going for
 * tasks that declare a heartbeat timeout, loads offloaded inputs and offloads large outputs.
 */
import { Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { runTask, type AnyTaskDef } from '../../dags/sdk/task-def';
import type { TaskContext as WireContext } from '../../workflows/spec';
import type { AttemptHistory } from './attempt-history';
import { AttemptLog } from './attempt-log';
import type { OutputStore } from './outputs';
import type { Resources } from '../resources';


export interface TaskRuntimeDeps {
  history: AttemptHistory;
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
      temporalRunId: activity.info.workflowExecution?.runId ?? wire.runId,
      runId: wire.runId,
      dagId: wire.dagId,
      taskId: wire.taskId,
      mapIndex: wire.mapIndex ?? -1,
      attempt: wire.attempt,
    };
    const log = new AttemptLog(deps.logger.child({ runId: wire.runId, taskId: wire.taskId, mapIndex: wire.mapIndex, attempt: wire.attempt }));
    log.debug(ATTEMPT_STARTED);
    // Recording the start runs beside the task, not before it: it must not add to hop latency.
    const started = deps.history.start(key);
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
      };
      const result = await runTask(task, hydrated, ctx, outcome);
      const stored = await deps.outputs.store(wire, result);
      await started;
      await deps.history.finish(key, { state: 'success', logs: log.kept() });
      return stored;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.error(`task failed: ${message}`);
      await started.catch(() => undefined);
      await deps.history.finish(key, { state: 'failed', error: message, logs: log.kept() });
      throw err;
    } finally {
      clearInterval(heartbeat);
    }
  };
}

/**
 * A heartbeat at a third of the timeout proves the worker is alive; a task that hangs is still
 * caught by its execution timeout. Heartbeats also deliver cancellation (an operator's failRun).
 */
function keepHeartbeating(activity: Context): NodeJS.Timeout | undefined {
  const timeout = activity.info.heartbeatTimeoutMs;
  if (!timeout) return undefined;
  return setInterval(() => activity.heartbeat(), Math.max(timeout / 3, 100));
}
