import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { failRunUpdate, markTaskSuccessUpdate, retryTaskUpdate, stateQuery, type DagRunStatus, type OperatorOutcome } from '../../workflows/messages';

/**
 * Operator actions on a run, sent as Updates so the caller learns at once whether the run
 * accepted them (a retry of a task that did not fail is rejected with the reason).
 */
export function retryRun(client: Client, runId: string, taskId?: string): Promise<OperatorOutcome> {
  return openRun(runId, client.workflow.getHandle(runId).executeUpdate(retryTaskUpdate, { args: [taskId ?? null] }));
}

export function markTaskSuccess(client: Client, runId: string, taskId: string): Promise<OperatorOutcome> {
  return openRun(runId, client.workflow.getHandle(runId).executeUpdate(markTaskSuccessUpdate, { args: [taskId] }));
}

export function failRun(client: Client, runId: string, reason?: string): Promise<OperatorOutcome> {
  return openRun(runId, client.workflow.getHandle(runId).executeUpdate(failRunUpdate, { args: [reason ?? null] }));
}

/** A closed run takes no operator action; it can only be started again (`trigger --rerun`). */
export class RunClosedError extends Error {}

async function openRun<T>(runId: string, action: Promise<T>): Promise<T> {
  try {
    return await action;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError && /already completed/i.test(err.message)) {
      throw new RunClosedError(`run ${runId} has already finished; start it again with \`sluice trigger <dagId> --date <date> --rerun\``);
    }
    throw err;
  }
}

export function runStatus(client: Client, runId: string): Promise<DagRunStatus> {
  return client.workflow.getHandle(runId).query(stateQuery);
}
