import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { failRunUpdate, markTaskSuccessUpdate, retryTaskUpdate, stateQuery, type DagRunStatus, type OperatorOutcome } from '../../workflows/messages';
import { askWorkflow } from './workers';

/**
 * Operator actions on a run, sent as Updates so the caller learns at once whether the run
 * accepted them (a retry of a task that did not fail is rejected with the reason).
 */
export function retryRun(client: Client, runId: string, taskId?: string): Promise<OperatorOutcome> {
  return operate(client, runId, (run) => run.executeUpdate(retryTaskUpdate, { args: [taskId ?? null] }));
}

export function markTaskSuccess(client: Client, runId: string, taskId: string): Promise<OperatorOutcome> {
  return operate(client, runId, (run) => run.executeUpdate(markTaskSuccessUpdate, { args: [taskId] }));
}

export function failRun(client: Client, runId: string, reason?: string): Promise<OperatorOutcome> {
  return operate(client, runId, (run) => run.executeUpdate(failRunUpdate, { args: [reason ?? null] }));
}

/** A closed run takes no operator action; it can only be started again (`trigger --rerun`). */
export class RunClosedError extends Error {}

async function operate<T>(client: Client, runId: string, send: (run: WorkflowHandle) => Promise<T>): Promise<T> {
  const closed = () => new RunClosedError(`run ${runId} has already finished; start it again with \`sluice trigger <dagId> --date <date> --rerun\``);
  const run = client.workflow.getHandle(runId);
  try {
    return await askWorkflow(run, 'run', () => send(run), closed);
  } catch (err) {
    // The run closed between our look at it and the Update.
    if (err instanceof WorkflowNotFoundError && /already completed/i.test(err.message)) throw closed();
    throw err;
  }
}

export function runStatus(client: Client, runId: string): Promise<DagRunStatus> {
  const run = client.workflow.getHandle(runId);
  return askWorkflow(run, 'run', () => run.query(stateQuery));
}
