/**
 * The `dagRun` workflow's public messages. Clients (CLI, console, tests) import these constants
 * so every call is typed. Each operator action exists as an Update (validated, answers with the
 * outcome) and as a Signal of the same name, because the Temporal UI's "Send a Signal" is the
 * simplest thing an on-call engineer can reach at 3 a.m.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DagRunState, DagSpec, TaskState } from './spec';

export interface TaskStatus {
  id: string;
  state: TaskState;
  /** Attempts started so far, across retries and operator re-runs. */
  attempts: number;
  startedAt?: string;
  endedAt?: string;
  error?: string;
  /** Inline JSON output or an `{ $offloaded }` reference to S3. */
  output?: unknown;
  /** For mapped tasks: the state of every mapped instance. */
  mapped?: TaskState[];
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
  tasks: TaskStatus[];
}

export interface DagRunInput {
  spec: DagSpec;
  /** RFC 3339; absent for scheduled runs, which read TemporalScheduledStartTime. */
  logicalDate?: string;
  params?: Record<string, unknown>;
  trigger?: 'manual' | 'scheduled' | 'backfill';
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

export const stateQuery = defineQuery<DagRunStatus>('state');
/** Operator messages take null (or no argument, from the Temporal UI) for "all" / "no reason". */
export const retryTaskUpdate = defineUpdate<OperatorOutcome, [taskId: string | null]>('retryTask');
export const markTaskSuccessUpdate = defineUpdate<OperatorOutcome, [taskId: string]>('markTaskSuccess');
export const failRunUpdate = defineUpdate<OperatorOutcome, [reason: string | null]>('failRun');
export const retryTaskSignal = defineSignal<[taskId: string | null]>('retryTask');
export const markTaskSuccessSignal = defineSignal<[taskId: string]>('markTaskSuccess');
export const failRunSignal = defineSignal<[reason: string | null]>('failRun');
