/**
 * Slot pools as `sluice pools` and the console see them: the sizes in `sluice.pools` and, for a
 * pool whose gate (workflows/pools.ts) is running, its live use. Changing a size updates the
 * table (the gate reads it when it starts) and tells a running gate at once.
 */
import { isGrpcDeadlineError, type Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { Knex } from 'knex';
import { z } from 'zod';
import { poolGateId, poolQuery, resizePoolSignal, type PoolUsage } from '../../workflows/pools';
import { DEFAULT_POOL, MAX_POOL_SLOTS, POOL_NAME } from '../../workflows/spec';
import { fromPostgres } from './server-failures';

export const poolName = z.string().regex(POOL_NAME, "must be 1 to 100 letters, digits, '_', '.' or '-'");
export const poolSlots = z.number().int('must be a whole number').min(0).max(MAX_POOL_SLOTS);
export const poolDescription = z
  .string()
  .max(500)
  .regex(/^[^\0]*$/, 'must not contain NUL characters');

export interface PoolInfo {
  name: string;
  slots: number;
  description: string | null;
  /** When the size was last set; null for `default_pool` never set. */
  updatedAt: string | null;
  /** Slots held now, and attempts waiting, from the running gate; 0 when no gate runs. */
  inUse: number;
  waiting: number;
  /** false when a gate runs but did not answer (no worker polls its task queue): the counts are unknown. */
  live: boolean;
}

/** How long a gate's worker gets to answer the usage query before the list shows the pool without it. */
const QUERY_DEADLINE_MS = 3_000;

/** The pool's slots; null when no such pool exists. */
export async function poolSizeOf(db: Knex, name: string): Promise<number | null> {
  const row = await fromPostgres(db('sluice.pools').where({ name }).first('slots'));
  if (row) return row.slots as number;
  return name === DEFAULT_POOL.name ? DEFAULT_POOL.slots : null;
}

/** Every pool (with `default_pool`, set or not), by name, with its live use. */
export async function listPools(db: Knex, temporal: Client): Promise<PoolInfo[]> {
  const rows: Array<{ name: string; slots: number; description: string | null; updated_at: Date }> = await fromPostgres(
    db('sluice.pools').select('name', 'slots', 'description', 'updated_at').orderBy('name'),
  );
  const pools: Array<Omit<PoolInfo, 'inUse' | 'waiting' | 'live'>> = rows.map((r) => ({ name: r.name, slots: r.slots, description: r.description, updatedAt: r.updated_at.toISOString() }));
  if (!pools.some((p) => p.name === DEFAULT_POOL.name)) {
    pools.push({ name: DEFAULT_POOL.name, slots: DEFAULT_POOL.slots, description: 'built in; resize it with `sluice pools set default_pool <slots>`', updatedAt: null });
  }
  pools.sort((a, b) => a.name.localeCompare(b.name));
  return Promise.all(pools.map(async (p) => ({ ...p, ...(await usage(temporal, p.name)) })));
}

/**
 * Creates the pools declared in config (`SLUICE_POOLS`) that do not exist yet. A pool that exists
 * keeps its size: one set at runtime wins over the declaration until it is set again.
 */
export async function declarePools(db: Knex, pools: ReadonlyArray<{ name: string; slots: number }>): Promise<void> {
  if (pools.length === 0) return;
  const rows = pools.map((p) => ({ name: p.name, slots: p.slots, description: 'declared in SLUICE_POOLS' }));
  await fromPostgres(db('sluice.pools').insert(rows).onConflict('name').ignore());
}

/** Creates or resizes a pool; a running gate takes the new size at once. Without `description`, the old one stays. */
export async function setPool(db: Knex, temporal: Client, input: { name: string; slots: number; description?: string }): Promise<PoolInfo> {
  const fields = { slots: input.slots, updated_at: db.fn.now(), ...(input.description !== undefined ? { description: input.description } : {}) };
  await fromPostgres(db('sluice.pools').insert({ name: input.name, ...fields }).onConflict('name').merge(fields));
  try {
    await temporal.workflow.getHandle(poolGateId(input.name)).signal(resizePoolSignal, { slots: input.slots });
  } catch (err) {
    // No gate running: the next one reads the table.
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const pool = (await listPools(db, temporal)).find((p) => p.name === input.name);
  if (!pool) throw new Error(`pool '${input.name}' is not in sluice.pools after it was set`);
  return pool;
}

async function usage(temporal: Client, name: string): Promise<Pick<PoolInfo, 'inUse' | 'waiting' | 'live'>> {
  const handle = temporal.workflow.getHandle(poolGateId(name));
  try {
    if ((await handle.describe()).status.name !== 'RUNNING') return { inUse: 0, waiting: 0, live: true };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { inUse: 0, waiting: 0, live: true };
    throw err;
  }
  try {
    const gate: PoolUsage = await temporal.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(poolQuery));
    return { inUse: gate.inUse, waiting: gate.waiting.length, live: true };
  } catch (err) {
    if (isGrpcDeadlineError(err)) return { inUse: 0, waiting: 0, live: false };
    throw err;
  }
}
