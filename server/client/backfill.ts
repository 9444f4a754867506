import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Reprocess } from '../../activities/backfill';
import { progressQuery, type backfill, type BackfillProgress } from '../../workflows/backfill';
import { DagIdKey } from '../../workflows/search-attributes';
import type { DagSpec } from '../../workflows/spec';
import { fireTimes } from '../schedules/fire-times';
import { rangeBounds, type DateArg } from './logical-dates';
import { formatLogicalDate } from './run-id';
import { askWorkflow, describeAs } from './workers';

export interface BackfillRequest {
  logicalDates: Date[];
  concurrency: number;
  reprocess: Reprocess;
  params: Record<string, unknown>;
}

/** What `startBackfill` records in the memo, so a listing shows the range without asking a worker. */
export interface BackfillMemo {
  from: string;
  to: string;
  dates: number;
}

export class BackfillRunningError extends Error {}

/** A range that cannot be backfilled: empty, reversed, or longer than allowed. */
export class BackfillRangeError extends Error {}

/** The most dates one backfill covers unless the caller allows more (CLI `--max-dates`). */
export const DEFAULT_MAX_BACKFILL_DATES = 1000;

/**
 * The logical dates of a scheduled DAG in a range, in run order. Bare dates are whole local days
 * of the DAG's time zone, `to` included (see logical-dates.ts); the CLI and the console both
 * come here, so the same range means the same dates in both.
 */
export function backfillDates(
  schedule: NonNullable<DagSpec['schedule']>,
  range: { from: DateArg; to: DateArg },
  options: { maxDates?: number; reverse?: boolean } = {},
): Date[] {
  const { from, to } = rangeBounds(schedule.timezone, range.from, range.to);
  if (from > to) throw new BackfillRangeError(`from ${range.from.text} is after to ${range.to.text}`);
  let dates: Date[];
  try {
    dates = fireTimes(schedule.cron, schedule.timezone, from, to, options.maxDates ?? DEFAULT_MAX_BACKFILL_DATES);
  } catch (err) {
    throw new BackfillRangeError((err as Error).message);
  }
  if (dates.length === 0) {
    throw new BackfillRangeError(`no logical date of '${schedule.cron}' (${schedule.timezone}) falls between ${from.toISOString()} and ${to.toISOString()}`);
  }
  return options.reverse ? dates.reverse() : dates;
}

/**
 * Starts a durable backfill workflow under an id of its own: `backfill-<dag>-<from>-<to>-<n>`,
 * the lowest `n` never used, so every backfill of a range keeps its status. A backfill of the same
 * range that still runs is refused instead of copied. Temporal refuses a second start of an id
 * (REJECT_DUPLICATE), so two racing starts cannot both succeed.
 */
export async function startBackfill(client: Client, spec: DagSpec, request: BackfillRequest): Promise<string> {
  const dates = request.logicalDates.map(formatLogicalDate);
  const sorted = [...dates].sort();
  const memo: BackfillMemo = { from: sorted[0] as string, to: sorted.at(-1) as string, dates: dates.length };
  const idOf = (n: number) => `backfill-${spec.dagId}-${memo.from}-${memo.to}-${n}`;
  for (let n = 1; ; n++) {
    try {
      await client.workflow.start<typeof backfill>('backfill', {
        workflowId: idOf(n),
        taskQueue: spec.taskQueue,
        args: [{ spec, logicalDates: dates, concurrency: request.concurrency, reprocess: request.reprocess, params: request.params }],
        workflowIdConflictPolicy: 'FAIL',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        typedSearchAttributes: [{ key: DagIdKey, value: spec.dagId }],
        memo: { ...memo },
        staticSummary: `backfill ${spec.dagId}: ${dates.length} dates, concurrency ${request.concurrency}, reprocess ${request.reprocess}`,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      if (await isRunning(client, idOf(n))) throw new BackfillRunningError(`a backfill of this range is already running: ${idOf(n)}`);
      continue;
    }
    // An id frees up again once Temporal's retention deletes that backfill, so a running one may
    // sit above the id we just took: ids above it were taken in order, and only the last can run.
    for (let above = n + 1; ; above++) {
      const running = await isRunning(client, idOf(above));
      if (running === undefined) return idOf(n);
      if (running) {
        await client.workflow.getHandle(idOf(n)).terminate(`a backfill of this range is already running: ${idOf(above)}`);
        throw new BackfillRunningError(`a backfill of this range is already running: ${idOf(above)}`);
      }
    }
  }
}

/** Whether a workflow runs; undefined when there is none of that id. */
async function isRunning(client: Client, workflowId: string): Promise<boolean | undefined> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

export function backfillProgress(client: Client, backfillId: string): Promise<BackfillProgress> {
  const handle = client.workflow.getHandle(backfillId);
  return askWorkflow(handle, 'backfill', () => handle.query(progressQuery));
}

/** Pause, resume or cancel (stop starting dates; runs in flight finish) a backfill. */
export async function controlBackfill(client: Client, backfillId: string, action: 'pause' | 'resume' | 'cancel'): Promise<void> {
  const handle = client.workflow.getHandle(backfillId);
  // A run would take the Signal and ignore it: say it is not a backfill instead.
  await describeAs(handle, 'backfill');
  await handle.signal(action);
}
