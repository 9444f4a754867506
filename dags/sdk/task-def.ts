import type { Resources } from '../../activities/resources';
import type { TaskContext as RunTaskContext } from '../../workflows/spec';
import type { Connections, Variables } from './connections';
import { DEF_OPTION_KEYS, checkKeys, type TaskDefaults } from './options';

/** One pino-style log method: `log.info('msg')` or `log.info({ rows }, 'msg')`. */
export interface LogFn {
  (msg: string): void;
  (obj: object, msg?: string): void;
}

/** The logger a task receives; a pino logger (or child) satisfies it. */
export interface TaskLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/**
 * How a run ended, given to `onSuccess` / `onFailure` callbacks as `ctx.outcome`; for
 * `onDeadlineMiss`, `deadline_missed` while the run goes on (failedTasks: those failed so far).
 */
export interface RunOutcome {
  state: 'success' | 'failed' | 'deadline_missed';
  failedTasks: string[];
  reason?: string;
  /** For `deadline_missed`: the deadline the run missed, RFC 3339. */
  deadline?: string;
}

/**
 * What a task function receives as its second argument: the run context the interpreter passes
 * (dag, run and task ids, logical date, data interval, params, attempt, map index) plus what the
 * worker adds. The worker constructs it.
 */
export interface TaskContext extends RunTaskContext {
  /** Logger bound to this attempt; lines are kept with the attempt's history. */
  log: TaskLogger;
  /** The worker's shared connections (warehouse, source, S3); tasks never open their own. */
  resources: Resources;
  /** Named connections, opened once per worker: `ctx.conn.pg('crm')`, `ctx.conn.s3('raw')`, `ctx.conn.http('api')`. */
  conn: Connections;
  /** Variables: `ctx.vars.get('region')`, `ctx.vars.get('region', 'eu')`, `ctx.vars.json<Limits>('limits')`. */
  vars: Variables;
  /** Records liveness (and progress details) for tasks with a `heartbeatTimeout`. */
  heartbeat(details?: unknown): void;
  /**
   * Aborted when the attempt is cancelled: an operator failed the run, or the run was terminated
   * or cancelled (a worker learns it at its next heartbeat, within a third of the heartbeat
   * timeout). Pass it to what accepts one (`fetch`, `setTimeout` from `node:timers/promises`,
   * the AWS SDK's `abortSignal`) so the attempt stops instead of running on for nobody.
   */
  signal: AbortSignal;
  /** Set only for `onSuccess` / `onFailure` / `onDeadlineMiss` callbacks: how the run ended (or that it is late). */
  outcome?: RunOutcome;
}

/** How a definition is scheduled: a plain task, a sensor (poked until true) or a branch. */
export type DefKind = 'task' | 'sensor' | 'branch';

/**
 * What a branch returns: the label (or labels) of the arms to follow. Tasks join an arm in the DAG
 * with `.after(choice.when('label'))`; every other arm's tasks are skipped. `[]` skips them all.
 */
export type BranchChoice<L extends string = string> = L | L[];

/**
 * Per-definition defaults, for what the author of the function knows best (a long export needs
 * a longer timeout). They override DAG-level defaults and are overridden by the options at the
 * call site in a DAG.
 */
export interface TaskDefOptions extends Omit<TaskDefaults, 'triggerRule'> {
  /** Shown in the console for every task that uses this definition, unless the task sets its own. */
  doc?: string;
}

/**
 * A task function registered once as a Temporal activity and referenced by object from DAGs.
 * `I` is its input, `O` its output, `K` how the DAG interpreter runs it.
 */
export interface TaskDef<I, O, K extends DefKind = DefKind> {
  /** The activity name; also the default task id in a DAG. */
  readonly name: string;
  readonly kind: K;
  readonly run: (input: I, ctx: TaskContext) => Promise<O>;
  readonly defaults: Readonly<TaskDefOptions>;
}

/** A sensor: `run` pokes once and returns true when the awaited condition holds. */
export type SensorDef<I> = TaskDef<I, boolean, 'sensor'>;
/** A branch: `run` returns the labels of the arms to follow; `L` is the union of its labels. */
export type BranchDef<I, L extends string = string> = TaskDef<I, BranchChoice<L>, 'branch'>;
/** Any definition, whatever its input and output (for catalogs and the worker). */
export type AnyTaskDef = TaskDef<never, unknown>;
/** The activity catalog: every definition the worker registers, by name. */
export type Catalog = ReadonlyMap<string, AnyTaskDef>;

const TASK_DEF = Symbol.for('sluice.taskDef');
const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function define<I, O, K extends DefKind>(
  kind: K,
  name: string,
  run: (input: I, ctx: TaskContext) => Promise<O>,
  defaults: TaskDefOptions = {},
): TaskDef<I, O, K> {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new TypeError(`invalid ${kind} name ${JSON.stringify(name)}: use letters, digits, '_' and '-'`);
  }
  if (typeof run !== 'function') throw new TypeError(`${kind} '${name}': the implementation must be a function`);
  checkKeys(defaults, DEF_OPTION_KEYS, 'default', (problem) => {
    throw new TypeError(`${kind} '${name}': ${problem}`);
  });
  const def = { name, kind, run, defaults: Object.freeze({ ...defaults }) };
  Object.defineProperty(def, TASK_DEF, { value: true });
  return Object.freeze(def);
}

/**
 * Defines a task function. Export the result from an `activities/` module; DAGs use it with
 * `task(def, input)`.
 * @example
 * export const extractOrders = defineTask('extractOrders', async (input: { day: string }, ctx) => { ... });
 */
export function defineTask<I, O>(
  name: string,
  run: (input: I, ctx: TaskContext) => Promise<O>,
  defaults?: TaskDefOptions,
): TaskDef<I, O, 'task'> {
  return define('task', name, run, defaults);
}

/**
 * Defines a sensor: one poke per call, `true` when the condition is met. The interpreter waits
 * between pokes on a durable timer, holding no worker slot. Use with `sensor(def, input, opts)`.
 */
export function defineSensor<I>(
  name: string,
  run: (input: I, ctx: TaskContext) => Promise<boolean>,
  defaults?: TaskDefOptions,
): SensorDef<I> {
  return define('sensor', name, run, defaults);
}

/**
 * Defines a branch: returns the label (or labels) of the arms to follow. Its return type is the
 * set of labels, so a DAG's `choice.when('typo')` does not compile. Use with `branch(def, input)`.
 * @example
 * export const pickRegion = defineBranch('pickRegion', async (input: { region: string }) => (input.region === 'eu' ? 'eu' : 'us'));
 */
export function defineBranch<I, L extends string>(
  name: string,
  run: (input: I, ctx: TaskContext) => Promise<L | L[]>,
  defaults?: TaskDefOptions,
): BranchDef<I, L> {
  return define('branch', name, run, defaults);
}

/** True for values made by `defineTask`, `defineSensor` or `defineBranch`. */
export function isTaskDef(value: unknown): value is AnyTaskDef {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[TASK_DEF] === true;
}

/**
 * Builds the activity catalog (name → definition).
 * @throws Error when two different definitions share a name.
 * @example catalogFrom(Object.values(activities).filter(isTaskDef))
 */
export function catalogFrom(defs: Iterable<AnyTaskDef>): Catalog {
  const catalog = new Map<string, AnyTaskDef>();
  for (const def of defs) {
    if (!isTaskDef(def)) throw new TypeError(`catalogFrom: ${String(def)} is not a task definition`);
    const existing = catalog.get(def.name);
    if (existing && existing !== def) {
      throw new Error(`two different task definitions are named '${def.name}'; activity names must be unique`);
    }
    catalog.set(def.name, def);
  }
  return catalog;
}

/**
 * Runs a definition on an input that arrived untyped (from the workflow), checking that sensors
 * and branches return what the interpreter expects. For the worker's activity wrapper; the
 * interpreter passes callbacks the run's outcome, which the task sees as `ctx.outcome`.
 */
export async function runTask(def: AnyTaskDef, input: unknown, ctx: TaskContext, outcome?: unknown): Promise<unknown> {
  const context = outcome === undefined || outcome === null ? ctx : { ...ctx, outcome: outcome as RunOutcome };
  const output = await (def.run as (input: unknown, ctx: TaskContext) => Promise<unknown>)(input, context);
  if (def.kind === 'sensor' && typeof output !== 'boolean') {
    throw new TypeError(`sensor '${def.name}' must return a boolean, got ${typeof output}`);
  }
  if (def.kind === 'branch') {
    const ids = Array.isArray(output) ? output : [output];
    if (!ids.every((id) => typeof id === 'string')) {
      throw new TypeError(`branch '${def.name}' must return a label or a list of labels (strings)`);
    }
  }
  return output;
}
