/**
 * `poolGate`: one per named slot pool (workflow id `sluice-pool-<name>`), shared by every DAG, run
 * and task queue, as Airflow's pools. Before each attempt, a task with a `pool` asks for its
 * `poolSlots` and waits in `queued` (a workflow condition: no worker slot is held); the gate lets
 * waiters in by priorityWeight (higher first), then in the order they asked, as slots free up,
 * and the attempt gives its slots back as soon as it ends, before any retry's backoff.
 *
 * Where it runs: a pool spans task queues, so no DAG's queue is "its" queue. The gate starts on
 * the queue of the run that asks first (through an activity's signal-with-start, as `runSlots`),
 * which a worker is polling at that moment; every Sluice worker registers every workflow. It ends
 * after 10 idle minutes, so the next ask starts it again wherever runs are then.
 *
 * Crash safety: a worker killed mid-attempt makes the attempt time out (heartbeat) in its run,
 * which then gives the slots back; a run that ends without a word (terminated) is found by a
 * check of the holders' runs every 30 s.
 *
 * Changes here must keep gates in flight replaying, as for `dagRun`.
 */
import * as wf from '@temporalio/workflow';
import type { PoolActivities } from '../activities/pools';
import type { RunSlotActivities } from '../activities/run-slots';
import { poolSlotGrantedSignal } from './messages';

export interface PoolRequest {
  /** Names the attempt: `poolHolderKey(...)`; asking again with the same key is answered again. */
  key: string;
  /** The workflow to answer (a `dagRun`, or the child running a batch of mapped instances). */
  workflowId: string;
  slots: number;
  priorityWeight: number;
}

export interface PoolHolder extends PoolRequest {
  /** When it asked (waiters) or was let in (holders). */
  since: string;
}

export interface PoolGateState {
  pool: string;
  /** The pool's size; null when the pool does not exist; absent until the gate has read it. */
  size?: number | null;
  holders: PoolHolder[];
  /** In the order they are let in: priorityWeight, then order of asking. */
  waiting: PoolHolder[];
  /** Order of asking, for ties between equal weights (timestamps of one moment tie). */
  asked: Record<string, number>;
  seq: number;
  /** How often holders and waiters are checked for runs that ended without a word (default 30 s). */
  checkEveryMs?: number;
}

/** What `sluice pools list` and the console show of a live gate. */
export interface PoolUsage {
  pool: string;
  size: number | null;
  inUse: number;
  holders: PoolHolder[];
  waiting: PoolHolder[];
}

/**
 * What a run tells the gate, in one signal per workflow task: slots it gives back (or asks it
 * leaves) and new asks. A task's release and its downstream's ask travel together.
 */
export interface PoolSlotsChange {
  release?: string[];
  request?: PoolRequest[];
}

export const poolSlotsSignal = wf.defineSignal<[PoolSlotsChange]>('poolSlots');
/** From `sluice pools set` and the console: the pool's new size (null: it was deleted). */
export const resizePoolSignal = wf.defineSignal<[{ slots: number | null }]>('resizePool');
export const poolQuery = wf.defineQuery<PoolUsage>('pool');

export function poolGateId(pool: string): string {
  return `sluice-pool-${pool}`;
}

/** One attempt's ask: the same attempt asking twice (an activity retried) holds its slots once. */
export function poolHolderKey(runId: string, taskId: string, mapIndex: number | undefined, attempt: number): string {
  return `${runId}/${taskId}${mapIndex === undefined ? '' : `[${mapIndex}]`}#${attempt}`;
}

/** Why a task can never get its slots; the task fails with this. */
export function poolRefusal(pool: string, size: number | null, slots: number): string | undefined {
  if (size === null) return `pool '${pool}' does not exist: create it with \`sluice pools set ${pool} <slots>\``;
  if (size > 0 && slots > size) {
    return `the task asks for ${slots} slots of pool '${pool}', which has ${size}: lower its poolSlots or \`sluice pools set ${pool} ${slots}\``;
  }
  return undefined;
}

/** How often holders are checked for runs that ended without giving their slots back. */
const CHECK_EVERY_MS = 30_000;
/** A gate with nobody holding or waiting ends after this long; the next ask starts it again. */
const IDLE_MS = 10 * 60_000;
const CONTINUE_AS_NEW_AFTER_EVENTS = 5_000;

const { closedRuns, poolSize } = wf.proxyActivities<RunSlotActivities & PoolActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

export async function poolGate(input: PoolGateState): Promise<void> {
  const state: PoolGateState = { ...input, holders: [...input.holders], waiting: [...input.waiting], asked: { ...input.asked } };
  const checkEvery = state.checkEveryMs ?? CHECK_EVERY_MS;
  let lastCheck = Date.now();
  let changed = false;
  const inUse = () => state.holders.reduce((sum, h) => sum + h.slots, 0);
  wf.setHandler(poolQuery, () => ({ pool: state.pool, size: state.size ?? null, inUse: inUse(), holders: state.holders, waiting: inOrder(state.waiting) }));
  wf.setHandler(poolSlotsSignal, ({ release = [], request = [] }) => {
    const released = new Set(release);
    if (released.size > 0) drop((h) => released.has(h.key));
    for (const ask of request) {
      if (state.holders.some((h) => h.key === ask.key)) {
        // Asked again (the ask's activity retried): say yes again.
        void answer(ask.workflowId, ask.key);
      } else if (!state.waiting.some((w) => w.key === ask.key)) {
        state.waiting.push({ ...ask, since: new Date().toISOString() });
        state.asked[ask.key] = state.seq++;
      }
    }
    changed = true;
  });
  wf.setHandler(resizePoolSignal, ({ slots }) => {
    state.size = slots;
    changed = true;
  });

  // Read once per gate (a continued gate carries it); `pools set` signals every change after.
  if (state.size === undefined) state.size = await poolSize(state.pool);

  for (;;) {
    admit();
    if (wf.workflowInfo().historyLength > CONTINUE_AS_NEW_AFTER_EVENTS) {
      await wf.condition(wf.allHandlersFinished);
      return await wf.continueAsNew<typeof poolGate>(state);
    }
    if (state.holders.length === 0 && state.waiting.length === 0) {
      if (!(await wf.condition(() => changed, IDLE_MS))) {
        await wf.condition(wf.allHandlersFinished);
        if (state.holders.length === 0 && state.waiting.length === 0) return;
      }
      changed = false;
      continue;
    }
    // A busy gate (signals every few milliseconds) still checks on time: a terminated holder
    // must not keep its slots for as long as other tasks come and go.
    await wf.condition(() => changed, Math.max(1000, lastCheck + checkEvery - Date.now()));
    changed = false;
    if (Date.now() - lastCheck >= checkEvery) {
      lastCheck = Date.now();
      // Runs that ended without a word (terminated, failed) give their slots back and leave the line.
      const runs = [...new Set([...state.holders, ...state.waiting].map((h) => h.workflowId))];
      const ended = new Set(await closedRuns(runs));
      if (ended.size > 0) drop((h) => ended.has(h.workflowId));
    }
  }

  /**
   * Refuses asks that can never be met, then lets waiters in, in order, while their slots fit. The
   * first in line is never overtaken by a smaller ask behind it, so a large ask is not starved.
   * A pool of 0 slots is closed: everybody waits.
   */
  function admit(): void {
    if (state.size === undefined) return;
    const size = state.size;
    for (const waiter of [...state.waiting]) {
      const refusal = poolRefusal(state.pool, size, waiter.slots);
      // Answering with an error takes the waiter out of the line.
      if (refusal !== undefined) void answer(waiter.workflowId, waiter.key, refusal);
    }
    state.waiting = inOrder(state.waiting);
    let used = inUse();
    while (size !== null && state.waiting.length > 0 && used + (state.waiting[0] as PoolHolder).slots <= size) {
      const next = state.waiting.shift() as PoolHolder;
      delete state.asked[next.key];
      state.holders.push({ ...next, since: new Date().toISOString() });
      used += next.slots;
      void answer(next.workflowId, next.key);
    }
  }

  function inOrder(waiting: PoolHolder[]): PoolHolder[] {
    const order = (w: PoolHolder) => state.asked[w.key] ?? 0;
    return [...waiting].sort((a, b) => b.priorityWeight - a.priorityWeight || order(a) - order(b));
  }

  function drop(which: (h: PoolHolder) => boolean): void {
    for (const w of state.waiting) if (which(w)) delete state.asked[w.key];
    state.holders = state.holders.filter((h) => !which(h));
    state.waiting = state.waiting.filter((w) => !which(w));
  }

  async function answer(workflowId: string, key: string, error?: string): Promise<void> {
    if (error !== undefined) drop((h) => h.key === key);
    try {
      await wf.getExternalWorkflowHandle(workflowId).signal(poolSlotGrantedSignal, { pool: state.pool, key, ...(error !== undefined ? { error } : {}) });
    } catch {
      // The run is gone: its slots are free again.
      drop((h) => h.key === key);
      changed = true;
    }
  }
}
