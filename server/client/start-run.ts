import { WorkflowExecutionAlreadyStartedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { dagRun } from '../../workflows/dag-run';
import type { DagRunInput } from '../../workflows/messages';
import { DagIdKey, DagRunStateKey, LogicalDateKey } from '../../workflows/search-attributes';
import type { DagSpec } from '../../workflows/spec';
import { formatLogicalDate, runIdFor } from './run-id';

export interface StartRunOptions {
  logicalDate: Date;
  params: Record<string, unknown>;
  trigger: NonNullable<DagRunInput['trigger']>;
  /** Start a fresh run even when one for this logical date already succeeded. */
  rerun?: boolean;
  /** Instead of the schedule's interval: an asset-triggered run takes its upstream run's. */
  dataInterval?: DagRunInput['dataInterval'];
}

export interface StartedRun {
  runId: string;
  /** False when a run for this logical date already existed and was reused. */
  started: boolean;
  handle: WorkflowHandle<typeof dagRun>;
}

/**
 * Starts one `dagRun` per logical date. Without `rerun`, an existing run of the same date is
 * returned instead (a running one, or a closed one that did not fail); with `rerun`, a closed run
 * is started again from scratch. A run still in flight is never duplicated.
 */
export async function startDagRun(client: Client, spec: DagSpec, options: StartRunOptions): Promise<StartedRun> {
  const runId = runIdFor(spec.dagId, options.logicalDate);
  const input = {
    spec,
    logicalDate: formatLogicalDate(options.logicalDate),
    params: options.params,
    trigger: options.trigger,
    ...(options.dataInterval ? { dataInterval: options.dataInterval } : {}),
  } satisfies DagRunInput;
  try {
    const handle = await client.workflow.start<typeof dagRun>('dagRun', {
      workflowId: runId,
      taskQueue: spec.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: options.rerun ? 'ALLOW_DUPLICATE' : 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: [
        { key: DagIdKey, value: spec.dagId },
        { key: LogicalDateKey, value: options.logicalDate },
        { key: DagRunStateKey, value: 'queued' },
      ],
      staticSummary: `${spec.dagId} ${input.logicalDate} (${options.trigger}, version ${spec.version})`,
    });
    return { runId, started: true, handle };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { runId, started: false, handle: client.workflow.getHandle<typeof dagRun>(runId) };
  }
}
