import type { Client } from '@temporalio/client';
import { failRunUpdate, markTaskSuccessUpdate, retryTaskUpdate, stateQuery, type DagRunStatus, type OperatorOutcome } from '../../workflows/messages';

/**
 * Operator actions on a run, sent as Updates so the caller learns at once whether the run
 * accepted them (a retry of a task that did not fail is rejected with the reason).
 */
export function retryRun(client: Client, runId: string, taskId?: string): Promise<OperatorOutcome> {
  return client.workflow.getHandle(runId).executeUpdate(retryTaskUpdate, { args: [taskId ?? null] });
}

export function markTaskSuccess(client: Client, runId: string, taskId: string): Promise<OperatorOutcome> {
  return client.workflow.getHandle(runId).executeUpdate(markTaskSuccessUpdate, { args: [taskId] });
}

export function failRun(client: Client, runId: string, reason?: string): Promise<OperatorOutcome> {
  return client.workflow.getHandle(runId).executeUpdate(failRunUpdate, { args: [reason ?? null] });
}

export function runStatus(client: Client, runId: string): Promise<DagRunStatus> {
  return client.workflow.getHandle(runId).query(stateQuery);
}
