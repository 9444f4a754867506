/**
 * The DAG list's numbers from run history: each DAG's latest runs (one square per logical date,
 * its newest execution) and how many of its finished ones succeeded. One query for every DAG,
 * each DAG read backwards along the (dag_id, logical_date) index, however long the history.
 */
import type { Knex } from 'knex';
import { fromPostgres } from '../../client/server-failures';

export const RECENT_RUNS = 25;

export interface RecentRun {
  runId: string;
  state: string;
  logicalDate: string;
  startedAt: string;
  endedAt: string | null;
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
  const { rows } = await fromPostgres(
    db.raw<{ rows: Array<{ dag_id: string; run_id: string; state: string; logical_date: Date; started_at: Date; ended_at: Date | null }> }>(
      `select d.dag_id, r.run_id, r.state, r.logical_date, r.started_at, r.ended_at
         from unnest(?::text[]) as d(dag_id)
         cross join lateral (
           select distinct on (logical_date) run_id, state, logical_date, started_at, ended_at
             from sluice.dag_runs
            where dag_id = d.dag_id
            order by logical_date desc, started_at desc
            limit ?
         ) r
        order by d.dag_id, r.logical_date asc`,
      [dagIds as string[], RECENT_RUNS],
    ),
  );
  for (const r of rows) {
    histories.get(r.dag_id)?.recent.push({
      runId: r.run_id,
      state: r.state,
      logicalDate: new Date(r.logical_date).toISOString(),
      startedAt: new Date(r.started_at).toISOString(),
      endedAt: r.ended_at ? new Date(r.ended_at).toISOString() : null,
    });
  }
  for (const history of histories.values()) {
    const finished = history.recent.filter((r) => r.state === 'success' || r.state === 'failed');
    history.successRate = finished.length === 0 ? null : finished.filter((r) => r.state === 'success').length / finished.length;
    history.lastRun = history.recent.at(-1) ?? null;
  }
  return histories;
}
