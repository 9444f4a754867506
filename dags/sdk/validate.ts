/**
 * Structural checks on a compiled DagSpec: ids, edges, cycles, trigger rules, numeric ranges,
 * schedule and time zone. Usable on any spec, not only ones this SDK produced.
 */
import { validateDetailed } from 'node-cron';
import { MAX_POOL_SLOTS, POOL_NAME, TRIGGER_RULES, type DagSpec, type TaskSpec } from '../../workflows/spec';
import { dagError, type DagError, type DagErrorCode } from './errors';

const DAG_ID = /^[a-z0-9_]+$/;
const TASK_ID = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
/**
 * Ids become Temporal ids (`<dagId>-<logical date>` runs and schedules, `<taskId>[i]#n`
 * activities), which Temporal caps at 1,000 characters; an id over it would wedge its run.
 * These limits leave room for the rest and stay readable.
 */
export const MAX_ID_LENGTH = 200;
const KINDS = ['task', 'branch', 'sensor', 'map'];
/** Asset names are keys users write on both sides (outlets, schedules): short, one word each. */
export const MAX_ASSET_LENGTH = 200;
/** Most assets one DAG may be scheduled on. */
export const MAX_SCHEDULE_ASSETS = 20;

/** Checks a spec; every error names the file (when given), the DAG and the task concerned. */
export function validateDag(spec: DagSpec, options: { file?: string } = {}): DagError[] {
  const errors: DagError[] = [];
  const report = (code: DagErrorCode, detail: string, task?: string): void => {
    errors.push(dagError({ code, dagId: spec.dagId, detail, ...(options.file !== undefined ? { file: options.file } : {}), ...(task !== undefined ? { task } : {}) }));
  };

  if (typeof spec.dagId !== 'string' || !DAG_ID.test(spec.dagId)) {
    report('invalid_dag_id', `dag id ${JSON.stringify(spec.dagId)} must match [a-z0-9_]+ (lower case, digits, underscores)`);
  } else if (spec.dagId.length > MAX_ID_LENGTH) {
    report('invalid_dag_id', `dag id is ${spec.dagId.length} characters long; the limit is ${MAX_ID_LENGTH}`);
  }
  checkDagSettings(spec, report);

  const firstById = new Map<string, TaskSpec>();
  for (const task of spec.tasks) {
    const previous = firstById.get(task.id);
    if (previous) {
      const hint =
        previous.activity === task.activity
          ? `: '${task.activity}' is used twice; pass { id: '...' } to tell the uses apart`
          : ` (activities '${previous.activity}' and '${task.activity}')`;
      report('duplicate_task_id', `duplicate task id '${task.id}'${hint}`, task.id);
    } else {
      firstById.set(task.id, task);
    }
  }

  for (const task of spec.tasks) {
    if (typeof task.id !== 'string' || !TASK_ID.test(task.id)) {
      report('invalid_task_id', `task id ${JSON.stringify(task.id)} must use letters, digits, '_' and '-', with '.' only between group names`, task.id);
    } else if (task.id.length > MAX_ID_LENGTH) {
      report('invalid_task_id', `task id is ${task.id.length} characters long (group prefixes included); the limit is ${MAX_ID_LENGTH}`, task.id);
    }
    checkTask(task, (code, detail) => report(code, detail, task.id));
    for (const up of task.upstream) {
      const upstream = firstById.get(up);
      if (!upstream) report('dangling_reference', `depends on '${up}', which is not a task of this DAG`, task.id);
      else if (upstream.kind === 'branch' && !task.when?.[up]) {
        report('invalid_input', `follows branch '${up}' without joining one of its arms: use .after(${up.slice(up.lastIndexOf('.') + 1)}.when('<label>')) so the branch decides whether it runs`, task.id);
      }
    }
    for (const branch of Object.keys(task.when ?? {})) {
      if (firstById.get(branch)?.kind !== 'branch') report('invalid_input', `joins an arm of '${branch}', which is not a branch of this DAG`, task.id);
    }
  }

  for (const cycle of findCycles(spec.tasks)) {
    report('cycle', `cycle: ${[...cycle, cycle[0]].join(' -> ')} (each task waits for the one before it)`, cycle[0]);
  }
  return errors;
}

type Report = (code: DagErrorCode, detail: string) => void;

function checkDagSettings(spec: DagSpec, report: Report): void {
  if (spec.schedule !== null) {
    const { cron, timezone } = spec.schedule;
    const result = typeof cron === 'string' ? validateDetailed(cron) : { valid: false, errors: [{ message: 'not a string' }] };
    if (!result.valid) {
      report('invalid_schedule', `invalid cron schedule ${JSON.stringify(cron)}: ${result.errors.map((e) => e.message).join('; ')}`);
    }
    if (!isTimeZone(timezone)) report('invalid_timezone', `invalid time zone ${JSON.stringify(timezone)}: use an IANA name such as 'Europe/Berlin' or 'UTC'`);
  }
  const positiveInt = (value: unknown, name: string): void => {
    if (!Number.isInteger(value) || (value as number) < 1) report('invalid_option', `${name} must be a whole number >= 1, got ${String(value)}`);
  };
  positiveInt(spec.maxActiveRuns, 'maxActiveRuns');
  positiveInt(spec.maxActiveTasks, 'maxActiveTasks');
  if (!isMs(spec.operatorWindowMs)) report('invalid_duration', `operatorWindow must be a duration >= 0, got ${String(spec.operatorWindowMs)}`);
  if (typeof spec.catchup !== 'boolean') report('invalid_option', `catchup must be true or false, got ${String(spec.catchup)}`);
  if (typeof spec.taskQueue !== 'string' || spec.taskQueue === '') report('invalid_option', 'taskQueue must be a non-empty string');
  if (!Array.isArray(spec.tags) || !spec.tags.every((t) => typeof t === 'string')) report('invalid_option', 'tags must be a list of strings');
  if (spec.assetSchedule !== undefined) checkAssetSchedule(spec, report);
  checkDeadline(spec, report);
}

/** 'HH:MM', 24-hour: a deadline's wall-clock time. */
export const DEADLINE_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** A deadline is optional with or without onDeadlineMiss (without one, a miss is only a warning on the run). */
function checkDeadline(spec: DagSpec, report: Report): void {
  const { deadline } = spec;
  if (deadline === undefined) {
    if (spec.onDeadlineMiss !== undefined) report('invalid_option', "onDeadlineMiss needs a deadline: add deadline: { at: 'HH:MM' } or { after: '2h' }");
    return;
  }
  if ((deadline.atTime === undefined) === (deadline.afterMs === undefined)) {
    report('invalid_option', "deadline takes exactly one of at ('HH:MM') and after (a duration)");
  }
  if (deadline.atTime !== undefined && (typeof deadline.atTime !== 'string' || !DEADLINE_TIME.test(deadline.atTime))) {
    report('invalid_option', `deadline.at must be a 24-hour time 'HH:MM' in the DAG's time zone, e.g. '06:00', got ${JSON.stringify(deadline.atTime)}`);
  }
  if (deadline.afterMs !== undefined && (!isMs(deadline.afterMs) || deadline.afterMs === 0)) {
    report('invalid_duration', `deadline.after must be a duration > 0, got ${String(deadline.afterMs)}`);
  }
}

function checkAssetSchedule(spec: DagSpec, report: Report): void {
  const assets = spec.assetSchedule;
  if (spec.schedule !== null) report('invalid_schedule', 'a DAG is scheduled on a cron or on assets, not both');
  if (!Array.isArray(assets) || assets.length < 1 || assets.length > MAX_SCHEDULE_ASSETS) {
    report('invalid_schedule', `schedule.assets must list 1 to ${MAX_SCHEDULE_ASSETS} asset names, got ${Array.isArray(assets) ? `${assets.length}` : JSON.stringify(assets)}`);
    return;
  }
  checkAssetNames(assets, 'schedule.assets', (d) => report('invalid_schedule', d));
  const own = new Set(spec.tasks.flatMap((t) => (Array.isArray(t.outlets) ? t.outlets : [])));
  const loop = assets.filter((a) => own.has(a));
  if (loop.length > 0) report('invalid_schedule', `scheduled on ${loop.map((a) => `'${a}'`).join(', ')}, which its own tasks write: it would trigger itself`);
}

/** Non-empty, at most MAX_ASSET_LENGTH characters, no whitespace, each once. */
function checkAssetNames(names: readonly unknown[], where: string, report: (detail: string) => void): void {
  const seen = new Set<unknown>();
  for (const name of names) {
    if (typeof name !== 'string' || name === '') report(`${where}: asset names are non-empty strings, got ${JSON.stringify(name)}`);
    else if (name.length > MAX_ASSET_LENGTH) report(`${where}: asset name '${name.slice(0, 40)}…' is ${name.length} characters long; the limit is ${MAX_ASSET_LENGTH}`);
    else if (/\s/.test(name)) report(`${where}: asset name ${JSON.stringify(name)} contains whitespace`);
    else if (seen.has(name)) report(`${where}: asset '${name}' is listed twice`);
    seen.add(name);
  }
}

function checkTask(task: TaskSpec, report: Report): void {
  if (!KINDS.includes(task.kind)) report('invalid_option', `kind ${JSON.stringify(task.kind)} is not one of ${KINDS.join(', ')}`);
  if (!(TRIGGER_RULES as readonly string[]).includes(task.triggerRule)) {
    report('invalid_trigger_rule', `invalid trigger rule ${JSON.stringify(task.triggerRule)}: use one of ${TRIGGER_RULES.join(', ')}`);
  }
  const { retries, initialIntervalMs, backoffCoefficient, maxIntervalMs } = task.retry;
  if (!Number.isInteger(retries) || retries < 0) report('invalid_option', `retries must be a whole number >= 0, got ${String(retries)}`);
  if (typeof backoffCoefficient !== 'number' || !(backoffCoefficient >= 1)) {
    report('invalid_option', `retryBackoff must be a number >= 1, got ${String(backoffCoefficient)}`);
  }
  if (!isMs(initialIntervalMs)) report('invalid_duration', `retryDelay must be a duration >= 0, got ${String(initialIntervalMs)}`);
  if (!isMs(maxIntervalMs)) report('invalid_duration', `maxRetryDelay must be a duration >= 0, got ${String(maxIntervalMs)}`);
  else if (isMs(initialIntervalMs) && maxIntervalMs < initialIntervalMs) {
    report('invalid_duration', `maxRetryDelay (${maxIntervalMs}ms) is shorter than retryDelay (${initialIntervalMs}ms)`);
  }
  if (!isMs(task.executionTimeoutMs) || task.executionTimeoutMs === 0) {
    report('invalid_duration', `executionTimeout must be a duration > 0, got ${String(task.executionTimeoutMs)}`);
  }
  if (task.heartbeatTimeoutMs !== undefined && (!isMs(task.heartbeatTimeoutMs) || task.heartbeatTimeoutMs === 0)) {
    report('invalid_duration', `heartbeatTimeout must be a duration > 0, got ${String(task.heartbeatTimeoutMs)}`);
  }
  if (task.taskQueue !== undefined && (typeof task.taskQueue !== 'string' || task.taskQueue === '')) {
    report('invalid_option', 'taskQueue must be a non-empty string');
  }
  if (task.kind === 'sensor') {
    if (!task.sensor) report('invalid_option', 'a sensor needs pokeInterval and timeout settings');
    else {
      if (!isMs(task.sensor.pokeIntervalMs) || task.sensor.pokeIntervalMs === 0) {
        report('invalid_duration', `pokeInterval must be a duration > 0, got ${String(task.sensor.pokeIntervalMs)}`);
      }
      if (!isMs(task.sensor.timeoutMs) || task.sensor.timeoutMs === 0) {
        report('invalid_duration', `timeout must be a duration > 0, got ${String(task.sensor.timeoutMs)}`);
      }
    }
  }
  if (task.outlets !== undefined) {
    if (!Array.isArray(task.outlets)) report('invalid_option', `outlets must be a list of asset names, got ${JSON.stringify(task.outlets)}`);
    else checkAssetNames(task.outlets, 'outlets', (d) => report('invalid_option', d));
  }
  checkPool(task, report);
  for (const key of ['dependsOnPast', 'waitForDownstream'] as const) {
    if (task[key] !== undefined && typeof task[key] !== 'boolean') report('invalid_option', `${key} must be true or false, got ${JSON.stringify(task[key])}`);
  }
  if (task.kind === 'map' && (!task.map || !task.upstream.includes(task.map.over.task))) {
    report('invalid_map', 'a mapped task needs map.over, naming one of its upstream tasks');
  }
}

/** A task's pool options; whether the pool exists is only known at run time (the task then fails saying so). */
function checkPool(task: TaskSpec, report: Report): void {
  if (task.pool !== undefined && (typeof task.pool !== 'string' || !POOL_NAME.test(task.pool))) {
    report('invalid_option', `pool must be a pool name of 1 to 100 letters, digits, '_', '.' or '-', got ${JSON.stringify(task.pool)}`);
  }
  if (task.poolSlots !== undefined && (!Number.isInteger(task.poolSlots) || task.poolSlots < 1 || task.poolSlots > MAX_POOL_SLOTS)) {
    report('invalid_option', `poolSlots must be a whole number from 1 to ${MAX_POOL_SLOTS}, got ${String(task.poolSlots)}`);
  }
  if (task.priorityWeight !== undefined && !Number.isSafeInteger(task.priorityWeight)) {
    report('invalid_option', `priorityWeight must be a whole number, got ${String(task.priorityWeight)}`);
  }
}

function isMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** True for a time zone `Intl` knows (IANA names, 'UTC'). */
export function isTimeZone(zone: unknown): boolean {
  if (typeof zone !== 'string' || zone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Every cycle reachable in the upstream graph, each reported once as the task ids in execution
 * order (each waits for the one before it), starting from the task defined first.
 */
export function findCycles(tasks: readonly TaskSpec[]): string[][] {
  const index = new Map(tasks.map((t, i) => [t.id, i]));
  const downstream = new Map<string, string[]>(tasks.map((t) => [t.id, []]));
  for (const t of tasks) for (const up of t.upstream) downstream.get(up)?.push(t.id);

  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const visit = (id: string): void => {
    state.set(id, 'active');
    stack.push(id);
    for (const next of downstream.get(id) ?? []) {
      if (state.get(next) === 'active') {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.reduce((a, b) => ((index.get(a) ?? 0) <= (index.get(b) ?? 0) ? a : b));
        const rotated = [...cycle.slice(cycle.indexOf(start)), ...cycle.slice(0, cycle.indexOf(start))];
        const key = [...rotated].sort().join('\0');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(rotated);
        }
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const t of tasks) if (!state.has(t.id)) visit(t.id);
  return cycles;
}
