/**
 * Runs the tasks the RunState says are ready: one activity per attempt, backoff on durable
 * timers, sensors that sleep between pokes without holding a worker slot, branch choices and
 * mapped fan-out, all within the DAG's maxActiveTasks.
 */
import * as wf from '@temporalio/workflow';
import type { CallbackSpec, DagSpec, RetrySpec, TaskContext, TaskSpec } from '../spec';
import { dependsOnPast, waitForPastRun } from './depends-on-past';
import { INLINE_MAP_LIMIT, MAX_MAPPED, runMapBatches } from './map-batches';
import type { RunState } from './run-state';
import { poolHolderKey } from '../pools';
import { PoolSlots } from './pool-slots';
import { bulk, system } from './system-activities';
import { getPath, isOffloaded, resolveTemplate } from './templates';

type RunContext = Omit<TaskContext, 'taskId' | 'attempt' | 'mapIndex'>;
interface Unit {
  id: string;
  /** Set for one instance of a mapped task. */
  index?: number;
  /** A mapped task large enough to run in child workflows (./map-batches.ts). */
  batched?: true;
}
type AttemptResult = { ok: true; output: unknown } | { ok: false; error: string } | { parked: true };

/** An attempt as the run saw it: what `system.recordAttempts` puts on record if a worker could not. */
export interface FinishedAttempt {
  taskId: string;
  mapIndex?: number;
  attempt: number;
  state: 'success' | 'failed';
  startedAt: string;
  endedAt: string;
  error?: string;
}

/** Outcome passed as the third argument to onSuccess / onFailure callbacks. */
export interface RunOutcome {
  state: 'success' | 'failed' | 'deadline_missed';
  failedTasks: string[];
  reason?: string;
  /** For `deadline_missed`: the deadline the run missed, RFC 3339. */
  deadline?: string;
}

export class TaskExecutor {
  private readonly queue: Unit[] = [];
  private active = 0;
  private preparing = 0;
  private readonly scope = new wf.CancellationScope();
  private readonly instanceAttempts: Map<string, number>;
  /** Attempts that ended since the run last put them on record. */
  private finished: FinishedAttempt[] = [];
  /** Sensors waiting between pokes: what `park()` interrupts. */
  private readonly waits = new Set<wf.CancellationScope>();
  private parking = false;
  /** Tasks with a `pool`: their asks, grants and releases (./pool-slots.ts). */
  private readonly pools = new PoolSlots(() => this.onChange());
  /** Mapped instances waiting for their pool, by task: its `waitingFor` stays while any does. */
  private readonly poolWaiters = new Map<string, number>();
  /** Instances of each mapped task queued and not yet ended. */
  private readonly openInstances = new Map<string, number>();
  /** Whether large mapped tasks go to child workflows; false inside such a child. */
  mapBatching = true;

  constructor(
    private readonly run: RunState,
    private readonly spec: DagSpec,
    private readonly context: RunContext,
    private readonly onChange: () => void,
    instanceAttempts: Record<string, number> = {},
  ) {
    this.instanceAttempts = new Map(Object.entries(instanceAttempts));
  }

  /** Promotes pending tasks and starts as many ready units as the DAG's limit allows. */
  launchReady(): void {
    if (this.parking) return;
    for (const id of this.run.promote()) this.enqueue(id);
    while (this.queue.length > 0 && this.active < this.spec.maxActiveTasks) {
      this.launch(this.queue.shift() as Unit);
    }
    // Slot pools: this step's releases and asks go out together.
    this.pools.flush();
  }

  idle(): boolean {
    return this.active === 0 && this.preparing === 0 && this.queue.length === 0;
  }

  /**
   * Stops for a continue-as-new: starts nothing more, wakes sensors waiting between pokes (they
   * go back to pending, keeping their deadline), and resolves once the attempts in flight end.
   * Queued units are dropped: their tasks are still pending in the run state.
   */
  async park(): Promise<void> {
    this.parking = true;
    // A queued mapped instance is still 'pending' among its task's instances.
    for (const unit of this.queue) if (unit.index === undefined) this.run.setState(unit.id, 'pending');
    this.queue.length = 0;
    for (const wait of this.waits) wait.cancel();
    await wf.condition(() => this.active === 0 && this.preparing === 0);
    // Only runs with pooled tasks wait here (no extra step for the others' replays).
    if (!this.pools.settled()) await this.settlePools();
  }

  /**
   * Sends the last releases to the pools' gates and waits until they have them. A grant can cross
   * a withdrawn ask's release on the way: the run then gives those slots back too, so it sends
   * again until nothing is left to send (once it waited for that last release forever, and the
   * run never continued as new).
   */
  private async settlePools(): Promise<void> {
    const resend = wf.patched(SETTLE_CROSSED_GRANTS);
    do {
      this.pools.flush();
      await wf.condition(() => this.pools.settled() || (resend && this.pools.unsent()));
    } while (!this.pools.settled());
  }

  /** Attempt numbers of mapped instances, carried over a continue-as-new. */
  instanceAttemptCounts(): Record<string, number> {
    return Object.fromEntries(this.instanceAttempts);
  }

  /** The attempts that ended since the last call (for `system.recordAttempts`). */
  takeFinished(): FinishedAttempt[] {
    const taken = this.finished;
    this.finished = [];
    return taken;
  }

  cancelAll(): void {
    this.queue.length = 0;
    this.scope.cancel();
  }

  async drain(): Promise<void> {
    this.queue.length = 0;
    await wf.condition(() => this.active === 0 && this.preparing === 0);
    // Only runs with pooled tasks wait here (no extra step for the others' replays).
    if (!this.pools.settled()) await this.settlePools();
  }

  async runCallback(callback: CallbackSpec | undefined, outcome: RunOutcome): Promise<void> {
    if (!callback) return;
    const input = resolveTemplate(callback.input, this.scopeFor());
    const ctx: TaskContext = { ...this.context, taskId: `callback.${outcome.state}`, attempt: 1 };
    const activities = wf.proxyActivities({
      startToCloseTimeout: '5 minutes',
      taskQueue: this.spec.taskQueue,
      retry: { maximumAttempts: 5, initialInterval: '5s' },
    });
    try {
      await (activities[callback.activity] as (...args: unknown[]) => Promise<unknown>)(input, ctx, outcome);
    } catch (err) {
      wf.log.error('run callback failed', { callback: callback.activity, error: describe(err) });
    }
  }

  private enqueue(id: string): void {
    const task = this.run.spec(id);
    if (task.kind !== 'map') {
      this.queue.push({ id });
      return;
    }
    this.preparing += 1;
    this.prepareMap(task)
      .catch((err) => this.run.finish(id, 'failed', { now: now(), error: describe(err) }))
      .finally(() => {
        this.preparing -= 1;
        this.onChange();
      });
  }

  /** Sizes the mapped list (asking S3 when it was offloaded) and queues its pending instances. */
  private async prepareMap(task: TaskSpec): Promise<void> {
    if (dependsOnPast(task) && !(await this.pastRunAllows(task))) return;
    const record = this.run.record(task.id);
    if (!record.mapped) {
      const over = task.map?.over;
      if (!over) throw new Error(`mapped task '${task.id}' has no list to map over`);
      const list = getPath(this.run.output(over.task), over.path);
      let length: number;
      if (Array.isArray(list)) length = list.length;
      else if (isOffloaded(list)) length = await bulk.measureList(list);
      else throw new Error(`task '${task.id}' maps over '${over.task}', whose output is not a list`);
      if (length > MAX_MAPPED) {
        throw new Error(`task '${task.id}' would map over ${length} elements; the limit is ${MAX_MAPPED}: map over batches instead`);
      }
      this.run.initMap(task.id, list, length);
      // Batched outputs live in S3 parts, not in the run (and its checkpoints).
      if (this.mapBatching && length > INLINE_MAP_LIMIT) record.mapOutputs = undefined;
    }
    const states = this.run.record(task.id).mapped ?? [];
    if (states.length === 0) {
      this.run.finish(task.id, 'success', { now: now(), output: [] });
      return;
    }
    this.run.setState(task.id, 'running');
    record.startedAt ??= now();
    if (this.mapBatching && states.length > INLINE_MAP_LIMIT) {
      this.queue.push({ id: task.id, batched: true });
      return;
    }
    let queued = 0;
    states.forEach((state, index) => {
      if (state === 'success') return;
      this.queue.push({ id: task.id, index });
      queued += 1;
    });
    this.openInstances.set(task.id, queued);
  }

  private launch(unit: Unit): void {
    this.active += 1;
    this.scope
      .run(() =>
        unit.batched
          ? runMapBatches({ run: this.run, spec: this.spec, context: this.context, taskId: unit.id, instanceAttempts: this.instanceAttempts })
          : unit.index === undefined
            ? this.execute(unit.id)
            : this.executeInstance(unit.id, unit.index),
      )
      .catch((err) => this.run.finish(unit.id, 'failed', { now: now(), error: describe(err) }))
      .finally(() => {
        this.active -= 1;
        this.onChange();
      });
  }

  private async execute(id: string): Promise<void> {
    const task = this.run.spec(id);
    if (dependsOnPast(task) && !(await this.pastRunAllows(task))) return;
    const result = task.kind === 'sensor' ? await this.poke(task) : await this.attempts(task);
    if ('parked' in result) {
      this.run.setState(id, 'pending');
      return;
    }
    if (!result.ok) {
      this.run.finish(id, 'failed', { now: now(), error: result.error });
      return;
    }
    if (result.output === SOFT_FAILED) {
      this.run.finish(id, 'skipped', { now: now(), skipReason: 'sensor_timeout' });
      return;
    }
    if (task.kind === 'branch') {
      const chosen = typeof result.output === 'string' ? [result.output] : result.output;
      if (!Array.isArray(chosen) || !chosen.every((c) => typeof c === 'string')) {
        this.run.finish(id, 'failed', { now: now(), error: 'a branch task must return a task id or a list of task ids' });
        return;
      }
      try {
        this.run.chooseBranch(id, chosen);
      } catch (err) {
        this.run.finish(id, 'failed', { now: now(), error: (err as Error).message });
        return;
      }
    }
    this.run.finish(id, 'success', { now: now(), output: result.output });
  }

  private async executeInstance(id: string, index: number): Promise<void> {
    const record = this.run.record(id);
    const states = record.mapped as NonNullable<typeof record.mapped>;
    const outputs = record.mapOutputs as unknown[];
    states[index] = 'running';
    const result = await this.attempts(this.run.spec(id), index);
    if ('parked' in result) {
      // Only a wait for the pool is parked: the instance starts again after the continue-as-new.
      states[index] = 'pending';
      return;
    }
    states[index] = result.ok ? 'success' : 'failed';
    outputs[index] = result.ok ? result.output : null;
    if (!result.ok) record.error = `instance ${index}: ${result.error}`;
    // Counted, not scanned: a scan of every instance at each end is quadratic at 50,000.
    const open = (this.openInstances.get(id) ?? 1) - 1;
    this.openInstances.set(id, open);
    if (open > 0 || states.some((s) => s === 'running' || s === 'pending' || s === 'queued' || s === 'up_for_retry')) return;
    const failed = states.filter((s) => s === 'failed').length;
    if (failed > 0) {
      this.run.finish(id, 'failed', { now: now(), error: `${failed} of ${states.length} mapped instances failed; last: ${String(record.error)}` });
    } else {
      this.run.finish(id, 'success', { now: now(), output: [...outputs] });
    }
  }

  /**
   * Polls a sensor: each poke is one short activity; waiting happens on a durable timer. The
   * deadline is kept on the task's record, so a sensor parked for a continue-as-new keeps it.
   */
  private async poke(task: TaskSpec): Promise<AttemptResult> {
    const sensor = task.sensor ?? { pokeIntervalMs: 60_000, timeoutMs: 86_400_000, softFail: false };
    const record = this.run.record(task.id);
    const deadline = (record.sensorDeadline ??= Date.now() + sensor.timeoutMs);
    for (;;) {
      const result = await this.attempts(task);
      if ('parked' in result || !result.ok || (result.output !== false && result.output !== null && result.output !== undefined)) {
        return result;
      }
      if (Date.now() + sensor.pokeIntervalMs > deadline) {
        if (sensor.softFail) return { ok: true, output: SOFT_FAILED };
        return { ok: false, error: `sensor timed out after ${Math.round(sensor.timeoutMs / 1000)}s` };
      }
      if (this.parking || !(await this.waitUnlessParked(sensor.pokeIntervalMs))) return { parked: true };
    }
  }

  /**
   * dependsOnPast (./depends-on-past.ts): false when the task must not start now; it then failed
   * (the previous run did not succeed it) or went back to pending for a continue-as-new.
   */
  private async pastRunAllows(task: TaskSpec): Promise<boolean> {
    const past = await waitForPastRun(this.run, this.spec, task, this.context, async (ms) => !this.parking && (await this.waitUnlessParked(ms)));
    if (past === 'ok') return true;
    if (past === 'parked') this.run.setState(task.id, 'pending');
    else this.run.finish(task.id, 'failed', { now: now(), error: past.blocked });
    return false;
  }

  /** Sleeps, unless `park()` interrupts: then resolves false at once. */
  private async waitUnlessParked(ms: number): Promise<boolean> {
    const wait = new wf.CancellationScope();
    this.waits.add(wait);
    try {
      await wait.run(() => wf.sleep(ms));
      return true;
    } catch (err) {
      if (this.parking && wf.isCancellation(err)) return false;
      throw err;
    } finally {
      this.waits.delete(wait);
    }
  }

  /**
   * One task (or mapped instance) with its retry policy: an activity per attempt. An attempt
   * whose worker went silent (heartbeat timeout) is retried at once, up to LOST_WORKER_RETRIES
   * times, without using up the task's own retries: a killed worker is not the task's fault.
   */
  private async attempts(task: TaskSpec, index?: number): Promise<AttemptResult> {
    const input = resolveTemplate(task.input, this.scopeFor(task, index));
    const oversized = inputTooLarge(input);
    if (oversized !== undefined && wf.patched(INPUT_SIZE_GUARD)) return { ok: false, error: oversized };
    let lostWorkers = 0;
    for (let retry = 0; ; retry++) {
      const slots = task.pool === undefined ? undefined : await this.waitForPool(task, index);
      if (slots && !('key' in slots)) return slots;
      const attempt = this.startAttempt(task.id, index);
      const ctx: TaskContext = { ...this.context, taskId: task.id, attempt, ...(index === undefined ? {} : { mapIndex: index }) };
      const unit = `${task.id}${index === undefined ? '' : `[${index}]`}`;
      const activities = wf.proxyActivities({
        startToCloseTimeout: task.executionTimeoutMs,
        heartbeatTimeout: task.heartbeatTimeoutMs,
        taskQueue: task.taskQueue ?? this.spec.taskQueue,
        activityId: `${unit}#${attempt}`,
        // The Temporal UI's timeline labels an activity by its type (the task's definition) and
        // this summary: the task id is what operator messages take.
        summary: `${unit} attempt ${attempt}`,
        retry: { maximumAttempts: 1 },
      });
      const startedAt = now();
      const ended = (state: FinishedAttempt['state'], error?: string) =>
        this.finished.push({ taskId: task.id, ...(index === undefined ? {} : { mapIndex: index }), attempt, state, startedAt, endedAt: now(), ...(error ? { error } : {}) });
      try {
        const call = () => (activities[task.activity] as (...args: unknown[]) => Promise<unknown>)(input, ctx);
        const output = await (slots ? this.pools.holding(task.pool, slots.key, call) : call());
        ended('success');
        return { ok: true, output };
      } catch (err) {
        ended('failed', describe(err));
        if (wf.isCancellation(err)) throw err;
        const timeout = timeoutType(err);
        if (timeout !== undefined && wf.patched(CLOSE_LOST_ATTEMPTS)) {
          await system.closeLostAttempt({
            temporalRunId: this.context.executionId ?? wf.workflowInfo().runId,
            runId: this.context.runId,
            dagId: this.context.dagId,
            taskId: task.id,
            ...(index === undefined ? {} : { mapIndex: index }),
            attempt,
            error: timeout === 'HEARTBEAT' ? `attempt lost: no heartbeat for ${Math.round((task.heartbeatTimeoutMs ?? 0) / 1000)}s (its worker stopped or hung)` : describe(err),
          });
          if (timeout === 'HEARTBEAT' && lostWorkers < LOST_WORKER_RETRIES) {
            lostWorkers += 1;
            retry -= 1;
            this.setRetrying(task.id, index);
            await wf.sleep(LOST_WORKER_RETRY_DELAY_MS);
            continue;
          }
        }
        if (retry >= task.retry.retries || isNonRetryable(err)) return { ok: false, error: describe(err) };
        this.setRetrying(task.id, index);
        await wf.sleep(backoff(task.retry, retry + 1));
      }
    }
  }

  /**
   * Waits in `queued` for the task's pool to let the next attempt in. A refusal (no such pool,
   * more slots than it has) fails the task; `park()` ends the wait (the task starts again after
   * the continue-as-new).
   */
  private async waitForPool(task: TaskSpec, index: number | undefined): Promise<{ ok: true; key: string } | { ok: false; error: string } | { parked: true }> {
    if (this.parking) return { parked: true };
    const pool = task.pool as string;
    const record = this.run.record(task.id);
    const attempt = index === undefined ? record.attempts + 1 : (this.instanceAttempts.get(`${task.id}[${index}]`) ?? 0) + 1;
    const key = poolHolderKey(this.context.runId, task.id, index, attempt);
    const slots = task.poolSlots ?? 1;
    if (index === undefined) this.run.setState(task.id, 'queued');
    else if (record.mapped) record.mapped[index] = 'queued';
    this.poolWaiters.set(task.id, (this.poolWaiters.get(task.id) ?? 0) + 1);
    record.waitingFor ??= { pool, slots, since: now(), attempt };
    const wait = new wf.CancellationScope();
    this.waits.add(wait);
    try {
      const request = { key, workflowId: wf.workflowInfo().workflowId, slots, priorityWeight: task.priorityWeight ?? 1 };
      const answer = await wait.run(() => this.pools.acquire(pool, request));
      return answer.ok ? { ok: true, key } : answer;
    } catch (err) {
      if (this.parking && wf.isCancellation(err)) return { parked: true };
      throw err;
    } finally {
      this.waits.delete(wait);
      const left = (this.poolWaiters.get(task.id) ?? 1) - 1;
      if (left > 0) this.poolWaiters.set(task.id, left);
      else {
        this.poolWaiters.delete(task.id);
        delete record.waitingFor;
      }
    }
  }

  private startAttempt(id: string, index: number | undefined): number {
    if (index === undefined) return this.run.start(id, now());
    const key = `${id}[${index}]`;
    const attempt = (this.instanceAttempts.get(key) ?? 0) + 1;
    this.instanceAttempts.set(key, attempt);
    const record = this.run.record(id);
    record.attempts += 1;
    const states = record.mapped;
    if (states) states[index] = 'running';
    return attempt;
  }

  private setRetrying(id: string, index: number | undefined): void {
    const record = this.run.record(id);
    if (index === undefined) this.run.setState(id, 'up_for_retry');
    else if (record.mapped) record.mapped[index] = 'up_for_retry';
    this.onChange();
  }

  private scopeFor(task?: TaskSpec, index?: number) {
    const record = task ? this.run.record(task.id) : undefined;
    return {
      output: (id: string) => this.run.output(id),
      context: { ...this.context },
      ...(index === undefined ? {} : { item: { list: record?.mapList, index } }),
    };
  }
}

/** Patch id: lost attempts are closed in Postgres and retried once more (runs started before replay without). */
const CLOSE_LOST_ATTEMPTS = 'sluice-close-lost-attempts';
/** Patch id: parking or draining sends releases again for grants that crossed them (runs started before replay without). */
const SETTLE_CROSSED_GRANTS = 'sluice-settle-crossed-grants';
/** Patch id: a task whose input is too large for Temporal fails at once (runs started before replay without). */
const INPUT_SIZE_GUARD = 'sluice-input-size-guard';

/**
 * The most JSON a task's input may hold. An attempt's input goes into the command that schedules
 * it: over Temporal's 2 MB payload limit the server refuses the whole workflow task, which then
 * fails and retries forever while the run hangs (a task fed 300 upstream outputs of 8 KB each did
 * that); several large inputs scheduled in one workflow task can also pass the 4 MB gRPC message
 * limit. Each output up to 8 KB stays inline, so only a wide fan-in or big templated values get here.
 */
export const MAX_TASK_INPUT_BYTES = 1024 * 1024;

/** Why `input` is too large to schedule, or undefined when it fits. */
function inputTooLarge(input: unknown): string | undefined {
  const json = JSON.stringify(input) ?? '';
  // A UTF-16 unit is at most 3 bytes of UTF-8: skip the encoding when the input cannot be too large.
  if (json.length * 3 <= MAX_TASK_INPUT_BYTES) return undefined;
  const bytes = new TextEncoder().encode(json).length;
  if (bytes <= MAX_TASK_INPUT_BYTES) return undefined;
  return `the task's input is ${(bytes / 1048576).toFixed(1)} MB of JSON, over the ${MAX_TASK_INPUT_BYTES / 1048576} MB a task's input may carry through Temporal; pass S3 keys, not data: have one upstream task combine what this task needs and return a key (outputs over 8 KB are offloaded to S3 for you)`;
}
/** Attempts lost with their worker that are retried beyond the task's own retries. */
const LOST_WORKER_RETRIES = 3;
const LOST_WORKER_RETRY_DELAY_MS = 1000;

/** Marks a soft-failed sensor: it is skipped, not failed. */
const SOFT_FAILED = Symbol('soft-failed');

function backoff(policy: RetrySpec, retryNumber: number): number {
  return Math.min(policy.initialIntervalMs * policy.backoffCoefficient ** (retryNumber - 1), policy.maxIntervalMs);
}

/** The kind of timeout an attempt failed with, if it timed out (HEARTBEAT: its worker went silent). */
function timeoutType(err: unknown): string | undefined {
  if (!(err instanceof wf.ActivityFailure && err.cause instanceof wf.TimeoutFailure)) return undefined;
  return String(err.cause.timeoutType ?? 'UNKNOWN');
}

function isNonRetryable(err: unknown): boolean {
  return err instanceof wf.ActivityFailure && err.cause instanceof wf.ApplicationFailure && err.cause.nonRetryable === true;
}

/** The message an on-call engineer sees: the task's own error, not the SDK's wrapper. */
export function describe(err: unknown): string {
  const cause = err instanceof wf.ActivityFailure ? err.cause : err;
  if (cause instanceof wf.TimeoutFailure) return `timed out (${cause.timeoutType ?? 'unknown'} timeout)`;
  // A typed failure keeps its type (`MissingInput: ...`); a plain thrown Error is just its message.
  if (cause instanceof wf.ApplicationFailure) return cause.type && cause.type !== 'Error' ? `${cause.type}: ${cause.message}` : cause.message;
  if (cause instanceof Error) return cause.message;
  return String(cause);
}

function now(): string {
  return new Date().toISOString();
}
