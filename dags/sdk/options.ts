/**
 * DAG and task options, their defaults, and how the layers combine:
 * call-site options > the definition's defaults > the DAG's options > the built-in defaults.
 */
import type { TaskSpec, TriggerRule } from '../../workflows/spec';
import { parseDuration, type Duration } from './durations';

/** Options that a DAG sets as defaults for its tasks and a task may override. */
export interface TaskDefaults {
  /** Retries after the first attempt. Default 0. */
  retries?: number;
  /** Wait before the first retry. Default '10s'. */
  retryDelay?: Duration;
  /** Each further retry waits this many times longer. Default 2. */
  retryBackoff?: number;
  /** Cap on the wait between retries. Default '10m'. */
  maxRetryDelay?: Duration;
  /** Limit on one attempt (one poke, for sensors). Default '1h'. */
  executionTimeout?: Duration;
  /**
   * Every attempt heartbeats (the task runtime does it) and an attempt whose worker is silent
   * this long counts as lost: it is retried on another worker. Default '30s'. Raise it for a
   * task that blocks the event loop (CPU-bound work) for longer.
   */
  heartbeatTimeout?: Duration;
  /** When the task may run, given its direct upstreams' states. Default 'all_success'. */
  triggerRule?: TriggerRule;
  /** Temporal task queue of the worker that runs the task. Default: the DAG's queue. */
  taskQueue?: string;
  /**
   * A named slot pool shared by every DAG and run (create it with `sluice pools set <name> <slots>`;
   * `default_pool`, 128 slots, always exists). Each attempt waits in `queued` for a slot.
   */
  pool?: string;
  /** Slots of the pool one attempt holds. Default 1. */
  poolSlots?: number;
  /** Among the pool's waiters, higher goes first (ties: earlier ask first). Default 1. */
  priorityWeight?: number;
  /**
   * Airflow's depends_on_past: the task runs only once it succeeded (or was skipped) in the DAG's
   * previous run, the latest one with an earlier logical date. The DAG's first run is exempt.
   * Default false.
   */
  dependsOnPast?: boolean;
  /** Also wait for the previous run's direct downstream tasks of this task to succeed; implies dependsOnPast. Default false. */
  waitForDownstream?: boolean;
}

/** Options at a `task()`, `map()` or `branch()` call. */
export interface TaskOptions extends TaskDefaults {
  /** Task id; defaults to the definition's name. Needed when one definition is used twice. */
  id?: string;
  /** Documentation shown in the console. Defaults to the definition's `doc`. */
  doc?: string;
  /**
   * Assets the task writes: warehouse tables (`'warehouse.fact_sales'`) or lake prefixes
   * (`'lake:silver/orders'`). When the run succeeds they count as updated for its logical date,
   * which starts DAGs scheduled on them (`schedule: { assets: [...] }`).
   */
  outlets?: string[];
}

/** Options at a `sensor()` call. */
export interface SensorOptions extends TaskOptions {
  /** Wait between pokes (a durable timer; no worker slot is held). Default '1m', as Airflow's 60s. */
  pokeInterval?: Duration;
  /** Total wait before the sensor fails (or is skipped, with softFail). Default '7d', as Airflow. */
  timeout?: Duration;
  /** On timeout, mark the sensor skipped rather than failed. Default false. */
  softFail?: boolean;
}

export const DEFAULTS = {
  retries: 0,
  retryDelay: 10_000,
  retryBackoff: 2,
  maxRetryDelay: 600_000,
  executionTimeout: 3_600_000,
  heartbeatTimeout: 30_000,
  triggerRule: 'all_success' as TriggerRule,
  pokeInterval: 60_000,
  sensorTimeout: 7 * 86_400_000,
  timezone: 'UTC',
  catchup: false,
  /** Airflow's `max_active_runs_per_dag` default. */
  maxActiveRuns: 16,
  maxActiveTasks: 16,
  operatorWindow: 86_400_000,
  taskQueue: 'sluice',
} as const;

export const TASK_DEFAULT_KEYS = [
  'retries',
  'retryDelay',
  'retryBackoff',
  'maxRetryDelay',
  'executionTimeout',
  'heartbeatTimeout',
  'triggerRule',
  'taskQueue',
  'pool',
  'poolSlots',
  'priorityWeight',
  'dependsOnPast',
  'waitForDownstream',
] as const satisfies readonly (keyof TaskDefaults)[];
export const TASK_OPTION_KEYS = [...TASK_DEFAULT_KEYS, 'id', 'doc', 'outlets'] as const;
export const SENSOR_OPTION_KEYS = [...TASK_OPTION_KEYS, 'pokeInterval', 'timeout', 'softFail'] as const;
export const DEF_OPTION_KEYS = [...TASK_DEFAULT_KEYS.filter((k) => k !== 'triggerRule'), 'doc'] as const;

/** Records a problem; `compileDag` turns these into errors naming the file and task. */
export type Report = (problem: string) => void;

/** Reports keys an options object does not know (typos such as `retry: 3`). */
export function checkKeys(options: object | undefined, known: readonly string[], what: string, report: Report): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') {
    report(`${what} must be an object`);
    return;
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) report(`unknown ${what} '${key}' (known: ${known.join(', ')})`);
  }
}

/** Parses a duration option; on error reports it and falls back to `fallback`. */
export function durationMs(value: Duration | undefined, name: string, fallback: number, report: Report): number;
export function durationMs(value: Duration | undefined, name: string, fallback: undefined, report: Report): number | undefined;
export function durationMs(value: Duration | undefined, name: string, fallback: number | undefined, report: Report): number | undefined {
  if (value === undefined) return fallback;
  try {
    return parseDuration(value);
  } catch (error) {
    report(`${name}: ${(error as Error).message}`);
    return fallback;
  }
}

/** The task settings that end up in the spec, before the per-kind parts. */
export type ResolvedTask = Pick<
  TaskSpec,
  'retry' | 'executionTimeoutMs' | 'triggerRule' | 'taskQueue' | 'doc' | 'pool' | 'poolSlots' | 'priorityWeight' | 'outlets' | 'dependsOnPast' | 'waitForDownstream'
> & { heartbeatTimeoutMs: number };

/**
 * Merges option layers, highest priority first. Reports only unparsable durations; ranges
 * (retries >= 0, backoff >= 1, ...) are checked on the finished spec by `validateDag`.
 */
export function resolveTask(layers: ReadonlyArray<TaskOptions | undefined>, report: Report): ResolvedTask {
  const pick = <K extends keyof TaskOptions>(key: K): TaskOptions[K] | undefined => {
    for (const layer of layers) if (layer && layer[key] !== undefined) return layer[key];
    return undefined;
  };
  return {
    retry: {
      retries: pick('retries') ?? DEFAULTS.retries,
      initialIntervalMs: durationMs(pick('retryDelay'), 'retryDelay', DEFAULTS.retryDelay, report),
      backoffCoefficient: pick('retryBackoff') ?? DEFAULTS.retryBackoff,
      maxIntervalMs: durationMs(pick('maxRetryDelay'), 'maxRetryDelay', DEFAULTS.maxRetryDelay, report),
    },
    executionTimeoutMs: durationMs(pick('executionTimeout'), 'executionTimeout', DEFAULTS.executionTimeout, report),
    heartbeatTimeoutMs: durationMs(pick('heartbeatTimeout'), 'heartbeatTimeout', DEFAULTS.heartbeatTimeout, report),
    triggerRule: pick('triggerRule') ?? DEFAULTS.triggerRule,
    taskQueue: pick('taskQueue'),
    doc: pick('doc'),
    pool: pick('pool'),
    poolSlots: pick('poolSlots'),
    priorityWeight: pick('priorityWeight'),
    dependsOnPast: pick('dependsOnPast'),
    waitForDownstream: pick('waitForDownstream'),
    // Per task only: what the call site (the first layer) says, never a default.
    outlets: layers[0]?.outlets,
  };
}
