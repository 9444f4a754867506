/**
 * The DAG spec: the plain, JSON-serializable description of a DAG that the `dagRun` workflow
 * interprets. The authoring SDK (`dags/sdk`) compiles a DAG module into this shape; the client
 * passes it as the workflow's input, so it is recorded in the run's history. That is what makes a
 * run immune to later edits of the DAG file: the interpreter never imports DAG code.
 *
 * Everything here must stay deterministic and free of Node builtins: it is bundled into the
 * workflow sandbox.
 */

/** Airflow's trigger rules: when a task may run, given its direct upstreams' final states. */
export const TRIGGER_RULES = [
  'all_success',
  'all_done',
  'all_failed',
  'one_success',
  'one_failed',
  'none_failed',
  'none_failed_min_one_success',
  'always',
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

/**
 * Task states, as in Airflow. `pending` is Airflow's "none": not yet runnable.
 * Terminal states are success, failed, upstream_failed and skipped.
 */
export type TaskState =
  | 'pending'
  | 'queued'
  | 'running'
  | 'up_for_retry'
  | 'success'
  | 'failed'
  | 'upstream_failed'
  | 'skipped';

/** States of a whole run, mirrored into the `DagRunState` search attribute. */
export type DagRunState = 'queued' | 'running' | 'awaiting_operator' | 'success' | 'failed';

export interface RetrySpec {
  /** Retries after the first attempt; 0 means one attempt only. */
  retries: number;
  initialIntervalMs: number;
  backoffCoefficient: number;
  maxIntervalMs: number;
}

/**
 * Task inputs are JSON templates. Any value in the template may be one of these placeholders,
 * which the interpreter replaces when the task starts:
 * - `{ $ref: { task, path } }`: the output of upstream `task` (optionally a field path into it);
 * - `{ $ctx: key }`: a run-context value such as the logical date;
 * - `{ $item: path }`: inside a mapped task, the current element of the mapped list;
 * - `{ $tpl: { strings, values } }`: a string template (the SDK's tpl`...`): the strings with
 *   each resolved value (a placeholder, or a literal) between them.
 */
export interface RefPlaceholder {
  $ref: { task: string; path: string[] };
}
/** Run-context values a template can use; the macros (ds, ts, ...) are Airflow's, see RunMacros. */
export const CONTEXT_KEYS = [
  'dagId',
  'runId',
  'logicalDate',
  'dataIntervalStart',
  'dataIntervalEnd',
  'params',
  'ds',
  'dsNodash',
  'ts',
  'tsNodash',
  'prevDs',
  'nextDs',
] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];
export interface ContextPlaceholder {
  $ctx: ContextKey;
  path?: string[];
}
export interface ItemPlaceholder {
  $item: string[];
}
export interface TemplatePlaceholder {
  $tpl: { strings: string[]; values: unknown[] };
}

export type TaskKind = 'task' | 'branch' | 'sensor' | 'map';

export interface SensorSpec {
  /** Durable timer between pokes; no worker slot is held while waiting. */
  pokeIntervalMs: number;
  /** Total time the sensor may wait before it fails (or is skipped, with softFail). */
  timeoutMs: number;
  softFail: boolean;
}

export interface TaskSpec {
  id: string;
  /** Name of the registered activity (the task function's name). */
  activity: string;
  kind: TaskKind;
  /** JSON template; see the placeholder types above. */
  input: unknown;
  /** Direct upstream task ids: data dependencies plus `.after()` order dependencies. */
  upstream: string[];
  triggerRule: TriggerRule;
  retry: RetrySpec;
  executionTimeoutMs: number;
  heartbeatTimeoutMs?: number;
  taskQueue?: string;
  group?: string;
  doc?: string;
  sensor?: SensorSpec;
  /** For kind 'map': the upstream list to fan out over; one activity per element. */
  map?: { over: RefPlaceholder['$ref'] };
  /**
   * Branch arms this task belongs to: upstream branch task id → the labels that select it. A
   * task directly after a branch runs only when the branch returns one of its labels.
   */
  when?: Record<string, string[]>;
  /**
   * A named slot pool shared by every DAG and run (workflows/pools.ts): each attempt waits in
   * `queued` until the pool lets it in, and gives its slots back when it ends.
   */
  pool?: string;
  /** Slots of `pool` one attempt holds; default 1. */
  poolSlots?: number;
  /** Order among the pool's waiters: higher first, then earlier asks; default 1. */
  priorityWeight?: number;
  /** Assets (warehouse tables, lake prefixes) the task writes: updated for the run's logical date when the run succeeds. */
  outlets?: string[];
  /**
   * Airflow's depends_on_past: the task runs only once it succeeded (or was skipped) in the DAG's
   * previous run (the latest earlier logical date); the first run is exempt.
   */
  dependsOnPast?: boolean;
  /** Also needs the previous run's direct downstream tasks of this task done (implies dependsOnPast). */
  waitForDownstream?: boolean;
}

/** Pool names: what `sluice pools set` accepts and a task's `pool` may name. */
export const POOL_NAME = /^[A-Za-z0-9_.-]{1,100}$/;
/** Most slots a pool may have (and a task may ask for). */
export const MAX_POOL_SLOTS = 10_000;
/** The pool that exists without being created, as Airflow's; `sluice pools set default_pool N` resizes it. */
export const DEFAULT_POOL = { name: 'default_pool', slots: 128 } as const;

export interface CallbackSpec {
  activity: string;
  input: unknown;
}

export interface DagSpec {
  dagId: string;
  /** Content hash of this spec, shown as the DAG version. */
  version: string;
  description?: string;
  tags: string[];
  schedule: { cron: string; timezone: string } | null;
  /** Scheduled on assets instead of a cron (`schedule` is then null): runs once all were updated for a logical date. */
  assetSchedule?: string[];
  catchup: boolean;
  maxActiveRuns: number;
  /** Most tasks of one run running at once. */
  maxActiveTasks: number;
  /** How long a run with failed tasks waits for an operator before it closes as failed. */
  operatorWindowMs: number;
  taskQueue: string;
  /** JSON Schema of the params, for display; validation happens on trigger with the zod schema. */
  paramsSchema?: unknown;
  tasks: TaskSpec[];
  onFailure?: CallbackSpec;
  onSuccess?: CallbackSpec;
  /**
   * When a run should be done by: `atTime` 'HH:MM' in the schedule's time zone (UTC without one),
   * the first such time after the logical date; or `afterMs` after the logical date.
   */
  deadline?: { atTime?: string; afterMs?: number };
  /** Runs once, beside the run, when the run is still going at its deadline. */
  onDeadlineMiss?: CallbackSpec;
}

/**
 * Airflow's template macros, derived from the logical date and the schedule. Dates are UTC, as in
 * Airflow; `prevDs` / `nextDs` are the previous and next fire times' dates, null for a DAG
 * without a schedule.
 */
export interface RunMacros {
  /** The logical date as YYYY-MM-DD. */
  ds: string;
  /** YYYYMMDD. */
  dsNodash: string;
  /** The logical date as 2026-11-21T06:00:00+00:00 (Airflow's `ts`). */
  ts: string;
  /** 20261121T060000. */
  tsNodash: string;
  prevDs: string | null;
  nextDs: string | null;
}

/** What every task activity receives as its second argument. */
export interface TaskContext extends RunMacros {
  dagId: string;
  runId: string;
  taskId: string;
  /** The run's logical date (its fire time), RFC 3339 UTC. */
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  params: Record<string, unknown>;
  /** 1 for the first attempt; counts on across retries and operator re-runs. */
  attempt: number;
  /**
   * The Temporal run id of the run's first execution: what its history in `sluice.dag_runs` and
   * `sluice.task_attempts` is kept under, across continue-as-new. Absent in runs that started
   * before it existed (their own run id then serves).
   */
  executionId?: string;
  /** Index into the mapped list, for mapped tasks. */
  mapIndex?: number;
}
