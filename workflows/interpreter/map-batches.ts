/**
 * Mapped tasks over more than INLINE_MAP_LIMIT elements run in `mapBatch` child workflows of
 * MAP_BATCH_SIZE instances each, one after another, so no history grows past Temporal's limits
 * however long the list (each instance costs a child about five events; the parent two per
 * batch). The DAG author sees one mapped task with one output list, as for a small one.
 *
 * Batches run one at a time, each with the DAG's maxActiveTasks, which keeps the DAG's limit:
 * the batched task takes one of the run's slots, and its child never runs more than the limit.
 */
import * as wf from '@temporalio/workflow';
import type { MapBatchResult, mapBatch } from '../map-batch';
import type { DagSpec, TaskContext, TaskSpec } from '../spec';
import type { RunState } from './run-state';
import { bulk } from './system-activities';

type RunContext = Omit<TaskContext, 'taskId' | 'attempt' | 'mapIndex'>;

/** Above this many elements a mapped task runs in child workflows. */
export const INLINE_MAP_LIMIT = 5_000;
/** The most elements one mapped task may have: past this, map over batches of the list. */
export const MAX_MAPPED = 100_000;
/** Instances per child workflow: about 10,000 events, a fifth of Temporal's limit. */
export const MAP_BATCH_SIZE = 2_000;

export interface BatchedMapArgs {
  run: RunState;
  spec: DagSpec;
  context: RunContext;
  taskId: string;
  /** The run's attempt numbers of mapped instances (`taskId[index]`), updated in place. */
  instanceAttempts: Map<string, number>;
}

/** Runs every batch that has instances left to run, then finishes the task in the run state. */
export async function runMapBatches({ run, spec, context, taskId, instanceAttempts }: BatchedMapArgs): Promise<void> {
  const record = run.record(taskId);
  const states = record.mapped ?? [];
  const task = run.spec(taskId);
  const parts = (record.mapParts ??= []);
  const prefix = `_sluice/outputs/${spec.dagId}/${context.runId}/${taskId}`;
  let lastError: string | undefined;

  for (let from = 0, batch = 0; from < states.length; from += MAP_BATCH_SIZE, batch++) {
    const to = Math.min(from + MAP_BATCH_SIZE, states.length);
    const slice = states.slice(from, to);
    if (parts[batch] && slice.every((s) => s === 'success')) continue;
    for (let i = from; i < to; i++) if (states[i] !== 'success') states[i] = 'running';
    const result: MapBatchResult = await wf.executeChild<typeof mapBatch>('mapBatch', {
      workflowId: `${context.runId}~${taskId}~batch-${batch}~${record.attempts}`,
      taskQueue: spec.taskQueue,
      staticSummary: `${taskId}[${from}..${to - 1}] of ${context.runId}`,
      args: [
        {
          spec: { ...spec, tasks: [batchTask(task)], onFailure: undefined, onSuccess: undefined },
          context,
          list: record.mapList,
          length: states.length,
          from,
          to,
          states: slice,
          instanceAttempts: Object.fromEntries([...instanceAttempts].filter(([key]) => inSlice(key, from, to))),
          outputsPrefix: `${prefix}/batch-${batch}-${record.attempts}`,
          ...(parts[batch] ? { previousParts: parts[batch] } : {}),
        },
      ],
    });
    result.states.forEach((state, i) => (states[from + i] = state));
    record.attempts += result.attempts;
    for (const [key, n] of Object.entries(result.instanceAttempts)) instanceAttempts.set(key, n);
    parts[batch] = result.parts;
    if (result.error !== undefined) lastError = result.error;
  }

  const now = new Date().toISOString();
  const failed = states.filter((s) => s === 'failed').length;
  if (failed > 0) {
    run.finish(taskId, 'failed', { now, error: `${failed} of ${states.length} mapped instances failed (indexes ${failedIndexes(states).join(', ')}); last: ${lastError ?? 'unknown'}` });
    return;
  }
  const output = await bulk.joinMapOutputs({ parts: parts.flat(), key: `${prefix}.json` });
  run.finish(taskId, 'success', { now, output });
}

/** The mapped task as a child runs it: no upstream (its list arrives with the child's input). */
function batchTask(task: TaskSpec): TaskSpec {
  return { ...task, upstream: [], triggerRule: 'all_success' };
}

/** Whether a `taskId[index]` attempt key belongs to the slice [from, to). */
export function inSlice(key: string, from: number, to: number): boolean {
  const index = Number(/\[(\d+)\]$/.exec(key)?.[1] ?? -1);
  return index >= from && index < to;
}

/** The first failed indexes, for an error message that stays short. */
export function failedIndexes(states: readonly string[], limit = 20): string[] {
  const found: string[] = [];
  for (let i = 0; i < states.length && found.length <= limit; i++) if (states[i] === 'failed') found.push(String(i));
  if (found.length > limit) found[limit] = '…';
  return found;
}
