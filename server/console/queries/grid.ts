/**
 * The grid's data: one DAG's runs (newest logical date first, each date's newest execution) and,
 * for each, the latest attempt of every task. Both read by index: runs along (dag_id,
 * logical_date), attempts along (run_id, task_id), so a page costs the same with 10 runs or
 * 10 million.
 */
import type { Knex } from 'knex';
import { z } from 'zod';
import { fromPostgres } from '../../client/server-failures';
import { isoTime } from './iso-time';

export const gridQuery = z
  .object({
    state: z.enum(['queued', 'running', 'awaiting_operator', 'success', 'failed']).optional(),
    from: z.iso.date({ message: 'must be a date (YYYY-MM-DD)' }).optional(),
    to: z.iso.date({ message: 'must be a date (YYYY-MM-DD)' }).optional(),
    limit: z.coerce.number().int().min(1).max(100).default(25),
    /** Paging: runs with a logical date before this instant. */
    before: z.iso.datetime({ message: 'must be an ISO date-time' }).optional(),
  })
  .strict();
export type GridQuery = z.output<typeof gridQuery>;

export interface GridRun {
  runId: string;
  temporalRunId: string;
  state: string;
  logicalDate: string;
  trigger: string;
  startedAt: string;
  endedAt: string | null;
  version: string;
}

export interface GridCell {
  state: string;
  /** Attempts of the task in this run (mapped instances count each). */
  attempts: number;
  /** For mapped tasks: instances by state. */
  mapped?: Record<string, number>;
}

export async function gridRuns(db: Knex, dagId: string, q: GridQuery): Promise<{ runs: GridRun[]; hasMore: boolean }> {
  // Read backwards along (dag_id, logical_date), newest first, stopping after the page.
  const latest = db
    .withSchema('sluice')
    .table('dag_runs')
    .distinctOn('logical_date')
    .select('run_id', 'temporal_run_id', 'state', 'logical_date', 'trigger', 'version', 'started_at', 'ended_at')
    .where('dag_id', dagId)
    .orderBy([{ column: 'logical_date', order: 'desc' }, { column: 'started_at', order: 'desc' }]);
  if (q.from) latest.where('logical_date', '>=', `${q.from}T00:00:00Z`);
  if (q.to) latest.where('logical_date', '<', new Date(Date.parse(`${q.to}T00:00:00Z`) + 86_400_000).toISOString());
  if (q.before) latest.where('logical_date', '<', q.before);
  // The state filter applies to each date's newest execution, so it waits for the distinct-on;
  // without one, the page's limit stops the scan.
  if (!q.state) latest.limit(q.limit + 1);
  // Times come formatted from Postgres (iso-time.ts), for the page's rows only.
  const query = db
    .select('run_id', 'temporal_run_id', 'state', 'trigger', 'version')
    .select(db.raw(`${isoTime('started_at')} as started`), db.raw(`${isoTime('ended_at')} as ended`), db.raw(`${isoTime('logical_date')} as logical`))
    .from(latest.as('l'))
    .orderBy('logical_date', 'desc')
    .limit(q.limit + 1);
  if (q.state) query.where('state', q.state);
  const rows = await fromPostgres(query);
  const runs = rows.slice(0, q.limit).map((r) => ({
    runId: r.run_id,
    temporalRunId: r.temporal_run_id,
    state: r.state,
    logicalDate: r.logical,
    trigger: r.trigger,
    startedAt: r.started,
    endedAt: r.ended,
    version: r.version,
  }));
  return { runs, hasMore: rows.length > q.limit };
}

/** The latest attempt of each task (and mapped instance) of these runs, across their executions. */
export async function gridCells(db: Knex, runIds: string[]): Promise<Map<string, Map<string, GridCell>>> {
  const cells = new Map<string, Map<string, GridCell>>(runIds.map((id) => [id, new Map()]));
  if (runIds.length === 0) return cells;
  const rows: Array<{ run_id: string; task_id: string; map_index: number; state: string; attempts: string }> = await fromPostgres(
    db
      .withSchema('sluice')
      .table('task_attempts')
      .distinctOn('run_id', 'task_id', 'map_index')
      .select('run_id', 'task_id', 'map_index', 'state', db.raw('count(*) over (partition by run_id, task_id, map_index) as attempts'))
      .whereIn('run_id', runIds)
      .orderBy([{ column: 'run_id' }, { column: 'task_id' }, { column: 'map_index' }, { column: 'started_at', order: 'desc' }, { column: 'id', order: 'desc' }]),
  );
  for (const r of rows) {
    const byTask = cells.get(r.run_id) as Map<string, GridCell>;
    const existing = byTask.get(r.task_id);
    if (r.map_index < 0 || !existing) {
      byTask.set(r.task_id, { state: r.state, attempts: Number(r.attempts), ...(r.map_index >= 0 ? { mapped: { [r.state]: 1 } } : {}) });
      continue;
    }
    // A mapped task: one cell summing its instances; it shows the worst state among them.
    existing.attempts += Number(r.attempts);
    const mapped = (existing.mapped ??= {});
    mapped[r.state] = (mapped[r.state] ?? 0) + 1;
    existing.state = worse(existing.state, r.state);
  }
  return cells;
}

const SEVERITY = ['failed', 'running', 'up_for_retry', 'queued', 'upstream_failed', 'skipped', 'success'];
function worse(a: string, b: string): string {
  const rank = (s: string) => (SEVERITY.includes(s) ? SEVERITY.indexOf(s) : 0);
  return rank(a) <= rank(b) ? a : b;
}
