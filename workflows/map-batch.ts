/**
 * `mapBatch`: one slice of a mapped task too large for one run's history (over 5,000 elements),
 * run as a child workflow of the `dagRun` that maps. Each instance still gets one activity per
 * attempt, its retries, lost-worker handling and attempt records, exactly as in the parent: the
 * child runs the interpreter's own TaskExecutor over a one-task spec. Only the instances of its
 * slice are pending; the rest are marked done so they never start.
 *
 * The slice's outputs go to S3 in parts (a few hundred KB each) rather than through history:
 * 2,000 outputs of up to 1 KB would pass Temporal's 2 MB payload cap. The parent joins the
 * parts into the task's output list when every slice is done (./interpreter/map-batches.ts).
 *
 * Changes here must keep children in flight replaying, as for `dagRun`.
 */
import * as wf from '@temporalio/workflow';
import type { DagSpec, TaskContext, TaskState } from './spec';
import { inSlice } from './interpreter/map-batches';
import { RunState } from './interpreter/run-state';
import { bulk, system } from './interpreter/system-activities';
import { TaskExecutor } from './interpreter/task-executor';

type RunContext = Omit<TaskContext, 'taskId' | 'attempt' | 'mapIndex'>;

export interface MapBatchInput {
  /** The parent's spec reduced to the mapped task alone, with no upstream. */
  spec: DagSpec;
  context: RunContext;
  /** The whole mapped list (an S3 reference at this size) and its length. */
  list: unknown;
  length: number;
  /** The slice: instances `from` (inclusive) to `to` (exclusive). */
  from: number;
  to: number;
  /** The slice's states as the parent has them; succeeded instances do not run again. */
  states: TaskState[];
  /** Attempt numbers so far of the slice's instances, by `taskId[index]`. */
  instanceAttempts: Record<string, number>;
  /** S3 key prefix the slice's output parts are written under (new for every run of the slice). */
  outputsPrefix: string;
  /** The parts an earlier run of this slice wrote: the outputs of instances not run again. */
  previousParts?: string[];
}

export interface MapBatchResult {
  states: TaskState[];
  /** Attempts started in this child. */
  attempts: number;
  instanceAttempts: Record<string, number>;
  /** S3 keys of the slice's outputs, in index order (JSON arrays; failed instances are null). */
  parts: string[];
  /** The last instance error, when one failed. */
  error?: string;
}

/** Outputs per S3 part: 500 outputs of at most 1 KB stay far below an activity's payload cap. */
const OUTPUTS_PER_PART = 500;
/** Attempts per `recordAttempts` call, as in `dagRun`. */
const ATTEMPT_BATCH = 1000;

export async function mapBatch(input: MapBatchInput): Promise<MapBatchResult> {
  const task = input.spec.tasks[0];
  if (!task) throw wf.ApplicationFailure.nonRetryable('mapBatch needs the mapped task in its spec');
  const run = new RunState(input.spec);
  run.initMap(task.id, input.list, input.length);
  const record = run.record(task.id);
  const states = record.mapped as TaskState[];
  // Outside the slice everything counts as done: the executor queues the slice's instances only.
  states.fill('success');
  input.states.forEach((state, i) => (states[input.from + i] = state === 'success' ? 'success' : 'pending'));

  let changed = false;
  const executor = new TaskExecutor(run, input.spec, input.context, () => (changed = true), input.instanceAttempts);
  executor.mapBatching = false;
  for (;;) {
    executor.launchReady();
    if (executor.idle() && run.isSettled()) break;
    await wf.condition(() => changed);
    changed = false;
  }

  const finished = executor.takeFinished();
  for (let i = 0; i < finished.length; i += ATTEMPT_BATCH) {
    await system.recordAttempts({
      temporalRunId: input.context.executionId ?? input.context.runId,
      runId: input.context.runId,
      dagId: input.context.dagId,
      attempts: finished.slice(i, i + ATTEMPT_BATCH),
    });
  }

  // Only the instances that ran here have an output in this child; the others keep theirs
  // from the earlier part.
  const outputs = record.mapOutputs ?? [];
  const parts: string[] = [];
  for (let start = input.from, part = 0; start < input.to; start += OUTPUTS_PER_PART, part++) {
    const end = Math.min(start + OUTPUTS_PER_PART, input.to);
    const ran: Record<number, unknown> = {};
    for (let i = start; i < end; i++) if (input.states[i - input.from] !== 'success') ran[i - start] = outputs[i] ?? null;
    const key = `${input.outputsPrefix}/part-${String(start).padStart(6, '0')}.json`;
    const previousKey = input.previousParts?.[part];
    await bulk.storeMapOutputs({ key, length: end - start, outputs: ran, ...(previousKey ? { previousKey } : {}) });
    parts.push(key);
  }
  const attempts = executor.instanceAttemptCounts();
  return {
    states: states.slice(input.from, input.to),
    attempts: record.attempts,
    instanceAttempts: Object.fromEntries(
      Object.entries(attempts).filter(([key]) => inSlice(key, input.from, input.to)),
    ),
    parts,
    ...(record.error !== undefined ? { error: record.error } : {}),
  };
}
