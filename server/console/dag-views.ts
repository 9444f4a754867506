/**
 * What the DAG list, a DAG's grid and a trigger show and do, shared by the pages and the JSON API
 * so both always agree: schedule state from Temporal (cached a few seconds), history from
 * Postgres, and the live state of open runs from their `state` query.
 */
import type { DagSpec } from '../../workflows/spec';
import { LogicalDateError, parseDateArg, triggerDate } from '../client/logical-dates';
import { formatLogicalDate } from '../client/run-id';
import { startDagRun } from '../client/start-run';
import type { ScheduleStatus } from '../schedules/status';
import type { ConsoleContext } from './app';
import { FieldError, HttpError } from './errors';
import { paramErrors } from './params-form';
import { dagHistories, type DagHistory } from './queries/dag-overview';
import { gridCells, gridRuns, type GridCell, type GridQuery, type GridRun } from './queries/grid';

export interface DagSummary extends DagHistory {
  dagId: string;
  description: string | null;
  tags: string[];
  version: string;
  taskCount: number;
  schedule: { cron: string; timezone: string } | null;
  /** The assets a DAG scheduled on assets waits for; null for the others. */
  assetSchedule: string[] | null;
  /** Null for a DAG without a schedule, or one `schedules sync` has not created yet. */
  paused: boolean | null;
  pauseNote: string | null;
  nextRun: string | null;
  takesParams: boolean;
  /** Why the schedule's state is missing, when Temporal could not say. */
  scheduleError?: string;
}

export function findDag(ctx: ConsoleContext, dagId: string): DagSpec {
  const spec = ctx.dags().find((s) => s.dagId === dagId);
  if (!spec) throw new HttpError(404, `unknown DAG '${dagId}' (known: ${ctx.dags().map((s) => s.dagId).join(', ') || 'none'})`);
  return spec;
}

export async function dagSummaries(ctx: ConsoleContext, specs: readonly DagSpec[] = ctx.dags()): Promise<DagSummary[]> {
  const [histories, schedules] = await Promise.all([
    dagHistories(ctx.db, specs.map((s) => s.dagId)),
    Promise.all(specs.map((s) => (s.schedule ? ctx.schedules.get(s).catch((err: Error) => err) : Promise.resolve(undefined)))),
  ]);
  return specs.map((spec, i) => {
    const schedule = schedules[i] as ScheduleStatus | Error | undefined;
    const known = schedule !== undefined && !(schedule instanceof Error) && schedule.exists ? schedule : undefined;
    return {
      dagId: spec.dagId,
      description: spec.description ?? null,
      tags: spec.tags,
      version: spec.version,
      taskCount: spec.tasks.length,
      schedule: spec.schedule,
      assetSchedule: spec.assetSchedule ?? null,
      paused: known ? known.paused : null,
      pauseNote: known?.note ?? null,
      nextRun: known && !known.paused ? (known.nextFires[0] ?? null) : null,
      takesParams: Object.keys((spec.paramsSchema as { properties?: object } | undefined)?.properties ?? {}).length > 0,
      ...(schedule instanceof Error ? { scheduleError: schedule.message } : {}),
      ...(histories.get(spec.dagId) as DagHistory),
    };
  });
}

export interface DagGrid {
  dagId: string;
  /** Rows: the DAG's tasks in its current version's order, then any only older runs had. */
  tasks: string[];
  runs: Array<GridRun & { cells: Record<string, GridCell> }>;
  hasMore: boolean;
}

const OPEN = new Set(['queued', 'running', 'awaiting_operator']);

export async function dagGrid(ctx: ConsoleContext, spec: DagSpec, query: GridQuery): Promise<DagGrid> {
  const { runs, hasMore } = await gridRuns(ctx.db, spec.dagId, query);
  const cells = await gridCells(ctx.db, runs.map((r) => r.runId));
  // Open runs: what they say now beats what the history has caught up with.
  const live = await Promise.all(runs.map((r) => (OPEN.has(r.state) ? ctx.liveStatus.get(r.runId) : undefined)));
  const tasks = spec.tasks.map((t) => t.id);
  const gridded = runs.map((run, i) => {
    const recorded = Object.fromEntries(cells.get(run.runId) ?? new Map());
    const status = live[i];
    if (!status) return { ...run, cells: recorded };
    for (const t of status.tasks) {
      if (t.state === 'pending' && !recorded[t.id]) continue;
      recorded[t.id] = { ...recorded[t.id], state: t.state, attempts: t.attempts };
    }
    return { ...run, state: status.state, cells: recorded };
  });
  for (const run of gridded) for (const id of Object.keys(run.cells)) if (!tasks.includes(id)) tasks.push(id);
  return { dagId: spec.dagId, tasks, runs: gridded, hasMore };
}

export interface TriggerOutcome {
  runId: string;
  started: boolean;
  logicalDate: string;
  location: string;
  message: string;
}

/**
 * Starts a manual run as `sluice trigger` does, params checked against the DAG's schema first
 * (a 400 naming each bad field), so nothing starts with params the run would refuse.
 */
export async function triggerRun(ctx: ConsoleContext, spec: DagSpec, request: { logicalDate?: string; params: unknown }): Promise<TriggerOutcome> {
  let date;
  try {
    date = triggerDate(spec, request.logicalDate ? parseDateArg(request.logicalDate) : undefined);
  } catch (err) {
    if (err instanceof LogicalDateError) throw new FieldError('logicalDate', err.message);
    throw err;
  }
  const params = paramErrors(spec.paramsSchema, request.params ?? {});
  if (!params.ok) throw new FieldError(undefined, `invalid params for ${spec.dagId}: ${params.error}`, params.fields);
  const run = await startDagRun(ctx.temporal, spec, { logicalDate: date.logicalDate, params: params.params, trigger: 'manual' });
  return {
    runId: run.runId,
    started: run.started,
    logicalDate: formatLogicalDate(date.logicalDate),
    location: `/dags/${encodeURIComponent(spec.dagId)}/grid`,
    message: run.started ? `started ${run.runId}` : `${run.runId} already exists; not started again`,
  };
}
