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

/** Writes `sluice.task_attempts`: one row per attempt, opened when it starts, closed when it ends. */
export function createAttemptHistory(db: Knex, worker: string) {
  const table = () => db.withSchema('sluice').table('task_attempts');
  const keyColumns = (key: AttemptKey) => ({
    temporal_run_id: key.temporalRunId,
    task_id: key.taskId,
    map_index: key.mapIndex,
  });

  return {
    async start(key: AttemptKey): Promise<void> {
      await table()
        .insert({ ...keyColumns(key), run_id: key.runId, dag_id: key.dagId, attempt: key.attempt, state: 'running', started_at: new Date(), worker })
        .onConflict(['temporal_run_id', 'task_id', 'map_index', 'attempt'])
        .merge(['state', 'started_at', 'worker']);
      // An earlier attempt still "running" lost its worker: the workflow already moved on.
      if (key.attempt === 1) return;
      await table()
        .where(keyColumns(key))
        .andWhere('attempt', '<', key.attempt)
        .andWhere('state', 'running')
        .update({ state: 'failed', ended_at: new Date(), error: 'attempt lost: its worker stopped or timed out' });
    },

    async finish(key: AttemptKey, outcome: { state: 'success' | 'failed'; error?: string; logs: LogLine[] }): Promise<void> {
      // A row the workflow already closed (it gave up on this attempt as lost) keeps its verdict,
      // but gets the log lines: they show what the attempt was doing.
      // (Every SET expression sees the row as it was, so each tests the old state.)
      const ifRunning = (column: string, value: string | Date | null) => db.raw(`case when state = 'running' then ? else ?? end`, [value, column]);
      await table()
        .where({ ...keyColumns(key), attempt: key.attempt })
        .update({
          state: ifRunning('state', outcome.state),
          ended_at: ifRunning('ended_at', new Date()),
          error: ifRunning('error', outcome.error ?? null),
          logs: JSON.stringify(outcome.logs),
        });
    },
  };
}
export type AttemptHistory = ReturnType<typeof createAttemptHistory>;
