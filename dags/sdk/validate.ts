/**
 * Structural checks on a compiled DagSpec: ids, edges, cycles, trigger rules, numeric ranges,
 * schedule and time zone. Usable on any spec, not only ones this SDK produced.
 */
import { validateDetailed } from 'node-cron';
import { TRIGGER_RULES, type DagSpec, type TaskSpec } from '../../workflows/spec';
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
  if (task.kind === 'map' && (!task.map || !task.upstream.includes(task.map.over.task))) {
    report('invalid_map', 'a mapped task needs map.over, naming one of its upstream tasks');
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
