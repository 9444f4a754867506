import type { Knex } from 'knex';
import type { LogLine } from './attempt-log';

export interface AttemptKey {
  temporalRunId: string;
  runId: string;
  dagId: string;
  taskId: string;
  mapIndex: number;
  attempt: number;
}

/** What a worker knows of one attempt: when it started and, once it has, how it ended. */
export interface AttemptRecord {
  key: AttemptKey;
  startedAt: Date;
  end?: { state: 'success' | 'failed'; endedAt: Date; error?: string; logs: LogLine[] };
}

/**
 * Writes attempt records to `sluice.task_attempts` in one statement: an open record opens the
 * row ('running'), an ended one closes it with its state, error and log lines. Writing a record
 * again changes nothing, so a batch whose outcome is unknown (a connection lost mid-commit) can
 * simply be written again.
 *
 * A row someone else already closed keeps its verdict: the run closes the rows of attempts it
 * gave up on (a lost worker, a timeout) or whose worker could not write them (`closeLostAttempt`,
 * `recordAttempts`). It still gets this worker's start time, name and log lines: they show what
 * the attempt was doing. (Every SET expression sees the row as it was, so each tests the old state.)
 */
export async function writeAttempts(db: Knex, worker: string, records: readonly AttemptRecord[]): Promise<void> {
  if (records.length === 0) return;
  const rows = records.map(({ key, startedAt, end }) => ({
    temporal_run_id: key.temporalRunId,
    run_id: key.runId,
    dag_id: key.dagId,
    task_id: key.taskId,
    map_index: key.mapIndex,
    attempt: key.attempt,
    state: end?.state ?? 'running',
    started_at: startedAt.toISOString(),
    ended_at: end?.endedAt.toISOString() ?? null,
    error: end?.error ?? null,
    logs: end?.logs ?? null,
  }));
  await db.raw(
    `insert into sluice.task_attempts as t
       (temporal_run_id, run_id, dag_id, task_id, map_index, attempt, state, started_at, ended_at, error, worker, logs)
     select r.temporal_run_id, r.run_id, r.dag_id, r.task_id, r.map_index, r.attempt, r.state, r.started_at, r.ended_at, r.error, ?, coalesce(r.logs, '[]')
       from json_to_recordset(?::json) as r(temporal_run_id text, run_id text, dag_id text, task_id text, map_index int, attempt int,
                                            state text, started_at timestamptz, ended_at timestamptz, error text, logs jsonb)
     on conflict (temporal_run_id, task_id, map_index, attempt) do update set
       started_at = excluded.started_at,
       worker = excluded.worker,
       state = case when t.state = 'running' then excluded.state else t.state end,
       ended_at = case when t.state = 'running' then excluded.ended_at else t.ended_at end,
       error = case when t.state = 'running' then excluded.error else t.error end,
       logs = case when excluded.state = 'running' then t.logs else excluded.logs end`,
    [worker, toPostgresJson(rows)],
  );
}

/**
 * JSON that Postgres accepts: it refuses NUL in text and jsonb ("unsupported Unicode escape
 * sequence"), and one NUL in a task's log line must not keep its attempt off the record.
 */
export function toPostgresJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '') : v));
}
