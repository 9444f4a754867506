/**
 * "Why is this not running?": for every task of a run that waits, the reason in words an on-call
 * engineer can act on at 3 a.m. Pure: it reads the run's status (the workflow's `state` query),
 * its spec and its attempt rows, and follows the interpreter's own decisions
 * (workflows/interpreter): trigger rules and branch arms for pending tasks, the DAG's
 * maxActiveTasks for queued ones, the run's own retry timers (each attempt is one activity with
 * Temporal's retries off; the backoff is a durable timer in the run) and sensor pokes.
 *
 * A queued run names the runs holding its DAG's maxActiveRuns slots when the caller passes the
 * gate's answer; a task waiting for its slot pool says so from the run's state, with the pool's use
 * and its place in line when the caller passes the pools' gates' answers.
 */
import type { PastRunWait, PoolWait, TaskStatus } from '../../workflows/messages';
import { poolHolderKey } from '../../workflows/pools';
import type { DagRunState, DagSpec, RetrySpec, SensorSpec, TaskSpec, TaskState, TriggerRule } from '../../workflows/spec';
import { decide, isTerminal } from '../../workflows/interpreter/trigger-rules';
import type { AttemptRow } from '../client/run-history';
import { fmtDuration, fmtTime } from './html/components';

export type AttemptInfo = Pick<AttemptRow, 'taskId' | 'attempt' | 'state' | 'startedAt' | 'endedAt' | 'error' | 'mapIndex'>;

export interface WhyInput {
  spec: DagSpec;
  runId?: string;
  /** The DAG's maxActiveRuns gate as it answers now (workflows/run-slots.ts), for a queued run. */
  slots?: { maxActiveRuns: number; holders: string[]; waiting: string[] };
  /** Slot pools' gates as they answer now (workflows/pools.ts `poolQuery`), by pool name. */
  pools?: Record<string, { size: number | null; inUse: number; waiting: Array<{ key: string }> }>;
  run: { state: DagRunState; operatorDeadline?: string; tasks: TaskStatus[] };
  /** The run's attempt rows (`listAttempts`); rows of earlier executions are told apart by their start times. */
  attempts: AttemptInfo[];
  now: Date;
}

export interface TaskWait {
  taskId: string;
  state: TaskState;
  reason: string;
  /** When the wait should end (a retry, the next sensor poke), RFC 3339. */
  until?: string;
}

export interface WhyNotRunning {
  /** Why the run as a whole waits (not started yet, awaiting an operator). */
  run?: string;
  tasks: TaskWait[];
}

/** What a trigger rule needs, as workflows/interpreter/trigger-rules.ts decides it. */
const RULES: Record<TriggerRule, string> = {
  all_success: 'runs it when every upstream task succeeded',
  all_done: 'runs it once every upstream task has finished, whatever the outcome',
  all_failed: 'runs it only when every upstream task failed',
  one_success: 'runs it as soon as one upstream task succeeds',
  one_failed: 'runs it as soon as one upstream task fails',
  none_failed: 'runs it once every upstream task has finished and none failed (skipped is fine)',
  none_failed_min_one_success: 'runs it once every upstream task has finished, none failed and at least one succeeded',
  // Unlike Airflow's, the interpreter's `always` waits for every upstream task to finish.
  always: 'runs it once every upstream task has finished, whatever the outcome',
};

/** As in the interpreter (task-executor.ts), which keeps these private to the workflow bundle. */
const DEFAULT_SENSOR: SensorSpec = { pokeIntervalMs: 60_000, timeoutMs: 86_400_000, softFail: false };
const LOST_WORKER_RETRY_DELAY_MS = 1000;
/** How long a worker may take to put an attempt it took on record before we ask whether any worker is there. */
const PICKUP_GRACE_MS = 10_000;
/** How late a timer may fire before we say so. */
const OVERDUE_SLACK_MS = 30_000;

/** Why the run and each of its waiting tasks are not running; closed runs have nothing waiting. */
export function whyNotRunning(input: WhyInput): WhyNotRunning {
  const { spec, run } = input;
  if (run.state === 'success' || run.state === 'failed') return { tasks: [] };
  const byId = new Map(run.tasks.map((t) => [t.id, t]));
  // A run not started yet may have no task status at all: every task is pending then.
  const statuses = [...run.tasks, ...spec.tasks.filter((t) => !byId.has(t.id)).map((t): TaskStatus => ({ id: t.id, state: 'pending', attempts: 0 }))];
  for (const s of statuses) byId.set(s.id, s);
  const ctx: Context = { ...input, byId, specs: new Map(spec.tasks.map((t) => [t.id, t])) };

  const tasks: TaskWait[] = [];
  for (const status of statuses) {
    const task = ctx.specs.get(status.id);
    if (!task) continue;
    const wait = explain(ctx, task, status);
    if (wait) tasks.push({ taskId: task.id, state: status.state, ...wait });
  }
  return { ...runReason(ctx), tasks };
}

interface Context extends WhyInput {
  byId: Map<string, TaskStatus>;
  specs: Map<string, TaskSpec>;
}
type Reason = { reason: string; until?: string } | undefined;

function runReason(ctx: Context): { run?: string } {
  const { run, spec, now } = ctx;
  if (run.state === 'queued' && ctx.slots) {
    const { maxActiveRuns, holders, waiting } = ctx.slots;
    const place = ctx.runId === undefined ? -1 : waiting.indexOf(ctx.runId);
    if (place >= 0) {
      return {
        run: `waiting for one of the DAG's ${maxActiveRuns} run slot${maxActiveRuns === 1 ? '' : 's'} (maxActiveRuns), held by ${list(holders) || 'runs just ending'}; number ${place + 1} in line (oldest logical date first).`,
      };
    }
  }
  if (run.state === 'queued') {
    return {
      run: `the run has not started a task yet: it waits for a worker polling task queue \`${spec.taskQueue}\` to pick it up. If it stays queued, is a worker polling \`${spec.taskQueue}\`?`,
    };
  }
  if (run.state === 'awaiting_operator') {
    const failed = run.tasks.filter((t) => t.state === 'failed').map((t) => t.id);
    const until = run.operatorDeadline ? `until ${fmtTime(run.operatorDeadline)} (${relative(run.operatorDeadline, now)})` : 'until an unknown time';
    return {
      run: `waiting for an operator ${until}: retry or mark successful the failed tasks (${list(failed) || 'none'}), or fail the run. With no action by then, the run fails.`,
    };
  }
  return {};
}

function explain(ctx: Context, task: TaskSpec, status: TaskStatus): Reason {
  switch (status.state) {
    case 'pending':
      return pending(ctx, task);
    case 'queued':
      if (status.waitingForPast) return pastRunWait(status.waitingForPast);
      return (status.waitingFor && poolWait(ctx, task, status.waitingFor)) ?? queued(ctx, task);
    case 'up_for_retry':
      return upForRetry(ctx, task, status);
    case 'running':
      if (task.kind === 'map') {
        const instances = mapped(ctx, task, status);
        const pool = status.waitingFor && poolWait(ctx, task, status.waitingFor);
        return instances && pool ? { reason: `${instances.reason}; ${pool.reason}` } : (instances ?? pool);
      }
      return notPickedUp(ctx, task, status) ?? (task.kind === 'sensor' ? sensor(ctx, task, status) : undefined);
    default:
      return undefined;
  }
}

function pending(ctx: Context, task: TaskSpec): Reason {
  const state = (id: string): TaskState => ctx.byId.get(id)?.state ?? 'pending';
  const notStarted = ctx.run.state === 'queued' ? ' once the run starts' : ' at the run\'s next step';
  // A task in a branch arm waits for the branch to choose; once it has, an unchosen arm is skipped.
  const arms = task.upstream
    .filter((up) => !isTerminal(state(up)) && (task.when?.[up] !== undefined || ctx.specs.get(up)?.kind === 'branch'))
    .map((up) => {
      const labels = task.when?.[up] ?? [task.id];
      return `it is in branch arm ${list(labels.map((l) => `'${l}'`))} of ${up}, which has not chosen yet (${up} is ${state(up)})`;
    });
  if (task.upstream.length === 0) return { reason: `has no upstream task: it starts${notStarted}` };
  const waiting = task.upstream.filter((up) => !isTerminal(state(up)));
  const rule = `trigger rule ${task.triggerRule} ${RULES[task.triggerRule]}`;
  const decision = decide(task.triggerRule, task.upstream.map(state));
  if (decision === 'wait') {
    const branch = arms.length > 0 ? `; ${arms.join('; ')}` : '';
    return { reason: `waits for ${list(waiting.map((up) => `${up} (${state(up)})`))}: ${rule}${branch}` };
  }
  if (decision === 'run') return { reason: `ready (${rule}, and its upstream tasks allow it): it starts${notStarted}` };
  const done = task.upstream.map((up) => `${up} (${state(up)})`);
  return { reason: `will not run: its upstream tasks ended ${list(done)}, and ${rule}; the run marks it ${decision}${notStarted}` };
}

/** A dependsOnPast task waiting for the previous run (workflows/interpreter/depends-on-past.ts checks it every 5 s). */
function pastRunWait(wait: PastRunWait): Reason {
  const tasks = list(wait.tasks.map((t) => `'${t}'`));
  return {
    reason: `depends on past: waits for ${tasks} in the previous run, ${wait.runId} (logical date ${wait.logicalDate}): ${wait.why}. It starts once ${wait.tasks.length === 1 ? 'that task has' : 'those tasks have'} succeeded (or been skipped), and fails if that run ends without.`,
  };
}

/** A task (or mapped instances) waiting for its slot pool's gate to let it in. */
function poolWait(ctx: Context, task: TaskSpec, wait: PoolWait): Reason {
  const asks = `${wait.slots} slot${wait.slots === 1 ? '' : 's'}`;
  const since = `since ${fmtTime(wait.since)}`;
  const gate = ctx.pools?.[wait.pool];
  const who = task.kind === 'map' ? 'instances wait' : 'waits';
  if (!gate || gate.size === null) {
    return { reason: `${who} for pool ${wait.pool} (asks ${asks}, ${since}); \`sluice pools list\` shows who holds its slots` };
  }
  const place = ctx.runId === undefined ? -1 : gate.waiting.findIndex((w) => w.key === poolHolderKey(ctx.runId as string, task.id, undefined, wait.attempt));
  const position = place >= 0 ? `, position ${place + 1} of ${gate.waiting.length}` : '';
  const closed = gate.size === 0 ? '; the pool is closed (0 slots): `sluice pools set` reopens it' : '';
  return { reason: `${who} for pool ${wait.pool} (${gate.inUse} of ${gate.size} slots in use${position}; asks ${asks}, ${since})${closed}` };
}

function queued(ctx: Context, task: TaskSpec): Reason {
  const { spec } = ctx;
  if (task.kind === 'map' && task.map) {
    return {
      reason: `reading the size of the list it maps over (the output of ${task.map.over.task}); then its instances start, at most maxActiveTasks=${spec.maxActiveTasks} at a time`,
    };
  }
  const holders = slotHolders(ctx);
  if (holders.length >= spec.maxActiveTasks) {
    return {
      reason: `the run already has ${holders.length} of maxActiveTasks=${spec.maxActiveTasks} tasks running (${list(holders)}); it starts when one of them finishes`,
    };
  }
  return { reason: `ready: it starts at the run's next step (${holders.length} of maxActiveTasks=${spec.maxActiveTasks} in use)` };
}

/**
 * What holds the run's maxActiveTasks slots: every task or mapped instance from its first
 * attempt until it ends, including its waits between retries and between sensor pokes.
 */
function slotHolders(ctx: Context): string[] {
  const holders: string[] = [];
  for (const status of ctx.byId.values()) {
    const task = ctx.specs.get(status.id);
    if (task?.kind === 'map') {
      status.mapped?.forEach((s, i) => {
        if (s === 'running') holders.push(`${status.id}[${i}]`);
        if (s === 'up_for_retry') holders.push(`${status.id}[${i}] (waiting to retry)`);
      });
    } else if (status.state === 'running') {
      holders.push(task?.kind === 'sensor' ? `${status.id} (sensor)` : status.id);
    } else if (status.state === 'up_for_retry') {
      holders.push(`${status.id} (waiting to retry)`);
    }
  }
  return holders;
}

function upForRetry(ctx: Context, task: TaskSpec, status: TaskStatus): Reason {
  const rows = history(ctx.attempts, task.id);
  const last = rows.find((r) => r.attempt === status.attempts) ?? rows[rows.length - 1];
  const n = last?.attempt ?? status.attempts;
  if (!last || last.endedAt === null || last.state !== 'failed') {
    return { reason: `attempt ${n} failed; the run retries it after the wait its retry policy sets (${policy(task.retry)}). The attempt's record is not in the database yet.` };
  }
  const endedAt = Date.parse(last.endedAt);
  if (isLost(last)) {
    const until = new Date(endedAt + LOST_WORKER_RETRY_DELAY_MS).toISOString();
    return { reason: `attempt ${n} was lost (${shorten(last.error)}); the run starts it again at ${fmtTime(until)} (${relative(until, ctx.now)}), without using up a retry`, until };
  }
  const retry = retryNumber(rows, task.retry);
  const until = new Date(endedAt + backoff(task.retry, retry)).toISOString();
  return {
    reason: `attempt ${n} failed (${shorten(last.error)}); retry ${retry} of ${task.retry.retries} at ${fmtTime(until)} (${relative(until, ctx.now, ctx.spec.taskQueue)})`,
    until,
  };
}

/**
 * Which retry of its policy the next attempt is: the failures since the task last succeeded (a
 * sensor's poke) or last started afresh. An operator's retry starts the policy over, so a streak
 * longer than one policy's attempts is counted from its last restart. Attempts lost with their
 * worker do not count, as in the interpreter.
 */
function retryNumber(rows: AttemptInfo[], policy: RetrySpec): number {
  let streak = 0;
  for (let i = rows.length - 1; i >= 0; i--) {
    const row = rows[i] as AttemptInfo;
    if (row.state !== 'failed') break;
    if (!isLost(row)) streak += 1;
  }
  const retry = ((Math.max(streak, 1) - 1) % (policy.retries + 1)) + 1;
  return Math.min(retry, Math.max(policy.retries, 1));
}

/** The interpreter's backoff before retry `retryNumber` (1-based), as task-executor.ts computes it. */
export function backoff(policy: RetrySpec, retryNumber: number): number {
  return Math.min(policy.initialIntervalMs * policy.backoffCoefficient ** (retryNumber - 1), policy.maxIntervalMs);
}

function sensor(ctx: Context, task: TaskSpec, status: TaskStatus): Reason {
  const config = task.sensor ?? DEFAULT_SENSOR;
  const rows = history(ctx.attempts, task.id);
  const current = rows.find((r) => r.attempt === status.attempts);
  const first = rows[0];
  const deadlineAt = first ? Date.parse(first.startedAt) + config.timeoutMs : undefined;
  const givesUp =
    deadlineAt === undefined || deadlineAt < ctx.now.getTime()
      ? `gives up at an unknown time (${fmtDuration(config.timeoutMs)} after its first poke since it was last retried or cleared)`
      : `gives up at ${fmtTime(new Date(deadlineAt))} (${relative(new Date(deadlineAt).toISOString(), ctx.now)})${config.softFail ? ' and is then skipped' : ''}`;
  if (!current || current.endedAt === null) {
    const since = current ? ` since ${fmtTime(current.startedAt)}` : '';
    return { reason: `sensor poking now (poke ${status.attempts}${since}); ${givesUp}` };
  }
  const next = new Date(Date.parse(current.endedAt) + config.pokeIntervalMs).toISOString();
  return {
    reason: `sensor waiting: last poke at ${fmtTime(current.endedAt)} found nothing; next poke at ${fmtTime(next)} (${relative(next, ctx.now, ctx.spec.taskQueue)}); ${givesUp}`,
    until: next,
  };
}

/**
 * A running task whose current attempt no worker has put on record: the activity sits on its
 * task queue. (Workers record an attempt as they start it, within a second or so.)
 */
function notPickedUp(ctx: Context, task: TaskSpec, status: TaskStatus): Reason {
  if (status.attempts === 0) return undefined;
  const rows = history(ctx.attempts, task.id);
  if (rows.some((r) => r.attempt === status.attempts)) return undefined;
  const previous = rows.find((r) => r.attempt === status.attempts - 1);
  let handedAt = status.startedAt ? Date.parse(status.startedAt) : undefined;
  if (previous?.endedAt) {
    const wait =
      previous.state === 'failed'
        ? isLost(previous) ? LOST_WORKER_RETRY_DELAY_MS : backoff(task.retry, retryNumber(rows, task.retry))
        : task.kind === 'sensor' ? (task.sensor ?? DEFAULT_SENSOR).pokeIntervalMs : 0;
    handedAt = Math.max(handedAt ?? 0, Date.parse(previous.endedAt) + wait);
  }
  if (handedAt !== undefined && ctx.now.getTime() - handedAt < PICKUP_GRACE_MS) return undefined;
  const queue = task.taskQueue ?? ctx.spec.taskQueue;
  const since = handedAt === undefined ? '' : ` ${fmtDuration(ctx.now.getTime() - handedAt)} ago`;
  return {
    reason: `attempt ${status.attempts} was handed to task queue \`${queue}\`${since}; no worker has picked it up yet — is a worker polling \`${queue}\` (one that has activity ${task.activity})?`,
  };
}

function mapped(ctx: Context, task: TaskSpec, status: TaskStatus): Reason {
  const counts = status.mapSummary?.counts;
  const states = status.mapped ?? [];
  const count = (s: TaskState) => counts?.[s] ?? states.filter((x) => x === s).length;
  const total = status.mapSummary?.total ?? states.length;
  const waiting = count('pending') + count('queued');
  const retrying = count('up_for_retry');
  if (waiting + retrying === 0) return undefined;
  const holders = slotHolders(ctx).length;
  const max = ctx.spec.maxActiveTasks;
  const parts = [
    [count('success'), 'succeeded'],
    [count('failed'), 'failed'],
    [count('running'), 'running'],
    [retrying, 'waiting to retry'],
    [waiting, holders >= max ? `waiting for a slot (the run has ${holders} of maxActiveTasks=${max} running)` : 'not started yet'],
  ] as const;
  return { reason: `maps over ${total} elements${total > 5000 ? ' (in child workflows of 2,000)' : ''}: ${parts.filter(([n]) => n > 0).map(([n, what]) => `${n} ${what}`).join(', ')}` };
}

/**
 * The task's attempts in its current execution, oldest first. Attempt numbers go on across
 * operator retries, but a rerun of the date starts a new execution at 1 again: its rows are the
 * latest-started ones whose numbers run up to the end.
 */
function history(attempts: AttemptInfo[], taskId: string): AttemptInfo[] {
  const rows = attempts
    .filter((a) => a.taskId === taskId && (a.mapIndex === null || a.mapIndex === undefined))
    .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt) || a.attempt - b.attempt);
  let start = rows.length - 1;
  while (start > 0 && (rows[start - 1] as AttemptInfo).attempt < (rows[start] as AttemptInfo).attempt) start -= 1;
  return rows.slice(Math.max(start, 0));
}

/** An attempt the run closed because its worker went silent (see `closeLostAttempt`). */
function isLost(row: AttemptInfo): boolean {
  return row.error?.startsWith('attempt lost:') ?? false;
}

function policy(retry: RetrySpec): string {
  return `${retry.retries} ${retry.retries === 1 ? 'retry' : 'retries'}, first after ${fmtDuration(retry.initialIntervalMs)}`;
}

/** `in 4 min 05 s`, `due now`, or, when a timer is well past due, a hint at the stopped worker. */
function relative(iso: string, now: Date, queue?: string): string {
  const ms = Date.parse(iso) - now.getTime();
  if (ms > 0) return `in ${fmtDuration(ms)}`;
  if (queue === undefined || -ms < OVERDUE_SLACK_MS) return 'due now';
  return `overdue by ${fmtDuration(-ms)}: the run's timer has fired, but no worker has acted on it — is a worker polling \`${queue}\`?`;
}

/** An error's first line, short enough for a sentence. */
function shorten(error: string | null): string {
  if (!error) return 'no error message';
  const line = (error.split('\n')[0] ?? '').replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}

/** `a`, `a and b`, `a, b and c`; long lists end with `and N more`. */
function list(items: readonly string[], max = 6): string {
  const shown = items.length > max ? [...items.slice(0, max - 1), `${items.length - max + 1} more`] : [...items];
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} and ${shown[shown.length - 1] as string}`;
}
