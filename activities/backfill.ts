/**
 * Planning a backfill: which logical dates to run, given what already ran. The same function
 * answers `--dry-run` (from the CLI) and the backfill workflow (as an activity), so the preview
 * is exactly what will happen.
 */
import type { Knex } from 'knex';

export type Reprocess = 'none' | 'failed' | 'all';
export type DateAction = 'run' | 'rerun' | 'skip_succeeded' | 'skip_failed' | 'skip_in_flight';

export interface PlannedDate {
  logicalDate: string;
  runId: string;
  /** State of the latest run of this date, if any. */
  lastState: string | null;
  action: DateAction;
}

export async function planDates(
  db: Knex,
  args: { dagId: string; logicalDates: string[]; reprocess: Reprocess },
): Promise<PlannedDate[]> {
  const runId = (date: string) => `${args.dagId}-${date.replace(/\.\d{3}Z$/, 'Z')}`;
  const ids = args.logicalDates.map(runId);
  const rows: Array<{ run_id: string; state: string }> = await db
    .withSchema('sluice')
    .table('dag_runs')
    .distinctOn('run_id')
    .select('run_id', 'state')
    .whereIn('run_id', ids)
    .orderBy([{ column: 'run_id' }, { column: 'started_at', order: 'desc' }]);
  const latest = new Map(rows.map((r) => [r.run_id, r.state]));
  return args.logicalDates.map((logicalDate) => {
    const id = runId(logicalDate);
    const lastState = latest.get(id) ?? null;
    return { logicalDate, runId: id, lastState, action: decide(lastState, args.reprocess) };
  });
}

function decide(lastState: string | null, reprocess: Reprocess): DateAction {
  if (lastState === null) return 'run';
  if (lastState === 'running' || lastState === 'queued' || lastState === 'awaiting_operator') return 'skip_in_flight';
  if (lastState === 'failed') return reprocess === 'none' ? 'skip_failed' : 'rerun';
  return reprocess === 'all' ? 'rerun' : 'skip_succeeded';
}

export function createBackfillActivities(deps: { db: Knex }) {
  return {
    planBackfill: (args: { dagId: string; logicalDates: string[]; reprocess: Reprocess }) => planDates(deps.db, args),
  };
}
export type BackfillActivities = ReturnType<typeof createBackfillActivities>;
