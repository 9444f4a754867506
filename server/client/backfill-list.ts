import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { z } from 'zod';
import type { BackfillProgress, DateOutcome } from '../../workflows/backfill';
import { DagIdKey } from '../../workflows/search-attributes';
import { backfillProgress, type BackfillMemo } from './backfill';
import { WorkerUnavailableError } from './workers';

export interface BackfillSummary {
  backfillId: string;
  dagId: string | null;
  /**
   * The backfill's own state (running, paused, cancelling, done, cancelled), or how Temporal
   * closed it otherwise (terminated, failed, timed_out).
   */
  state: string;
  from: string | null;
  to: string | null;
  total: number | null;
  /** Null when nobody can tell: it runs and no worker answers, or it ended without a result. */
  counts: Record<DateOutcome, number> | null;
  startedAt: string;
  closedAt: string | null;
}

const Memo = z.object({ from: z.string(), to: z.string(), dates: z.number() }) satisfies z.ZodType<BackfillMemo>;

/** Backfills, newest first, optionally of one DAG, from Temporal's visibility store. */
export async function listBackfills(client: Client, filter: { dagId?: string; limit: number }): Promise<BackfillSummary[]> {
  if (filter.dagId !== undefined && !/^[a-z0-9_]+$/.test(filter.dagId)) throw new Error(`not a DAG id: '${filter.dagId}'`);
  const dag = filter.dagId === undefined ? '' : ` AND DagId = '${filter.dagId}'`;
  const found: WorkflowExecutionInfo[] = [];
  for await (const info of client.workflow.list({ query: `WorkflowType = 'backfill'${dag}`, pageSize: filter.limit })) {
    found.push(info);
    if (found.length === filter.limit) break;
  }
  return Promise.all(found.map((info) => summarize(client, info)));
}

async function summarize(client: Client, info: WorkflowExecutionInfo): Promise<BackfillSummary> {
  const memo = Memo.safeParse(info.memo);
  const progress = await progressOf(client, info);
  const dates = progress?.dates.map((d) => d.logicalDate).sort();
  return {
    backfillId: info.workflowId,
    dagId: info.typedSearchAttributes.get(DagIdKey) ?? null,
    state: progress?.state ?? info.status.name.toLowerCase(),
    from: dates?.[0] ?? (memo.success ? memo.data.from : null),
    to: dates?.at(-1) ?? (memo.success ? memo.data.to : null),
    total: progress?.total ?? (memo.success ? memo.data.dates : null),
    counts: progress?.counts ?? null,
    startedAt: info.startTime.toISOString(),
    closedAt: info.closeTime?.toISOString() ?? null,
  };
}

/** A running backfill answers a query; a completed one has its final progress as its result. */
async function progressOf(client: Client, info: WorkflowExecutionInfo): Promise<BackfillProgress | undefined> {
  if (info.status.name === 'COMPLETED') return client.workflow.getHandle(info.workflowId, info.runId).result() as Promise<BackfillProgress>;
  if (info.status.name !== 'RUNNING') return undefined;
  try {
    return await backfillProgress(client, info.workflowId);
  } catch (err) {
    if (err instanceof WorkerUnavailableError) return undefined;
    throw err;
  }
}
