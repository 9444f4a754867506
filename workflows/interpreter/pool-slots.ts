/**
 * A run's side of slot pools (the gate is workflows/pools.ts): an attempt of a task with a `pool`
 * asks the pool's gate for its slots and waits on a workflow condition (no worker slot, no
 * activity held), and gives them back as soon as the attempt ends.
 *
 * Asks and releases wait in an outbox that the executor sends at the end of each of its steps
 * (`flush()`, one signal per pool), so a task's release and its downstream's ask reach the gate
 * together, in one of its workflow tasks: a pool adds one round trip through the gate to a task's
 * start, not two. Only when no gate runs (the first ask, or after 10 idle minutes) does the
 * signal fail; an activity's signal-with-start then starts one with the ask.
 */
import * as wf from '@temporalio/workflow';
import type { PoolActivities } from '../../activities/pools';
import { poolSlotGrantedSignal } from '../messages';
import { poolGateId, poolSlotsSignal, type PoolRequest, type PoolSlotsChange } from '../pools';

/** Retries as the run's own bookkeeping does: a Temporal hiccup delays the ask, it never fails the task. */
const { requestPoolSlots } = wf.proxyActivities<PoolActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5s' },
});

export type PoolAnswer = { ok: true } | { ok: false; error: string };

export class PoolSlots {
  /** Asks waiting for the gate's answer (undefined until it comes), by key. */
  private readonly asks = new Map<string, PoolAnswer | undefined>();
  private readonly held = new Set<string>();
  /** What the next `flush()` sends, by pool. */
  private readonly outbox = new Map<string, Required<PoolSlotsChange>>();
  /** Whether the signal that carried an ask reached a gate, by the ask's key. */
  private readonly sent = new Map<string, Promise<boolean>>();
  private sending = 0;

  /** `pending` wakes the run's loop, whose step ends with `flush()`. */
  constructor(private readonly pending: () => void) {
    wf.setHandler(poolSlotGrantedSignal, ({ pool, key, error }) => {
      if (this.asks.has(key)) this.asks.set(key, error === undefined ? { ok: true } : { ok: false, error });
      // Slots this run no longer waits for (an ask of an earlier execution under the same run id): give them back.
      else if (!this.held.has(key) && error === undefined) this.release(pool, key);
    });
  }

  /**
   * Waits until the gate lets the attempt in (or refuses it for good: no such pool, more slots
   * than it has). Cancelled (the run fails, or parks for a continue-as-new), it leaves the line.
   */
  async acquire(pool: string, request: PoolRequest): Promise<PoolAnswer> {
    this.asks.set(request.key, undefined);
    this.post(pool, (change) => change.request.push(request));
    try {
      await wf.condition(() => this.sent.has(request.key));
      if (!(await this.sent.get(request.key))) {
        // No gate runs (it has not started yet, or ended when idle): start one with the ask.
        await requestPoolSlots({ pool, taskQueue: wf.workflowInfo().taskQueue, change: { request: [request] } });
      }
      await wf.condition(() => this.asks.get(request.key) !== undefined);
      const answer = this.asks.get(request.key) as PoolAnswer;
      if (answer.ok) this.held.add(request.key);
      return answer;
    } catch (err) {
      if (wf.isCancellation(err)) this.withdraw(pool, request.key);
      throw err;
    } finally {
      this.asks.delete(request.key);
      this.sent.delete(request.key);
    }
  }

  /** Runs one attempt on slots `acquire` got, and gives them back the moment it ends, however it ends. */
  async holding<T>(pool: string | undefined, key: string | undefined, attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } finally {
      if (pool !== undefined && key !== undefined) this.release(pool, key);
    }
  }

  /** Sends what the outbox holds: one signal per pool. */
  flush(): void {
    for (const [pool, change] of this.outbox) {
      this.outbox.delete(pool);
      if (change.release.length === 0 && change.request.length === 0) continue;
      this.sending += 1;
      const reached = wf.CancellationScope.nonCancellable(() =>
        wf.getExternalWorkflowHandle(poolGateId(pool)).signal(poolSlotsSignal, {
          ...(change.release.length > 0 ? { release: change.release } : {}),
          ...(change.request.length > 0 ? { request: change.request } : {}),
        }),
      ).then(
        () => true,
        () => false, // the gate is gone: nothing is held there, and asks start a new one
      );
      void reached.finally(() => (this.sending -= 1));
      for (const ask of change.request) this.sent.set(ask.key, reached);
    }
  }

  /** True while the outbox holds something `flush()` has not sent. */
  unsent(): boolean {
    return this.outbox.size > 0;
  }

  /** True once nothing waits in the outbox and every signal has reached its gate (or found it gone). */
  settled(): boolean {
    return this.outbox.size === 0 && this.sending === 0;
  }

  /** Gives slots back; the gate's check of runs covers a run that ends before this reaches it. */
  private release(pool: string, key: string): void {
    this.held.delete(key);
    this.post(pool, (change) => change.release.push(key));
  }

  /** Leaves the line: an ask still in the outbox is dropped; one already sent is released (granted or not). */
  private withdraw(pool: string, key: string): void {
    const change = this.outbox.get(pool);
    const index = change?.request.findIndex((r) => r.key === key) ?? -1;
    if (change && index >= 0) change.request.splice(index, 1);
    else this.release(pool, key);
  }

  private post(pool: string, add: (change: Required<PoolSlotsChange>) => void): void {
    let change = this.outbox.get(pool);
    if (!change) this.outbox.set(pool, (change = { release: [], request: [] }));
    add(change);
    this.pending();
  }
}
