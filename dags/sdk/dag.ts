/**
 * `dag()`: how a DAG module declares its DAG, and the types of the builder its function
 * receives. Nothing runs at import: `dag()` only stores the function; `compileDag` calls it.
 */
import type { z } from 'zod';
import type { Duration } from './durations';
import { TASK_OPTION_KEYS, type SensorOptions, type TaskDefaults, type TaskOptions } from './options';
import type { BranchHandle, OutputRef, Ref, RunContext, TaskHandle, Wire } from './refs';
import type { AnyTaskDef, BranchDef, SensorDef, TaskDef } from './task-def';

/** A zod object schema for a DAG's params. */
export type ParamsSchema = z.ZodObject<z.core.$ZodShape, z.core.$ZodObjectConfig>;
/** The params schema of a DAG that declares none. */
export type NoParams = z.ZodObject<{}>;

/**
 * A task run once the DAG run has ended (`onSuccess` / `onFailure`). Its input may use
 * `runContext` refs but no task outputs; the task reads how the run ended from `ctx.outcome`.
 */
export interface Callback {
  readonly def: AnyTaskDef;
  readonly input: unknown;
}

/**
 * Builds a typed {@link Callback} for `onFailure` / `onSuccess`.
 * @example onFailure: callback(notifySlack, { channel: '#data', dag: runContext.dagId })
 */
export function callback<I, O>(def: TaskDef<I, O, 'task'>, ...args: NoInfer<InputArgs<I, never>>): Callback {
  return { def: def as unknown as AnyTaskDef, input: args[0] };
}

/** Options of a DAG. Task-level keys (retries, timeouts, ...) are defaults for its tasks. */
export interface DagOptions<S extends ParamsSchema = ParamsSchema> extends TaskDefaults {
  /**
   * Cron expression (5 fields, or 6 with seconds; `@daily` etc. accepted). Absent or null: manual
   * runs only. `{ assets: [...] }`: a run for each logical date once every one of these assets
   * was updated for it (by tasks' `outlets`), with the data interval of the run that completed them.
   */
  schedule?: string | null | { assets: string[] };
  /** IANA time zone the cron is read in. Default 'UTC'. */
  timezone?: string;
  /** Run missed intervals since the last run when the schedule is (re)enabled. Default false, as Airflow. */
  catchup?: boolean;
  /** Runs of this DAG in flight at once. Default 16, Airflow's `max_active_runs_per_dag`. */
  maxActiveRuns?: number;
  /** Tasks of one run running at once. Default 16. */
  maxActiveTasks?: number;
  /** How long a run with failed tasks waits for an operator before closing as failed. Default '24h'. */
  operatorWindow?: Duration;
  /** Run parameters: a zod object; defaults apply when a trigger leaves a field out. */
  params?: S;
  tags?: string[];
  description?: string;
  onFailure?: Callback;
  onSuccess?: Callback;
  /**
   * When a run should be done: `{ at: '06:00' }`, the first 06:00 after its logical date in the
   * DAG's time zone, or `{ after: '2h' }` after the logical date. A run still going then has
   * missed it: a warning on the run, and `onDeadlineMiss` runs once, while the run goes on.
   * Scheduled and manual runs only (a backfill's dates are long past).
   */
  deadline?: { at: string; after?: never } | { after: Duration; at?: never };
  /** Runs once when a run misses its `deadline`; `ctx.outcome` is `{ state: 'deadline_missed', deadline, failedTasks }`. */
  onDeadlineMiss?: Callback;
}

export const DAG_OPTION_KEYS = [
  ...TASK_OPTION_KEYS.filter((k) => k !== 'id' && k !== 'doc' && k !== 'outlets'),
  'schedule',
  'timezone',
  'catchup',
  'maxActiveRuns',
  'maxActiveTasks',
  'operatorWindow',
  'params',
  'tags',
  'description',
  'onFailure',
  'onSuccess',
  'deadline',
  'onDeadlineMiss',
] as const;

/**
 * Input, then options. The input may be left out when the definition's input type admits
 * `undefined` (a task with no input).
 */
export type InputArgs<I, Opt> = [undefined] extends [I]
  ? [input?: Wire<I>, options?: Opt]
  : [input: Wire<I>, options?: Opt];

/** The fan-out of a `map()`: a list output to map over and the input of each mapped task. */
export interface MapSpec<T, I> {
  /** The list to map over: a task output, or a field of one. */
  over: OutputRef<readonly T[]>;
  /** Builds each instance's input from a reference to its element. */
  input: (item: Ref<T, 'item'>) => Wire<I>;
}

/** What a DAG function receives. Each member works destructured. */
export interface DagBuilder<P> {
  /** Adds a task; its edges come from the Refs in `input`. Returns a Ref to its output. */
  task<I, O>(def: TaskDef<I, O, 'task'>, ...args: NoInfer<InputArgs<I, TaskOptions>>): TaskHandle<O>;
  /** Airflow's dynamic task mapping (`expand`): one task instance per element; the result is the list of outputs. */
  map<T, I, O>(def: TaskDef<I, O, 'task'>, spec: MapSpec<T, NoInfer<I>>, options?: TaskOptions): TaskHandle<O[]>;
  /** Adds a sensor, poked every `pokeInterval` until it returns true or `timeout` passes. */
  sensor<I>(def: SensorDef<I>, ...args: NoInfer<InputArgs<I, SensorOptions>>): TaskHandle<boolean>;
  /**
   * Adds a branch; the labels it returns choose which arms run. Tasks join an arm with
   * `.after(choice.when('label'))`; a label the definition cannot return does not compile.
   */
  branch<I, L extends string>(def: BranchDef<I, L>, ...args: NoInfer<InputArgs<I, TaskOptions>>): BranchHandle<L>;
  /** Tasks added inside get ids prefixed `name.` and are shown grouped. Returns what `fn` returns. */
  group<R>(name: string, fn: () => R): R;
  /** Run-context values: logical date, data interval, ids. */
  readonly ctx: RunContext;
  /** The run's params (zod output type, defaults applied). */
  readonly params: Ref<P, 'context'>;
}

const DAG = Symbol.for('sluice.dag');

/** A DAG as exported by a DAG module. The function runs only when compiled. */
export interface DagDefinition<S extends ParamsSchema = ParamsSchema> {
  readonly dagId: string;
  readonly options: DagOptions<S>;
  build(builder: DagBuilder<z.output<S>>): void;
}

/**
 * Declares a DAG; `export default` it from a file in `dags/`. The function is not called here
 * (no work at import); `compileDag` calls it to produce the spec.
 * @example
 * export default dag('daily_orders', { schedule: '0 2 * * *', retries: 3 }, ({ task, ctx }) => {
 *   const orders = task(extractOrders, { day: ctx.logicalDate });
 *   task(loadFactSales, task(validateOrders, orders));
 * });
 */
export function dag<S extends ParamsSchema = NoParams>(
  dagId: string,
  options: DagOptions<S>,
  build: (builder: DagBuilder<z.output<S>>) => void,
): DagDefinition<S>;
export function dag(dagId: string, build: (builder: DagBuilder<{}>) => void): DagDefinition<NoParams>;
export function dag(
  dagId: string,
  optionsOrBuild: DagOptions | ((builder: DagBuilder<{}>) => void),
  maybeBuild?: (builder: DagBuilder<never>) => void,
): DagDefinition {
  const [options, build] = typeof optionsOrBuild === 'function' ? [{}, optionsOrBuild] : [optionsOrBuild ?? {}, maybeBuild];
  if (typeof build !== 'function') throw new TypeError(`dag('${dagId}'): the last argument must be the DAG function`);
  const definition = { dagId, options, build };
  Object.defineProperty(definition, DAG, { value: true });
  return Object.freeze(definition) as DagDefinition;
}

/** True for values made by `dag()`. */
export function isDagDefinition(value: unknown): value is DagDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[DAG] === true;
}
