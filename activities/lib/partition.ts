/**
 * Idempotent loads: a task replaces its partition (a day, an hour, an as-of date) instead of
 * appending to it. The delete and the load run in one transaction, so readers see either the old
 * rows or the new ones, and a crash half-way leaves the old ones.
 */
import type { Knex } from 'knex';

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
