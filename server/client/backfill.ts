import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Reprocess } from '../../activities/backfill';
import { progressQuery, type backfill, type BackfillProgress } from '../../workflows/backfill';
import { DagIdKey } from '../../workflows/search-attributes';
import type { DagSpec } from '../../workflows/spec';
import { fireTimes } from '../schedules/fire-times';
import { formatLogicalDate } from './run-id';

export interface BackfillRequest {
  logicalDates: Date[];
  concurrency: number;
  reprocess: Reprocess;
  params: Record<string, unknown>;
}

export class BackfillRunningError extends Error {}

/** A range that cannot be backfilled: empty, or longer than allowed. */
export class BackfillRangeError extends Error {}

/** The most dates one backfill covers unless the caller allows more (CLI `--max-dates`). */
export const DEFAULT_MAX_BACKFILL_DATES = 1000;

/** The logical dates of a scheduled DAG between two instants (inclusive), in run order. */
export function backfillDates(
  schedule: NonNullable<DagSpec['schedule']>,
  from: Date,
  to: Date,
  options: { maxDates?: number; reverse?: boolean } = {},
): Date[] {
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
 * Starts a durable backfill workflow. Its id names the DAG and the range, so repeating the same
 * command while it runs is refused instead of starting a second copy.
 */
export async function startBackfill(client: Client, spec: DagSpec, request: BackfillRequest): Promise<string> {
  const dates = request.logicalDates.map(formatLogicalDate);
  const sorted = [...dates].sort();
  const backfillId = `backfill-${spec.dagId}-${sorted[0]}-${sorted.at(-1)}`;
  try {
    await client.workflow.start<typeof backfill>('backfill', {
      workflowId: backfillId,
      taskQueue: spec.taskQueue,
      args: [{ spec, logicalDates: dates, concurrency: request.concurrency, reprocess: request.reprocess, params: request.params }],
      workflowIdConflictPolicy: 'FAIL',
      typedSearchAttributes: [{ key: DagIdKey, value: spec.dagId }],
      staticSummary: `backfill ${spec.dagId}: ${dates.length} dates, concurrency ${request.concurrency}, reprocess ${request.reprocess}`,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      throw new BackfillRunningError(`a backfill of this range is already running: ${backfillId}`);
    }
    throw err;
  }
  return backfillId;
}

export function backfillProgress(client: Client, backfillId: string): Promise<BackfillProgress> {
  return client.workflow.getHandle(backfillId).query(progressQuery);
}

/** Pause, resume or cancel (stop starting dates; runs in flight finish) a backfill. */
export async function controlBackfill(client: Client, backfillId: string, action: 'pause' | 'resume' | 'cancel'): Promise<void> {
  await client.workflow.getHandle(backfillId).signal(action);
}
