import type { Knex } from 'knex';
import type { DagRunState } from '../../workflows/spec';
import { fromPostgres } from './server-failures';

export interface RunSummary {
  runId: string;
  temporalRunId: string;
  dagId: string;
  version: string;
  logicalDate: string;
  state: DagRunState;
  trigger: string;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  failedTasks: string[];
}

/** One execution of a run id: the first, and one more for each `trigger --rerun`. */
export interface Execution {
  temporalRunId: string;
  /** Null when the execution's run row is missing (its attempts were recorded all the same). */
  trigger: string | null;
  startedAt: string | null;
}

export interface AttemptRow {
  execution: Execution;
  taskId: string;
  mapIndex: number | null;
  attempt: number;
  state: string;
  startedAt: string;
  endedAt: string | null;
  error: string | null;
  worker: string;
  logs: unknown[];
}

/** Run history from `sluice.dag_runs`: newest logical date first, reruns included. */
export async function listRuns(
  db: Knex,
  filter: { dagId?: string; state?: DagRunState; limit: number; before?: string },
): Promise<RunSummary[]> {
  const query = db
    .withSchema('sluice')
    .table('dag_runs')
    .orderBy([{ column: 'logical_date', order: 'desc' }, { column: 'started_at', order: 'desc' }])
    .limit(filter.limit);
  if (filter.dagId) query.where('dag_id', filter.dagId);
  if (filter.state) query.where('state', filter.state);
  // Paging: the next page holds the runs of logical dates before the last one shown.
  if (filter.before) query.where('logical_date', '<', filter.before);
  const rows = await fromPostgres(query);
  return rows.map((r) => {
    const startedAt = new Date(r.started_at);
    const endedAt = r.ended_at ? new Date(r.ended_at) : null;
    return {
      runId: r.run_id,
      temporalRunId: r.temporal_run_id,
      dagId: r.dag_id,
      version: r.version,
      logicalDate: new Date(r.logical_date).toISOString(),
      state: r.state,
      trigger: r.trigger,
      startedAt: startedAt.toISOString(),
      endedAt: endedAt?.toISOString() ?? null,
      durationMs: endedAt ? endedAt.getTime() - startedAt.getTime() : null,
      failedTasks: r.failed_tasks,
    };
  });
}

/**
 * Every attempt of a run's tasks, across all its executions (a rerun starts a new one), oldest
 * execution first and, within one, oldest attempt first.
 */
export async function listAttempts(db: Knex, runId: string, taskId?: string): Promise<AttemptRow[]> {
  const query = db
    .withSchema('sluice')
    .table('task_attempts as a')
    .leftJoin('dag_runs as r', 'r.temporal_run_id', 'a.temporal_run_id')
    .select('a.*', 'r.trigger as run_trigger', 'r.started_at as run_started_at')
    .where('a.run_id', runId)
    .orderByRaw('coalesce(r.started_at, a.started_at), a.temporal_run_id, a.started_at, a.id');
  if (taskId) query.where('a.task_id', taskId);
  const rows = await fromPostgres(query);
  return rows.map((r) => ({
    execution: {
      temporalRunId: r.temporal_run_id,
      trigger: r.run_trigger ?? null,
      startedAt: r.run_started_at ? new Date(r.run_started_at).toISOString() : null,
    },
    taskId: r.task_id,
    mapIndex: r.map_index < 0 ? null : r.map_index,
    attempt: r.attempt,
    state: r.state,
    startedAt: new Date(r.started_at).toISOString(),
    endedAt: r.ended_at ? new Date(r.ended_at).toISOString() : null,
    error: r.error,
    worker: r.worker,
    logs: r.logs,
  }));
}

/** Whether Sluice has any record of the run: a run row, or an attempt (its row may be missing). */
export async function runRecorded(db: Knex, runId: string): Promise<boolean> {
  const [run, attempt] = await Promise.all(
    ['dag_runs', 'task_attempts'].map((table) => fromPostgres(db.withSchema('sluice').table(table).where('run_id', runId).first('run_id'))),
  );
  return run !== undefined || attempt !== undefined;
}
