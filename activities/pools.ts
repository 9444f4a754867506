/**
 * What a pool's gate (workflows/pools.ts) and `dagRun` need from outside a workflow: starting the
 * gate when an attempt asks and none is running (signal-with-start is a client call), and the
 * pool's size from `sluice.pools`.
 */
import { Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import { poolSizeOf } from '../server/client/pools';
import { poolGateId, poolSlotsSignal, type PoolGateState, type PoolSlotsChange } from '../workflows/pools';

export function createPoolActivities(deps: { db: Knex; gateCheckIntervalMs?: number }) {
  return {
    /** Tells the pool's gate of asks (and releases), starting it on the asking run's task queue if it is not running. */
    async requestPoolSlots(args: { pool: string; taskQueue: string; change: PoolSlotsChange }): Promise<void> {
      const initial: PoolGateState = { pool: args.pool, holders: [], waiting: [], asked: {}, seq: 0, ...(deps.gateCheckIntervalMs ? { checkEveryMs: deps.gateCheckIntervalMs } : {}) };
      await Context.current().client.workflow.signalWithStart('poolGate', {
        workflowId: poolGateId(args.pool),
        taskQueue: args.taskQueue,
        args: [initial],
        signal: poolSlotsSignal,
        signalArgs: [args.change],
        staticSummary: `slot pool ${args.pool}`,
      });
    },

    /** The pool's slots; null when it does not exist. */
    async poolSize(pool: string): Promise<number | null> {
      return poolSizeOf(deps.db, pool);
    },
  };
}

export type PoolActivities = ReturnType<typeof createPoolActivities>;
