import type { MapSummary, SkipReason, TaskCheckpoint, TaskStatus } from '../messages';
import type { DagSpec, TaskSpec, TaskState } from '../spec';
import { decide, isTerminal } from './trigger-rules';


/** A task as the run tracks it: its status plus the mapped list, instance outputs and sensor deadline. */
type TaskRecord = TaskCheckpoint;

/**
 * The pure state machine of one DAG run: task states, trigger-rule promotion, branch choices
 * and operator resets. It performs no I/O and knows nothing of Temporal, so it is unit-tested
 * directly; the `dagRun` workflow drives it.
 */
export class RunState {
  private readonly records = new Map<string, TaskRecord>();
  private readonly specs = new Map<string, TaskSpec>();
  private readonly downstream = new Map<string, string[]>();
  private readonly branchChoices = new Map<string, ReadonlySet<string>>();
  /** Task ids in an order where every upstream comes before its downstreams. */
  readonly order: readonly string[];

  constructor(spec: DagSpec) {
    for (const task of spec.tasks) {
      this.specs.set(task.id, task);
      this.records.set(task.id, { id: task.id, state: 'pending', attempts: 0 });
      this.downstream.set(task.id, []);
    }
    for (const task of spec.tasks) {
      for (const up of task.upstream) this.downstream.get(up)?.push(task.id);
    }
    this.order = topologicalOrder(spec.tasks);
  }

  spec(id: string): TaskSpec {
    const spec = this.specs.get(id);
    if (!spec) throw new Error(`unknown task '${id}'`);
    return spec;
  }

  record(id: string): TaskRecord {
    const record = this.records.get(id);
    if (!record) throw new Error(`unknown task '${id}'`);
    return record;
  }

  output(id: string): unknown {
    return this.record(id).output;
  }

  hasTask(id: string): boolean {
    return this.records.has(id);
  }

  /** The ids of the tasks that run `activity` (the name the Temporal UI shows for them). */
  tasksRunning(activity: string): string[] {
    return this.order.filter((id) => this.spec(id).activity === activity);
  }

  /**
   * Applies trigger rules and branch choices to every pending task, in topological order so a
   * skip or upstream failure propagates through the whole graph in one pass. Returns the ids
   * that became `queued` and should start now.
   */
  promote(): string[] {
    const ready: string[] = [];
    for (const id of this.order) {
      const record = this.record(id);
      if (record.state !== 'pending') continue;
      const spec = this.spec(id);
      if (this.unchosenByBranch(spec)) {
        this.finish(id, 'skipped', { skipReason: 'branch' });
        continue;
      }
      const decision = decide(spec.triggerRule, spec.upstream.map((up) => this.record(up).state));
      if (decision === 'run') {
        record.state = 'queued';
        ready.push(id);
      } else if (decision === 'skipped') {
        this.finish(id, 'skipped', { skipReason: 'trigger_rule' });
      } else if (decision === 'upstream_failed') {
        this.finish(id, 'upstream_failed');
      }
    }
    return ready;
  }

  /**
   * A task in branch arms (`.after(choice.when('eu'))`) is skipped unless the branch chose one of
   * its labels. Specs compiled before arms existed name tasks by id instead: the chosen ids.
   */
  private unchosenByBranch(spec: TaskSpec): boolean {
    return spec.upstream.some((up) => {
      const chosen = this.branchChoices.get(up);
      if (chosen === undefined || this.record(up).state !== 'success') return false;
      const labels = spec.when?.[up];
      return labels ? !labels.some((l) => chosen.has(l)) : !chosen.has(spec.id);
    });
  }

  /** Records a branch task's choice; labels no arm uses (or, for old specs, ids that are not direct downstreams) are a task error. */
  chooseBranch(id: string, chosen: readonly string[]): void {
    const downstream = this.downstream.get(id) ?? [];
    const arms = [...new Set(downstream.flatMap((d) => this.spec(d).when?.[id] ?? []))];
    const known = arms.length > 0 ? arms : downstream;
    const unknown = chosen.filter((c) => !known.includes(c));
    if (unknown.length > 0) {
      const list = unknown.map((u) => `'${u}'`).join(', ');
      throw new Error(
        arms.length > 0
          ? `branch '${id}' chose ${list}, but no task follows ${unknown.length > 1 ? 'those labels' : 'that label'} (arms: ${arms.join(', ')})`
          : `branch '${id}' chose ${list}, which ${unknown.length > 1 ? 'are' : 'is'} not directly downstream of it (downstream: ${downstream.join(', ') || 'none'})`,
      );
    }
    this.branchChoices.set(id, new Set(chosen));
  }

  start(id: string, now: string): number {
    const record = this.record(id);
    record.state = 'running';
    record.attempts += 1;
    record.startedAt ??= now;
    record.endedAt = undefined;
    return record.attempts;
  }

  finish(
    id: string,
    state: Extract<TaskState, 'success' | 'failed' | 'skipped' | 'upstream_failed'>,
    details: { now?: string; output?: unknown; error?: string; skipReason?: SkipReason } = {},
  ): void {
    const record = this.record(id);
    record.state = state;
    record.endedAt = details.now;
    record.output = details.output;
    record.error = details.error;
    record.skipReason = details.skipReason;
  }

  setState(id: string, state: TaskState): void {
    this.record(id).state = state;
  }

  failedTasks(): string[] {
    return this.order.filter((id) => this.record(id).state === 'failed');
  }

  /** True when no task can make progress without an operator. */
  isSettled(): boolean {
    return this.order.every((id) => isTerminal(this.record(id).state));
  }

  /**
   * Puts failed tasks back to pending, with every downstream task that did not run because of
   * them. Succeeded tasks and tasks skipped by a branch keep their state: they never re-run.
   */
  resetFailed(ids: readonly string[]): string[] {
    const reset: string[] = [];
    for (const id of ids) {
      const record = this.record(id);
      if (record.state !== 'failed') continue;
      record.state = 'pending';
      record.error = undefined;
      record.sensorDeadline = undefined; // a retried sensor gets its whole timeout again
      if (record.mapped) record.mapped = record.mapped.map((s) => (s === 'success' ? s : 'pending'));
      reset.push(id, ...this.reopenDownstream(id));
    }
    return reset;
  }

  /**
   * An operator's "clear": the tasks run again (with `downstream`, so does everything after
   * them). Their outputs, branch choices and mapped instances are dropped; tasks waiting on them
   * (upstream_failed, skipped by a trigger rule) are reopened. Returns every task it reset.
   */
  clear(ids: readonly string[], downstream: boolean): string[] {
    const targets = downstream ? this.withDescendants(ids) : [...new Set(ids)];
    for (const id of targets) {
      const record = this.record(id);
      Object.assign(record, { state: 'pending', output: undefined, error: undefined, endedAt: undefined, skipReason: undefined });
      Object.assign(record, { mapped: undefined, mapList: undefined, mapOutputs: undefined, mapParts: undefined, sensorDeadline: undefined });
      this.branchChoices.delete(id);
    }
    const reopened = targets.flatMap((id) => this.reopenDownstream(id));
    return [...new Set([...targets, ...reopened])];
  }

  /** `ids` and every task downstream of them, in topological order. */
  withDescendants(ids: readonly string[]): string[] {
    const found = new Set(ids);
    for (const id of this.order) if (this.spec(id).upstream.some((up) => found.has(up))) found.add(id);
    return this.order.filter((id) => found.has(id));
  }

  /**
   * A cleared closed run starting again: the tasks that were not cleared keep what the earlier
   * execution recorded (state, output, attempts, branch choices), so only the cleared ones run.
   */
  restore(tasks: readonly TaskCheckpoint[], cleared: readonly string[]): void {
    for (const saved of tasks) {
      if (!this.records.has(saved.id)) continue;
      const record = this.record(saved.id);
      record.attempts = saved.attempts; // attempt numbers go on, cleared tasks' too
      if (cleared.includes(saved.id)) continue;
      // A task under way (a checkpoint's sensor between pokes, a half-done mapped task) starts
      // again as pending, with what it had: its deadline, and its finished instances.
      Object.assign(record, { startedAt: saved.startedAt, sensorDeadline: saved.sensorDeadline });
      if (saved.mapped && (saved.mapOutputs || saved.mapParts || saved.state === 'success')) {
        Object.assign(record, { mapped: [...saved.mapped], mapList: saved.mapList, mapOutputs: saved.mapOutputs && [...saved.mapOutputs] });
        if (saved.mapParts) record.mapParts = saved.mapParts.map((p) => p && [...p]);
      }
      if (!isTerminal(saved.state)) continue;
      Object.assign(record, { state: saved.state, output: saved.output, error: saved.error, endedAt: saved.endedAt, skipReason: saved.skipReason });
      if (saved.state === 'success' && this.spec(saved.id).kind === 'branch') {
        const choice = saved.output;
        this.branchChoices.set(saved.id, new Set(typeof choice === 'string' ? [choice] : Array.isArray(choice) ? (choice as string[]) : []));
      }
    }
  }

  /** An operator's "mark success": the task counts as succeeded with no output. */
  markSuccess(id: string, now: string): string[] {
    const record = this.record(id);
    this.finish(id, 'success', { now, output: null });
    if (record.mapped) record.mapped = record.mapped.map(() => 'success');
    return [id, ...this.reopenDownstream(id)];
  }

  private reopenDownstream(id: string): string[] {
    const reopened: string[] = [];
    const queue = [...(this.downstream.get(id) ?? [])];
    const seen = new Set<string>();
    while (queue.length > 0) {
      const next = queue.shift() as string;
      if (seen.has(next)) continue;
      seen.add(next);
      const record = this.record(next);
      const blocked =
        record.state === 'upstream_failed' || (record.state === 'skipped' && record.skipReason === 'trigger_rule');
      if (!blocked) continue;
      Object.assign(record, { state: 'pending', endedAt: undefined, error: undefined, skipReason: undefined });
      reopened.push(next);
      queue.push(...(this.downstream.get(next) ?? []));
    }
    return reopened;
  }

  /** Mapped instances: the list is kept (possibly as an S3 reference) to resolve `$item`. */
  initMap(id: string, list: unknown, length: number): void {
    const record = this.record(id);
    record.mapList = list;
    record.mapped = Array.from({ length }, () => 'pending' as TaskState);
    record.mapOutputs = Array.from({ length }, () => null);
  }

  /** Every task's full state, for a continue-as-new. */
  checkpoint(): TaskCheckpoint[] {
    return this.order.map((id) => ({ ...this.record(id) }));
  }

  /**
   * Every task's status, for the `state` query. Mapped tasks carry a summary (counts by state,
   * the first failed indexes); the per-instance list only up to MAPPED_DETAIL_LIMIT instances,
   * so a 50,000-element map does not make every query half a megabyte.
   */
  snapshot(): TaskStatus[] {
    return this.order.map((id) => {
      const { mapList: _list, mapOutputs: _outputs, mapParts: _parts, sensorDeadline: _deadline, mapped, ...status } = this.record(id);
      if (!mapped) return status;
      return { ...status, ...(mapped.length <= MAPPED_DETAIL_LIMIT ? { mapped: [...mapped] } : {}), mapSummary: summarise(mapped) };
    });
  }
}

/** Mapped tasks with more instances than this show counts only in the `state` query. */
export const MAPPED_DETAIL_LIMIT = 1000;
/** Failed indexes a summary lists. */
const FAILED_INDEXES_SHOWN = 100;

function summarise(states: readonly TaskState[]): MapSummary {
  const counts: MapSummary['counts'] = {};
  const failedIndexes: number[] = [];
  states.forEach((state, index) => {
    counts[state] = (counts[state] ?? 0) + 1;
    if (state === 'failed' && failedIndexes.length < FAILED_INDEXES_SHOWN) failedIndexes.push(index);
  });
  return { total: states.length, counts, failedIndexes };
}

function topologicalOrder(tasks: readonly TaskSpec[]): string[] {
  const indegree = new Map(tasks.map((t) => [t.id, t.upstream.length]));
  const downstream = new Map<string, string[]>(tasks.map((t) => [t.id, []]));
  for (const t of tasks) for (const up of t.upstream) downstream.get(up)?.push(t.id);
  const queue = tasks.filter((t) => t.upstream.length === 0).map((t) => t.id);
  const order: string[] = [];
  while (queue.length > 0) {
    const id = queue.shift() as string;
    order.push(id);
    for (const d of downstream.get(id) ?? []) {
      const left = (indegree.get(d) ?? 0) - 1;
      indegree.set(d, left);
      if (left === 0) queue.push(d);
    }
  }
  if (order.length !== tasks.length) throw new Error('DAG spec has a cycle; run `sluice dags validate`');
  return order;
}
