/**
 * Queries and Updates are answered by a worker, and Temporal holds them for as long as no worker
 * polls the workflow's task queue: a command that asks a run something while no worker runs would
 * wait forever, printing nothing. So we check for a worker first, and put a deadline on the call
 * itself for a worker that stopped too recently for the check to see.
 */
import { isGrpcDeadlineError, type WorkflowClient, type WorkflowExecutionDescription, type WorkflowHandle } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';

/** No worker can answer: none polls the task queue, or it did not answer in time. */
export class WorkerUnavailableError extends Error {}

/** No worker polls the task queue at all. */
export class NoWorkerError extends WorkerUnavailableError {
  constructor(readonly taskQueue: string) {
    super(`no worker is polling task queue '${taskQueue}': start \`sluice up\` (or \`sluice worker\`)`);
  }
}

/**
 * Temporal lists a poller for 5 minutes after its last poll; a live worker polls again at least
 * once a minute (when its long poll expires), so an older poller belongs to a stopped worker.
 */
const LIVE_POLLER_MS = 2 * 60_000;

/** How long a worker gets to answer a query or accept an Update. */
export const ANSWER_DEADLINE_MS = 10_000;

export async function requireWorker(workflows: WorkflowClient, taskQueue: string): Promise<void> {
  const { pollers } = await workflows.workflowService.describeTaskQueue({
    namespace: workflows.options.namespace,
    taskQueue: { name: taskQueue },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const now = Date.now();
  if (!pollers?.some((p) => now - (optionalTsToMs(p.lastAccessTime) ?? 0) < LIVE_POLLER_MS)) throw new NoWorkerError(taskQueue);
}

/** What a workflow id names: a DAG run (workflow type `dagRun`) or a backfill (`backfill`). */
export type WorkflowKind = 'run' | 'backfill';
const WORKFLOW_TYPES: Record<WorkflowKind, string> = { run: 'dagRun', backfill: 'backfill' };

/** No run (or backfill) has that id: no workflow does, or one of another kind (a backfill's id given as a run's). */
export class NoSuchWorkflowError extends Error {
  constructor(
    readonly kind: WorkflowKind,
    readonly workflowId: string,
  ) {
    super(`no such ${kind}: ${workflowId}`);
  }
}

/** describe() of the run or backfill behind `handle`; a workflow of another type is not one. */
export async function describeAs(handle: WorkflowHandle, kind: WorkflowKind): Promise<WorkflowExecutionDescription> {
  let description: WorkflowExecutionDescription;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new NoSuchWorkflowError(kind, handle.workflowId);
    throw err;
  }
  if (description.type !== WORKFLOW_TYPES[kind]) throw new NoSuchWorkflowError(kind, handle.workflowId);
  return description;
}

/**
 * Sends `ask` (a query or an Update of the run or backfill behind `handle`) once a worker serves
 * the workflow's task queue, and gives up after ANSWER_DEADLINE_MS. `whenClosed` refuses a closed
 * workflow instead (Updates cannot reach one; queries of one still need a worker to replay it).
 */
export async function askWorkflow<T>(handle: WorkflowHandle, kind: WorkflowKind, ask: () => Promise<T>, whenClosed?: () => Error): Promise<T> {
  const { taskQueue, status } = await describeAs(handle, kind);
  if (whenClosed && status.name !== 'RUNNING') throw whenClosed();
  await requireWorker(handle.client, taskQueue);
  try {
    return await handle.client.withDeadline(Date.now() + ANSWER_DEADLINE_MS, ask);
  } catch (err) {
    if (!isGrpcDeadlineError(err)) throw err;
    await requireWorker(handle.client, taskQueue);
    throw new WorkerUnavailableError(
      `${handle.workflowId}: no worker on task queue '${taskQueue}' answered within ${ANSWER_DEADLINE_MS / 1000} s; ` +
        'it may be overloaded or stuck (an Update sent now may still be applied once a worker picks it up)',
    );
  }
}
