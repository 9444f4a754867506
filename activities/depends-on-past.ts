/**
 * `dependsOnPast` / `waitForDownstream` (Airflow's depends_on_past / wait_for_downstream): whether
 * a task of a run may start, judged from the DAG's previous run, the latest run with an earlier
 * logical date of any trigger but `test`. Read from the run history (`sluice.dag_runs`,
 * `sluice.task_attempts`) and, for runs that may not be on record yet (a backfill starts its
 * dates moments apart), from Temporal's visibility store.
 */
import { Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import { formatLogicalDate, runIdFor } from '../server/client/run-id';
import type { PastRunWait } from '../workflows/messages';
import { LogicalDateKey } from '../workflows/search-attributes';
import type { TaskKind } from '../workflows/spec';
import { OPEN_STATES } from './system';

export interface PastRunCheckInput {
  dagId: string;
  runId: string;
  logicalDate: string;
  /** The task and, with waitForDownstream, its direct downstream tasks: all must be done in the previous run. */
  tasks: Array<{ id: string; kind: TaskKind }>;
}

export type PastRunCheck =
  | { result: 'ok' }
  | { result: 'wait'; wait: PastRunWait }
  | { result: 'blocked'; reason: string };

/** The previous run as found: its run id and date, and its newest execution on record, if any. */
interface PreviousRun {
  runId: string;
  logicalDate: Date;
  /** The newest execution's row; absent when only Temporal knows the run yet. */
  row?: { temporal_run_id: string; state: string; failed_tasks: string[] };
  /** A newer execution than the row is running (a rerun or a cleared run starting again). */
  running: boolean;
}

export function createDependsOnPastActivities(deps: { db: Knex }) {
  return {
    async checkPastRun(args: PastRunCheckInput): Promise<PastRunCheck> {
      const mine = new Date(args.logicalDate);
      // `dags test` runs (ids ending in -test) neither wait on real runs nor count as previous runs.
      if (args.runId !== runIdFor(args.dagId, mine)) return { result: 'ok' };
      const previous = await findPreviousRun(deps.db, args.dagId, mine);
      if (!previous) return { result: 'ok' }; // the DAG's first run
      const named = `run ${previous.runId} (${formatLogicalDate(previous.logicalDate)})`;
      const wait = (why: string, tasks: string[]): PastRunCheck => ({
        result: 'wait',
        wait: { runId: previous.runId, logicalDate: formatLogicalDate(previous.logicalDate), tasks, why },
      });
      const ids = args.tasks.map((t) => t.id);
      const { row } = previous;
      if (!row || (previous.running && !isOpen(row.state))) return wait(`${named} is running`, ids);
      if (row.state === 'success') return { result: 'ok' };

      const newest = await newestAttempts(deps.db, row.temporal_run_id, ids);
      const open = previous.running || isOpen(row.state);
      if (open) {
        // Attempt rows tell a plain task's end; a sensor's poke or a mapped instance's do not tell
        // the task's, so those wait for the run to close.
        const pending = args.tasks.filter((t) => !(t.kind === 'task' || t.kind === 'branch') || !succeeded(newest.get(t.id)));
        if (pending.length === 0) return { result: 'ok' };
        return wait(`${named} is still ${row.state === 'awaiting_operator' ? 'awaiting an operator' : 'running'} and has not finished ${pending.map((t) => `'${t.id}'`).join(', ')}`, pending.map((t) => t.id));
      }
      const [own] = ids;
      for (const task of args.tasks) {
        const states = newest.get(task.id);
        if (!row.failed_tasks.includes(task.id) && succeeded(states)) continue;
        const state = row.failed_tasks.includes(task.id) ? 'failed' : states?.find((s) => s !== 'success') ?? 'did not run';
        const downstream = task.id === own ? '' : `, downstream of '${String(own)}' (waitForDownstream)`;
        return { result: 'blocked', reason: `depends on past: ${named} did not succeed task '${task.id}' (state ${state})${downstream}` };
      }
      return { result: 'ok' };
    },
  };
}

export type DependsOnPastActivities = ReturnType<typeof createDependsOnPastActivities>;

function isOpen(state: string): boolean {
  return (OPEN_STATES as readonly string[]).includes(state);
}

/** Every instance's newest attempt succeeded (a skipped task has none: it counts only in a successful run). */
function succeeded(states: string[] | undefined): boolean {
  return states !== undefined && states.length > 0 && states.every((s) => s === 'success');
}

/** The state of each task's newest attempt, per mapped instance. */
async function newestAttempts(db: Knex, temporalRunId: string, taskIds: string[]): Promise<Map<string, string[]>> {
  const rows: Array<{ task_id: string; state: string }> = await db
    .withSchema('sluice')
    .table('task_attempts')
    .distinctOn('task_id', 'map_index')
    .where('temporal_run_id', temporalRunId)
    .whereIn('task_id', taskIds)
    .orderBy([{ column: 'task_id' }, { column: 'map_index' }, { column: 'attempt', order: 'desc' }])
    .select('task_id', 'map_index', 'state');
  const byTask = new Map<string, string[]>();
  for (const r of rows) byTask.set(r.task_id, [...(byTask.get(r.task_id) ?? []), r.state]);
  return byTask;
}

/**
 * The latest run of the DAG before `before`: from the run history, or from Temporal when a run
 * in flight is newer than anything on record (it has not written its row yet).
 */
async function findPreviousRun(db: Knex, dagId: string, before: Date): Promise<PreviousRun | undefined> {
  const row: { run_id: string; logical_date: Date; temporal_run_id: string; state: string; failed_tasks: string[] } | undefined = await db
    .withSchema('sluice')
    .table('dag_runs')
    .where('dag_id', dagId)
    .where('logical_date', '<', before)
    .whereNot('trigger', 'test')
    .orderBy([{ column: 'logical_date', order: 'desc' }, { column: 'started_at', order: 'desc' }])
    .first('run_id', 'logical_date', 'temporal_run_id', 'state', 'failed_tasks');
  const inFlight = await latestRunningBefore(dagId, before, row?.logical_date);
  if (inFlight && (!row || inFlight.logicalDate > row.logical_date)) return { ...inFlight, running: true };
  if (!row) return undefined;
  const running = inFlight?.runId === row.run_id;
  return { runId: row.run_id, logicalDate: row.logical_date, row, running };
}

/** The run in flight with the latest logical date in [from, before), from Temporal's visibility store. */
async function latestRunningBefore(dagId: string, before: Date, from: Date | undefined): Promise<{ runId: string; logicalDate: Date } | undefined> {
  // DAG ids are [a-z0-9_]+ (validated), so they need no quoting.
  const since = from ? ` AND LogicalDate >= '${from.toISOString()}'` : '';
  const query = `WorkflowType = 'dagRun' AND ExecutionStatus = 'Running' AND DagId = '${dagId}' AND LogicalDate < '${before.toISOString()}'${since}`;
  let latest: { runId: string; logicalDate: Date } | undefined;
  for await (const info of Context.current().client.workflow.list({ query })) {
    const date = info.typedSearchAttributes.get(LogicalDateKey);
    // Only the date's real run (`<dagId>-<date>`) counts, not a `dags test` run of it.
    if (!date || info.workflowId !== runIdFor(dagId, date)) continue;
    if (!latest || date > latest.logicalDate) latest = { runId: info.workflowId, logicalDate: date };
  }
  return latest;
}
