/**
 * Clearing tasks, Airflow's "clear": a task that already ran (usually one that succeeded on bad
 * data) runs again, and with `downstream` so does everything after it.
 * - An open run (running, or awaiting an operator) takes the `clearTask` Update.
 * - A closed run (succeeded or failed) starts a new execution under the same run id, whose input
 *   carries what the closed one recorded for every task; only the cleared tasks run, reading the
 *   kept tasks' recorded outputs.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { dagRun } from '../../workflows/dag-run';
import { clearTaskUpdate, stateQuery, type DagRunInput, type DagRunResult } from '../../workflows/messages';
import { DagIdKey, DagRunStateKey, LogicalDateKey } from '../../workflows/search-attributes';
import { askWorkflow, describeAs } from './workers';

export interface ClearOutcome {
  runId: string;
  /** `open`: the run itself re-runs the tasks; `closed`: a new execution does. */
  mode: 'open' | 'closed';
  /** Every task that will run again. */
  tasks: string[];
  /** For a closed run: the Temporal run id of the new execution. */
  execution?: string;
}

/** A clear the run cannot take: an unknown task, or one that has not run. */
export class ClearRefusedError extends Error {}

export async function clearTask(client: Client, runId: string, taskId: string, options: { downstream: boolean }): Promise<ClearOutcome> {
  const latest = client.workflow.getHandle<typeof dagRun>(runId);
  const { status } = await describeAs(latest, 'run');
  if (status.name === 'RUNNING') {
    const outcome = await askWorkflow(latest, 'run', () => latest.executeUpdate(clearTaskUpdate, { args: [taskId, options.downstream] }));
    return { runId, mode: 'open', tasks: outcome.tasks };
  }
  return clearClosedRun(client, await executionThatRan(latest), taskId, options.downstream);
}

async function clearClosedRun(client: Client, run: WorkflowHandle<typeof dagRun>, taskId: string, downstream: boolean): Promise<ClearOutcome> {
  const input = await startInput(run);
  const recorded = await askWorkflow(run, 'run', () => run.query(stateQuery));
  const task = recorded.tasks.find((t) => t.id === taskId);
  if (!task) throw new ClearRefusedError(`unknown task '${taskId}' in ${run.workflowId} (tasks: ${recorded.tasks.map((t) => t.id).join(', ')})`);
  if (task.state === 'pending') throw new ClearRefusedError(`task '${taskId}' never ran in ${run.workflowId}; there is nothing to clear`);
  const cleared = downstream ? withDescendants(input.spec.tasks, taskId) : [taskId];
  // Attempt numbers go on from the closed execution; its outputs stay where they are (inline
  // in the recorded state, or as S3 keys), so kept tasks hand them on without running.
  const resumed: DagRunInput = { ...input, logicalDate: recorded.logicalDate, resume: { tasks: recorded.tasks, cleared } };
  const started = await client.workflow
    .start<typeof dagRun>('dagRun', {
      workflowId: run.workflowId,
      taskQueue: input.spec.taskQueue,
      args: [resumed],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: DagIdKey, value: input.spec.dagId },
        { key: LogicalDateKey, value: new Date(recorded.logicalDate) },
        { key: DagRunStateKey, value: 'queued' },
      ],
      staticSummary: `${input.spec.dagId} ${recorded.logicalDate}: cleared ${cleared.join(', ')}`,
    })
    .catch((err: unknown) => {
      // Two clears (or a clear and a re-run) of one closed run at once: only the first starts it.
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new ClearRefusedError(`${run.workflowId} is running again (another clear or re-run started it); clear the task in that run, or wait for it to finish`);
      throw err;
    });
  return { runId: run.workflowId, mode: 'closed', tasks: cleared, execution: started.firstExecutionRunId };
}

/**
 * The closed execution whose tasks ran. A scheduled fire of a date that had already succeeded
 * starts an execution that only notes the duplicate; clearing goes to the one it names.
 */
async function executionThatRan(latest: WorkflowHandle<typeof dagRun>): Promise<WorkflowHandle<typeof dagRun>> {
  const result: DagRunResult | undefined = await latest.result().catch((err: unknown) => {
    if (err instanceof WorkflowFailedError) return undefined;
    throw err;
  });
  if (result?.state !== 'duplicate' || !result.duplicateOf) return latest;
  return latest.client.getHandle<typeof dagRun>(latest.workflowId, result.duplicateOf);
}

/** The input an execution was started with, from its first history event. */
async function startInput(run: WorkflowHandle): Promise<DagRunInput> {
  const history = await run.fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new Error(`${run.workflowId}: its history has no start input`);
  return defaultPayloadConverter.fromPayload<DagRunInput>(payload);
}

function withDescendants(tasks: ReadonlyArray<{ id: string; upstream: string[] }>, taskId: string): string[] {
  const found = new Set([taskId]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const t of tasks) {
      if (!found.has(t.id) && t.upstream.some((up) => found.has(up))) {
        found.add(t.id);
        grew = true;
      }
    }
  }
  return tasks.filter((t) => found.has(t.id)).map((t) => t.id);
}
