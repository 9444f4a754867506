/**
 * A run as the console shows it: its `state` query, its recorded attempts, and what Temporal itself
 * says about the run where the run could not say it:
 * - Temporal closed the run from outside (terminated, timed out): the query still answers, with
 *   the state the run had then ("running", "awaiting_operator"), so the run shows as failed and
 *   `note` says how it closed;
 * - the query cannot answer (a run whose workflow task keeps failing, or a closed run whose history
 *   no longer replays): the state comes from Temporal's record (`describe()`) and the tasks from
 *   their recorded attempts.
 * With no worker or no server to ask, it throws as `runStatus` does: a guess would look like an answer.
 */
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import type { Knex } from 'knex';
import type { DagRunStatus, TaskStatus } from '../../workflows/messages';
import { DagIdKey, DagRunStateKey, LogicalDateKey } from '../../workflows/search-attributes';
import type { DagRunState, TaskState } from '../../workflows/spec';
import { runStatus } from './operator';
import { listAttempts, type AttemptRow } from './run-history';
import { formatLogicalDate } from './run-id';
import { serverFailure } from './server-failures';
import { describeAs, NoSuchWorkflowError, WorkerUnavailableError } from './workers';

/** The run's own fields, less those only its `state` query knows. */
type QueryOnly = 'version' | 'logicalDate' | 'dataIntervalStart' | 'dataIntervalEnd';
type RecordedStatus = Omit<DagRunStatus, QueryOnly> & Partial<Pick<DagRunStatus, QueryOnly>>;

export type RunView = RecordedStatus & {
  attempts: AttemptRow[];
  /** The execution the run's attempts are recorded under now; others are earlier executions (reruns, clears). */
  execution: string;
  /** Temporal's status of the latest execution: RUNNING, COMPLETED, FAILED, TERMINATED, TIMED_OUT, … */
  temporalStatus: string;
  closedAt?: string;
  /** Why the state shown is not simply the run's own answer. */
  note?: string;
};

/** Closed by Temporal, not by the run: the run's own state stops where it was. */
const CLOSED_FROM_OUTSIDE = new Set(['TERMINATED', 'TIMED_OUT', 'CANCELLED']);

export async function runView(client: Client, db: Knex, runId: string): Promise<RunView> {
  const [description, attempts] = await Promise.all([describeAs(client.workflow.getHandle(runId), 'run'), listAttempts(db, runId)]);
  const temporalStatus = description.status.name;
  const closedAt = description.closeTime?.toISOString();
  const execution = {
    attempts,
    // The run keeps its attempts under the first execution of a continue-as-new chain.
    execution: description.raw.workflowExecutionInfo?.firstRunId || description.runId,
    temporalStatus,
    ...(closedAt ? { closedAt } : {}),
  };
  let status: DagRunStatus;
  try {
    status = await runStatus(client, runId);
  } catch (err) {
    if (err instanceof WorkerUnavailableError || err instanceof NoSuchWorkflowError || serverFailure(err)?.kind === 'unreachable') throw err;
    const why = serverFailure(err)?.message ?? (err instanceof Error ? err.message : String(err));
    const own = attempts.filter((a) => a.execution.temporalRunId === execution.execution);
    return {
      ...fromTemporalRecord(runId, description, own),
      ...execution,
      note: `the run's state query cannot answer (${why}); task states are their last recorded attempts`,
    };
  }
  if (CLOSED_FROM_OUTSIDE.has(temporalStatus) && status.state !== 'success' && status.state !== 'failed') {
    const how = temporalStatus.toLowerCase().replace('_', ' ');
    return { ...status, ...execution, state: 'failed', note: `Temporal closed this run (${how}) at ${closedAt ?? '?'}; task states are what the run last recorded` };
  }
  return { ...status, ...execution };
}

/** The run as Temporal's record and its execution's attempts have it, for a run that cannot answer its query. */
function fromTemporalRecord(runId: string, description: WorkflowExecutionDescription, attempts: AttemptRow[]): RecordedStatus {
  const attrs = description.typedSearchAttributes;
  const logicalDate = attrs.get(LogicalDateKey);
  const byTask = new Map<string, AttemptRow[]>();
  for (const a of attempts) byTask.set(a.taskId, [...(byTask.get(a.taskId) ?? []), a]);
  const tasks: TaskStatus[] = [...byTask].map(([id, own]) => {
    const last = own.at(-1) as AttemptRow;
    return {
      id,
      state: last.state as TaskState,
      attempts: own.length,
      startedAt: (own[0] as AttemptRow).startedAt,
      ...(last.endedAt ? { endedAt: last.endedAt } : {}),
      ...(last.error ? { error: last.error } : {}),
    };
  });
  return {
    dagId: attrs.get(DagIdKey) ?? runId,
    runId,
    state: description.status.name === 'RUNNING' ? ((attrs.get(DagRunStateKey) as DagRunState | undefined) ?? 'running') : 'failed',
    ...(logicalDate ? { logicalDate: formatLogicalDate(logicalDate) } : {}),
    failedTasks: tasks.filter((t) => t.state === 'failed').map((t) => t.id),
    tasks,
  };
}
