/**
 * The `dagRun` workflow's public messages. Clients (CLI, console, tests) import these constants
 * so every call is typed. Each operator action exists as an Update (validated, answers with the
 * outcome) and as a Signal of the same name, because the Temporal UI's "Send a Signal" is the
 * simplest thing an on-call engineer can reach at 3 a.m.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DagRunState, DagSpec, TaskState } from './spec';

/** Why a task was skipped; branch skips survive operator retries, rule skips do not. */
export type SkipReason = 'branch' | 'trigger_rule' | 'sensor_timeout';

export interface TaskStatus {
  id: string;
  state: TaskState;
  skipReason?: SkipReason;
  /** Attempts started so far, across retries and operator re-runs. */
  attempts: number;
  startedAt?: string;
  endedAt?: string;
  error?: string;
  /** Inline JSON output or an `{ $offloaded }` reference to S3. */
  output?: unknown;
  /** For mapped tasks of up to 1,000 instances: the state of every instance. */
  mapped?: TaskState[];
  /** For mapped tasks: instances by state and the first failed indexes. */
  mapSummary?: MapSummary;
  /** A queued `dependsOnPast` task: the previous run it waits for, and which of its tasks. */
  waitingForPast?: PastRunWait;
  /** While the task (or, for a mapped task, one of its instances) waits in `queued` for its pool's slots. */
  waitingFor?: PoolWait;
}

export interface PoolWait {
  pool: string;
  /** Slots asked (the task's poolSlots). */
  slots: number;
  since: string;
  /** The attempt that waits: with the run id it names the ask in the pool's queue (`poolHolderKey`). */
  attempt: number;
}

export interface PastRunWait {
  runId: string;
  logicalDate: string;
  /** The tasks of that run that must succeed (or be skipped) first. */
  tasks: string[];
  /** Why it waits, in words: that run is still running, or a task of it has not finished. */
  why: string;
}

export interface MapSummary {
  total: number;
  counts: Partial<Record<TaskState, number>>;
  /** The first 100 failed indexes, ascending. */
  failedIndexes: number[];
}

/** Something the run could not do, recorded where operators look (an ignored Signal, say). */
export interface RunWarning {
  at: string;
  message: string;
}

export interface DagRunStatus {
  dagId: string;
  runId: string;
  version: string;
  state: DagRunState;
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  failedTasks: string[];
  /** When the run stops waiting for an operator, while it is awaiting one. */
  operatorDeadline?: string;
  /** Why the run failed (or is failing), when it did. */
  reason?: string;
  /** Operator Signals the run could not apply, newest last. */
  warnings?: RunWarning[];
  tasks: TaskStatus[];
}

/**
 * How a run was started; `test` is `sluice dags test` and the `runDag` test helper; `asset` is a
 * DAG scheduled on assets, started when the last of them was updated for its logical date.
 */
export type RunTrigger = 'manual' | 'scheduled' | 'backfill' | 'test' | 'asset';

export interface DagRunInput {
  spec: DagSpec;
  /** RFC 3339; absent for scheduled runs, which read TemporalScheduledStartTime. */
  logicalDate?: string;
  /** Raw params; the run parses them against `spec.paramsSchema`, applying defaults. */
  params?: Record<string, unknown>;
  trigger?: RunTrigger;
  /** The data interval to use instead of the schedule's: an asset-triggered run takes its upstream run's. */
  dataInterval?: { start: string; end: string };
  /**
   * Set when an operator cleared tasks of a closed run: a new execution under the same run id
   * that keeps what the earlier one recorded for every task but the cleared ones.
   */
  resume?: { tasks: TaskStatus[]; cleared: string[] };
  /**
   * Set by the run itself when it continues as new to keep its history short: everything it had
   * done, so the new execution carries on where it stopped.
   */
  checkpoint?: RunCheckpoint;
  /** Continue as new once the history holds this many events. Default 10,000 (Temporal's hard limit is 51,200). */
  continueAsNewAfterEvents?: number;
}

/** A run's state carried over a continue-as-new. */
export interface RunCheckpoint {
  tasks: TaskCheckpoint[];
  /** Attempt numbers of mapped instances, by `taskId[index]`. */
  instanceAttempts: Record<string, number>;
  /** When the run started, in its first execution. */
  startedAt: string;
  warnings: RunWarning[];
  /** The run holds a slot of its DAG's maxActiveRuns gate, to give back when it ends. */
  holdsSlot?: boolean;
  /** The run's onDeadlineMiss already fired: it never fires twice. */
  deadlineMissed?: boolean;
}

/** One task's full state: its status plus what the run needs to carry on (mapped list, sensor deadline). */
export interface TaskCheckpoint extends TaskStatus {
  mapList?: unknown;
  mapOutputs?: unknown[];
  /** When a sensor gives up (epoch ms), fixed at its first poke. */
  sensorDeadline?: number;
  /** A mapped task run in child workflows: the S3 keys of each batch's outputs. */
  mapParts?: string[][];
}

export interface DagRunResult {
  /** `duplicate`: a scheduled fire for a logical date that had already succeeded; nothing ran. */
  state: 'success' | 'duplicate';
  duplicateOf?: string;
  tasks: Record<string, TaskState>;
}

export interface OperatorOutcome {
  /** Task ids whose state the action changed. */
  tasks: string[];
}

/**
 * What an operator message names. The CLI and console send a bare task id (or reason); the
 * Temporal UI's "Send a Signal" and "Execute Update" forms take one JSON value, so the object
 * forms the console's API uses are accepted too: `{"taskId": "load"}`, `{"reason": "..."}`,
 * `{"taskId": "load", "downstream": true}`.
 */
export type TaskTarget = string | { taskId: string };
export type ClearTarget = string | { taskId: string; downstream?: boolean };
export type FailReason = string | { reason?: string };

export const stateQuery = defineQuery<DagRunStatus>('state');
/** From the DAG's `runSlots` gate: the run may start (maxActiveRuns). */
export const slotGrantedSignal = defineSignal('slotGranted');
/** From a pool's gate (workflows/pools.ts): the attempt `key` may start, or, with `error`, never will. */
export const poolSlotGrantedSignal = defineSignal<[{ pool: string; key: string; error?: string }]>('poolSlotGranted');
/** Operator messages take null (or no argument, from the Temporal UI) for "all" / "no reason". */
export const retryTaskUpdate = defineUpdate<OperatorOutcome, [target: TaskTarget | null]>('retryTask');
export const markTaskSuccessUpdate = defineUpdate<OperatorOutcome, [target: TaskTarget]>('markTaskSuccess');
export const failRunUpdate = defineUpdate<OperatorOutcome, [reason: FailReason | null]>('failRun');
/** Re-runs a finished task (and, with `downstream`, everything after it) in an open run. */
export const clearTaskUpdate = defineUpdate<OperatorOutcome, [target: ClearTarget, downstream?: boolean]>('clearTask');
export const retryTaskSignal = defineSignal<[target: TaskTarget | null]>('retryTask');
export const markTaskSuccessSignal = defineSignal<[target: TaskTarget]>('markTaskSuccess');
export const failRunSignal = defineSignal<[reason: FailReason | null]>('failRun');
export const clearTaskSignal = defineSignal<[target: ClearTarget, downstream?: boolean]>('clearTask');

/** The task id an operator message names, whichever form it came in; undefined for "none". */
export function targetTask(target: TaskTarget | null | undefined): string | undefined {
  if (target === null || target === undefined || target === '') return undefined;
  if (typeof target === 'string') return target;
  if (typeof target === 'object' && typeof target.taskId === 'string') return target.taskId;
  throw new Error(`expected a task id or {"taskId": "..."}, got ${JSON.stringify(target)}`);
}

export function failReason(reason: FailReason | null | undefined): string | undefined {
  if (reason === null || reason === undefined || typeof reason === 'string') return reason || undefined;
  if (typeof reason === 'object') return typeof reason.reason === 'string' ? reason.reason : undefined;
  throw new Error(`expected a reason or {"reason": "..."}, got ${JSON.stringify(reason)}`);
}

export function clearRequest(target: ClearTarget, downstream?: boolean): { taskId: string; downstream: boolean } {
  const taskId = targetTask(target);
  if (taskId === undefined) throw new Error('clearTask needs a task id');
  const fromObject = typeof target === 'object' && target !== null ? target.downstream : undefined;
  return { taskId, downstream: Boolean(downstream ?? fromObject ?? false) };
}
