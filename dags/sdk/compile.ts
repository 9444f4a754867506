/** `compileDag`: runs a DAG function and produces the DagSpec the `dagRun` workflow interprets. */
import type { CallbackSpec, DagSpec, TaskSpec } from '../../workflows/spec';
import { BuildSession, makeBuilder, type TaskNode } from './builder';
import { DAG_OPTION_KEYS, isDagDefinition, type Callback, type DagDefinition } from './dag';
import { DagBuildError, dagError, type DagError, type DagErrorCode } from './errors';
import { specVersion } from './hash';
import type { Duration } from './durations';
import { DEFAULTS, checkKeys, durationMs } from './options';
import { checkParamsSchema, paramsJsonSchema, requiredParams } from './params';
import { isRefNode, placeholder, toTemplate, type RefNode } from './refs';
import { isTaskDef, type AnyTaskDef, type Catalog } from './task-def';
import { validateDag } from './validate';

export interface CompileOptions {
  /** The DAG file, named in every error message. */
  file?: string;
  /**
   * The activity catalog the worker registers. When given, every definition a DAG uses must be
   * in it (the very same object), so a DAG can never start a task no worker can run.
   */
  catalog?: Catalog | Iterable<AnyTaskDef>;
}

export interface CompileResult {
  /** The spec, as complete as the DAG allowed; use it only when `errors` is empty. */
  spec: DagSpec;
  errors: DagError[];
  /** Every task definition the DAG uses (tasks and callbacks), once each: what a worker must register. */
  tasks: AnyTaskDef[];
}

/**
 * Runs the DAG function and compiles it into a DagSpec, with every problem found: builder
 * misuse, dangling references, unknown activities, bad options, cycles, invalid schedule.
 * Never throws for a broken DAG; the errors name the file, DAG and task.
 */
export function compileDag(definition: DagDefinition, options: CompileOptions = {}): CompileResult {
  if (!isDagDefinition(definition)) throw new TypeError('compileDag expects a value made by dag()');
  const { dagId } = definition;
  const opts = definition.options;
  const errors: DagError[] = [];
  const report = (code: DagErrorCode, detail: string, task?: string): void => {
    errors.push(dagError({ code, dagId, detail, ...(options.file !== undefined ? { file: options.file } : {}), ...(task !== undefined ? { task } : {}) }));
  };

  checkKeys(opts, DAG_OPTION_KEYS, 'DAG option', (d) => report('invalid_option', d));
  let paramsSchema: unknown;
  if (opts.params !== undefined) {
    const problems = checkParamsSchema(opts.params);
    for (const p of problems) report('invalid_params', p);
    if (problems.length === 0) paramsSchema = paramsJsonSchema(opts.params);
    if (opts.schedule != null) {
      for (const name of requiredParams(paramsSchema)) {
        report('invalid_params', `param '${name}' has no default, but scheduled runs start without params: give it a default`);
      }
    }
  }

  const session = new BuildSession(dagId, opts);
  try {
    const returned: unknown = definition.build(makeBuilder(session));
    if (returned !== null && typeof (returned as { then?: unknown } | undefined)?.then === 'function') {
      report('build_failed', 'the DAG function must be synchronous (it returned a promise); do I/O in tasks, not while defining the DAG');
    }
  } catch (error) {
    if (error instanceof DagBuildError) report(error.code, error.message, error.task);
    else report('build_failed', `the DAG function threw: ${(error as Error)?.message ?? String(error)}`);
  } finally {
    session.open = false;
  }
  for (const p of session.problems) report(p.code, p.detail, p.task);

  const callbacks: Array<['onFailure' | 'onSuccess' | 'onDeadlineMiss', CallbackSpec | undefined]> = (['onFailure', 'onSuccess', 'onDeadlineMiss'] as const).map((name) => [
    name,
    compileCallback(opts[name], name, (d, code = 'invalid_input') => report(code, d)),
  ]);

  const body: Omit<DagSpec, 'version'> = {
    dagId,
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    tags: opts.tags ?? [],
    schedule: compileSchedule(opts.schedule, opts.timezone, (d) => report('invalid_schedule', d)),
    ...compileAssetSchedule(opts, (d) => report('invalid_schedule', d)),
    catchup: opts.catchup ?? DEFAULTS.catchup,
    maxActiveRuns: opts.maxActiveRuns ?? DEFAULTS.maxActiveRuns,
    maxActiveTasks: opts.maxActiveTasks ?? DEFAULTS.maxActiveTasks,
    operatorWindowMs: durationMs(opts.operatorWindow, 'operatorWindow', DEFAULTS.operatorWindow, (d) => report('invalid_duration', d)),
    taskQueue: opts.taskQueue ?? DEFAULTS.taskQueue,
    ...(paramsSchema !== undefined ? { paramsSchema } : {}),
    tasks: session.nodes.map(toTaskSpec),
    ...Object.fromEntries(callbacks.filter(([, spec]) => spec !== undefined)),
    ...compileDeadline(opts.deadline, (d, code) => report(code, d)),
  };
  const spec: DagSpec = { ...body, version: specVersion(body) };

  const tasks = checkActivities(session.nodes, callbacks, opts, options.catalog, report);
  // The builder's report of a problem is the more precise one; the spec check may see it again.
  const known = new Set(errors.map((e) => `${e.code}\0${e.task ?? ''}`));
  const structural = validateDag(spec, options.file !== undefined ? { file: options.file } : {});
  errors.push(...structural.filter((e) => !known.has(`${e.code}\0${e.task ?? ''}`)));
  return { spec, errors, tasks };
}

function toTaskSpec(node: TaskNode): TaskSpec {
  const s = node.settings;
  return {
    id: node.id,
    activity: node.def.name,
    kind: node.kind,
    input: node.input,
    upstream: [...node.upstream],
    triggerRule: s.triggerRule,
    retry: s.retry,
    executionTimeoutMs: s.executionTimeoutMs,
    heartbeatTimeoutMs: s.heartbeatTimeoutMs,
    ...(s.taskQueue !== undefined ? { taskQueue: s.taskQueue } : {}),
    ...(node.group !== undefined ? { group: node.group } : {}),
    ...(s.doc !== undefined ? { doc: s.doc } : {}),
    ...(node.sensor ? { sensor: node.sensor } : {}),
    ...(node.map ? { map: node.map } : {}),
    ...(node.when.size > 0 ? { when: Object.fromEntries([...node.when].map(([branch, labels]) => [branch, [...labels]])) } : {}),
    // Pool settings only with a pool (a DAG may default priorityWeight for tasks that have none).
    ...(s.pool !== undefined ? { pool: s.pool } : {}),
    ...(s.pool !== undefined && s.poolSlots !== undefined ? { poolSlots: s.poolSlots } : {}),
    ...(s.pool !== undefined && s.priorityWeight !== undefined ? { priorityWeight: s.priorityWeight } : {}),
    ...(s.outlets !== undefined ? { outlets: Array.isArray(s.outlets) ? [...s.outlets] : s.outlets } : {}),
    // Only when true, so the versions of DAGs that do not use them stay as they were.
    ...(s.dependsOnPast !== undefined && s.dependsOnPast !== false ? { dependsOnPast: s.dependsOnPast } : {}),
    ...(s.waitForDownstream !== undefined && s.waitForDownstream !== false ? { waitForDownstream: s.waitForDownstream } : {}),
  };
}

function compileSchedule(schedule: unknown, timezone: unknown, report: (d: string) => void): DagSpec['schedule'] {
  if (schedule === undefined || schedule === null || isAssetSchedule(schedule)) return null;
  if (typeof schedule !== 'string') {
    report(`schedule must be a cron string, { assets: [...] } or null, got ${typeof schedule}`);
    return null;
  }
  return { cron: schedule.trim(), timezone: (timezone as string | undefined) ?? DEFAULTS.timezone };
}

function isAssetSchedule(schedule: unknown): schedule is { assets: unknown } {
  return typeof schedule === 'object' && schedule !== null && 'assets' in schedule;
}

/**
 * `schedule: { assets }` becomes `assetSchedule` (only when set, so no other DAG's version
 * changes); the names are checked by `validateDag`. A cron's time zone and catch-up mean nothing
 * here: the runs take the logical dates of the runs that update the assets.
 */
function compileAssetSchedule(opts: DagDefinition['options'], report: (d: string) => void): Pick<DagSpec, 'assetSchedule'> {
  if (!isAssetSchedule(opts.schedule)) return {};
  checkKeys(opts.schedule, ['assets'], 'schedule option', report);
  if (opts.timezone !== undefined) report('timezone applies to a cron schedule; a DAG scheduled on assets runs for the logical dates of the runs that update them');
  if (opts.catchup !== undefined) report('catchup applies to a cron schedule; a DAG scheduled on assets runs once per logical date its assets were updated for');
  const { assets } = opts.schedule;
  return { assetSchedule: Array.isArray(assets) ? [...(assets as string[])] : (assets as string[]) };
}

/** `deadline: { at }` or `{ after }` becomes the spec's `deadline`, only when set; `validateDag` checks the values. */
function compileDeadline(deadline: unknown, report: (detail: string, code: DagErrorCode) => void): Pick<DagSpec, 'deadline'> {
  if (deadline === undefined) return {};
  if (deadline === null || typeof deadline !== 'object') {
    report(`deadline must be { at: 'HH:MM' } or { after: '2h' }, got ${JSON.stringify(deadline)}`, 'invalid_option');
    return {};
  }
  checkKeys(deadline, ['at', 'after'], 'deadline option', (d) => report(d, 'invalid_option'));
  const { at, after } = deadline as { at?: unknown; after?: unknown };
  const afterMs = durationMs(after as Duration | undefined, 'deadline.after', undefined, (d) => report(d, 'invalid_duration'));
  return { deadline: { ...(at !== undefined ? { atTime: at as string } : {}), ...(afterMs !== undefined ? { afterMs } : {}) } };
}

/** Callbacks run when the run is over: their input may use run context and params, not task outputs. */
function compileCallback(
  cb: Callback | undefined,
  name: string,
  report: (detail: string, code?: DagErrorCode) => void,
): CallbackSpec | undefined {
  if (cb === undefined) return undefined;
  if (!isTaskDef(cb?.def)) {
    report(`${name} must be callback(def, input), with a definition made by defineTask`, 'invalid_option');
    return undefined;
  }
  if (cb.def.kind !== 'task') report(`${name}: '${cb.def.name}' is a ${cb.def.kind}; callbacks must be tasks`, 'wrong_task_kind');
  const where = (at: string) => `${name} input${at ? `.${at}` : ''}`;
  const convert = (ref: RefNode, at: string): unknown => {
    if (ref.target.kind === 'context') return placeholder(ref);
    // A tpl string may use run context too: its values are checked the same way.
    if (ref.target.kind === 'template') return placeholder(ref, (value, i) => (isRefNode(value) ? convert(value, `${at}.tpl[${i}]`) : value));
    report(`${where(at)}: callbacks can use run context and params only, not a ${ref.target.kind} reference`);
    return null;
  };
  const input = toTemplate(cb.input, convert, (at, problem) => report(`${where(at)}: ${problem}`));
  return { activity: cb.def.name, input: input ?? null };
}

function checkActivities(
  nodes: readonly TaskNode[],
  callbacks: ReadonlyArray<readonly [string, CallbackSpec | undefined]>,
  opts: DagDefinition['options'],
  catalogInput: CompileOptions['catalog'],
  report: (code: DagErrorCode, detail: string, task?: string) => void,
): AnyTaskDef[] {
  const uses: Array<{ def: AnyTaskDef; task?: string; label: string }> = nodes.map((n) => ({ def: n.def, task: n.id, label: `task '${n.id}'` }));
  for (const [name, spec] of callbacks) {
    const def = opts[name as 'onFailure' | 'onSuccess' | 'onDeadlineMiss']?.def;
    if (spec && def) uses.push({ def, label: name });
  }

  const first = new Map<string, (typeof uses)[number]>();
  for (const use of uses) {
    const prior = first.get(use.def.name);
    if (!prior) first.set(use.def.name, use);
    else if (prior.def !== use.def) {
      report('activity_name_conflict', `uses activity '${use.def.name}' from a different definition than ${prior.label}: two definitions share the name '${use.def.name}'`, use.task);
    }
  }

  const used = [...first.values()].map((u) => u.def);
  if (catalogInput === undefined) return used;
  const catalog = toCatalog(catalogInput, (d) => report('activity_name_conflict', d));
  for (const [name, use] of first) {
    const registered = catalog.get(name);
    const where = use.task === undefined ? `${use.label}: ` : '';
    if (!registered) {
      report('unknown_activity', `${where}activity '${name}' is not in the activity catalog; export it from a module the worker registers`, use.task);
    } else if (registered !== use.def) {
      report('activity_name_conflict', `${where}activity '${name}' is a different definition than the catalog's '${name}' (two definitions share the name?)`, use.task);
    }
  }
  return used;
}

function toCatalog(input: Catalog | Iterable<AnyTaskDef>, report: (d: string) => void): Catalog {
  if (input instanceof Map) return input;
  const catalog = new Map<string, AnyTaskDef>();
  for (const def of input as Iterable<AnyTaskDef>) {
    if (!isTaskDef(def)) continue;
    const prior = catalog.get(def.name);
    if (prior && prior !== def) report(`the activity catalog has two different definitions named '${def.name}'`);
    else catalog.set(def.name, def);
  }
  return catalog;
}
