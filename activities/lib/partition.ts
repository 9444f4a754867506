/**
 * Idempotent loads: a task replaces its partition (a day, an hour, an as-of date) instead of
 * appending to it, in one transaction, so readers see either the old rows or the new ones, and a
 * crash half-way leaves the old ones. `replacePartition` deletes and inserts rows of any table;
 * `swapPartition` swaps a whole partition of a partitioned table, the faster way for big days.
 */
import type { Knex } from 'knex';
import { quoteIdent, quoteQualified } from './copy';

export interface PartitionLoad<T> {
  /** `schema.table` to replace rows in. */
  table: string;
  /** The partition: column values every replaced row has, e.g. `{ date_key: 20261121 }`. */
  where: Record<string, unknown>;
  /** Loads the new rows inside the transaction (INSERT ... SELECT, or `copyIn(trx, ...)`). */
  load: (trx: Knex.Transaction) => Promise<T>;
}

/** Deletes the partition's rows and loads the new ones in one transaction; returns what `load` returned. */
export async function replacePartition<T>(db: Knex, partition: PartitionLoad<T>): Promise<T & { deleted: number }> {
  return db.transaction(async (trx) => {
    const deleted = await trx(partition.table).where(partition.where).delete();
    const loaded = await partition.load(trx);
    return { ...loaded, deleted };
  });
}

export interface PartitionSwap<T> {
  /** `schema.table`: a table partitioned `by list (<column>)`. */
  table: string;
  /** The partition column and this partition's value of it, e.g. `load_date`, `'2026-11-21'`. */
  column: string;
  value: string;
  /** Name suffix of the partition table: `<table>_<suffix>`. */
  suffix: string;
  /** Fills the new partition (named by its argument) inside the transaction. */
  load: (trx: Knex.Transaction, newTable: string) => Promise<T>;
}

/**
 * Replaces one partition of a list-partitioned table by building the new one as a plain table
 * (no indexes while it fills), then, in the same transaction, dropping the old partition and
 * attaching the new one, which builds its indexes in one sort. Readers see the old partition
 * until the commit and the new one after; a failure leaves the old one in place.
 */
export async function swapPartition<T>(db: Knex, swap: PartitionSwap<T>): Promise<T> {
  const [schema, parent] = swap.table.split('.') as [string, string];
  const name = `${parent}_${swap.suffix}`;
  const target = quoteQualified(`${schema}.${name}`);
  const building = quoteQualified(`${schema}.${name}__new`);
  return db.transaction(async (trx) => {
    await trx.raw(`drop table if exists ${building}`);
    await trx.raw(`create table ${building} (like ${quoteQualified(swap.table)} including defaults)`);
    const result = await swap.load(trx, `${schema}.${name}__new`);
    await trx.raw(`drop table if exists ${target}`);
    // Rows of this value in a default partition (inserted by hand) would block the attach.
    await trx(swap.table).where(swap.column, swap.value).delete();
    await trx.raw(`alter table ${building} rename to ${quoteIdent(name)}`);
    // DDL takes no bind parameters: knex inlines the value as an escaped literal.
    const bound = trx.raw('?', [swap.value]).toQuery();
    await trx.raw(`alter table ${quoteQualified(swap.table)} attach partition ${target} for values in (${bound})`);
    return result;
  });
}
