/**
 * The DAG list's numbers from run history: each DAG's latest runs (one square per logical date,
 * its newest execution) and how many of its finished ones succeeded. One query for every DAG,
 * each DAG read backwards along the (dag_id, logical_date) index, however long the history.
 */
import type { Knex } from 'knex';
import { fromPostgres } from '../../client/server-failures';
import { isoTime } from './iso-time';

export const RECENT_RUNS = 25;

export interface RecentRun {
  runId: string;
  state: string;
  logicalDate: string;
}

export interface DagHistory {
  recent: RecentRun[];
  /** Share of `recent` runs that finished and succeeded, null when none finished. */
  successRate: number | null;
  lastRun: RecentRun | null;
}

export async function dagHistories(db: Knex, dagIds: readonly string[]): Promise<Map<string, DagHistory>> {
  const histories = new Map<string, DagHistory>(dagIds.map((id) => [id, { recent: [], successRate: null, lastRun: null }]));
  if (dagIds.length === 0) return histories;
  // Times come formatted from Postgres: parsing them into Dates and back costs more than the query.
  const { rows } = await fromPostgres(
    db.raw<{ rows: Array<{ dag_id: string; run_id: string; state: string; logical_date: string }> }>(
      `select d.dag_id, r.run_id, r.state, ${isoTime('r.logical_date')} as logical_date
         from unnest(?::text[]) as d(dag_id)
         cross join lateral (
           select distinct on (logical_date) run_id, state, logical_date
             from sluice.dag_runs
            where dag_id = d.dag_id
            order by logical_date desc, started_at desc
            limit ?
         ) r
        order by d.dag_id, r.logical_date asc`,
      [dagIds as string[], RECENT_RUNS],
    ),
  );
  for (const r of rows) histories.get(r.dag_id)?.recent.push({ runId: r.run_id, state: r.state, logicalDate: r.logical_date });
  for (const history of histories.values()) {
    const finished = history.recent.filter((r) => r.state === 'success' || r.state === 'failed');
    history.successRate = finished.length === 0 ? null : finished.filter((r) => r.state === 'success').length / finished.length;
    history.lastRun = history.recent.at(-1) ?? null;
  }
  return histories;
}

export interface AttentionRun {
  runId: string;
  dagId: string;
  state: string;
  logicalDate: string;
  failedTasks: string[];
  reason: string | null;
}

/**
 * What the on-call engineer opens the console for: runs waiting for an operator, and runs that
 * failed in the last `days` and were not run again since. By the state index; newest first.
 */
export async function runsNeedingAttention(db: Knex, opts: { days: number; limit: number }): Promise<AttentionRun[]> {
  const { rows } = await fromPostgres(
    db.raw<{ rows: Array<{ run_id: string; dag_id: string; state: string; logical_date: string; failed_tasks: string[]; reason: string | null }> }>(
      `select r.run_id, r.dag_id, r.state, ${isoTime('r.logical_date')} as logical_date, r.failed_tasks, r.reason
         from sluice.dag_runs r
        where (r.state = 'awaiting_operator' or (r.state = 'failed' and r.ended_at > now() - make_interval(days => ?)))
          and not exists (select 1 from sluice.dag_runs later where later.run_id = r.run_id and later.started_at > r.started_at)
        order by (r.state = 'awaiting_operator') desc, r.logical_date desc
        limit ?`,
      [opts.days, opts.limit],
    ),
  );
  return rows.map((r) => ({ runId: r.run_id, dagId: r.dag_id, state: r.state, logicalDate: r.logical_date, failedTasks: r.failed_tasks, reason: r.reason }));
}
