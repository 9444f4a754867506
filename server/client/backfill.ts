import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Reprocess } from '../../activities/backfill';
import { progressQuery, type backfill, type BackfillProgress } from '../../workflows/backfill';
import { DagIdKey } from '../../workflows/search-attributes';
import type { DagSpec } from '../../workflows/spec';
import { formatLogicalDate } from './run-id';

export interface BackfillRequest {
  logicalDates: Date[];
  concurrency: number;
  reprocess: Reprocess;
  params: Record<string, unknown>;
}

export class BackfillRunningError extends Error {}

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
