/**
 * daily_etl's work tables: one table per source and day in schema `staging`
 * (`staging.orders_20261121`, then `staging.orders_checked_20261121` after validation). They stay
 * for a week so a cleared task can re-run from them, then the audit task drops them.
 * Not `unlogged`, though that made the COPY into them about twice as fast: Postgres empties
 * unlogged tables when it recovers from a crash, and the tasks that filled them have succeeded
 * and are not run again, so the tasks reading them found them empty (the outage chaos test,
 * test/chaos/outages.test.ts, killed Postgres mid-load: silver writes failed every retry).
 */
import type { Knex } from 'knex';
import { quoteIdent, quoteQualified } from '../lib';

export interface StagingColumn {
  name: string;
  sqlType: string;
}

/** `staging.<source>_<yyyymmdd>`, or with a step: `staging.<source>_<step>_<yyyymmdd>`. */
export function stagingTable(source: string, suffix: string, step?: string): string {
  return `staging.${source}${step ? `_${step}` : ''}_${suffix}`;
}

/** Drops and recreates a staging table inside the caller's transaction, so a retry starts clean. */
export async function restage(trx: Knex.Transaction, table: string, columns: readonly StagingColumn[]): Promise<void> {
  await trx.raw(`drop table if exists ${quoteQualified(table)}`);
  await trx.raw(`create table ${quoteQualified(table)} (${columns.map((c) => `${quoteIdent(c.name)} ${c.sqlType}`).join(', ')})`);
}

const KEEP_DAYS = 7;

/** Drops staging tables of days more than a week before `day`. Returns how many. */
export async function dropOldStaging(db: Knex, day: string): Promise<number> {
  const cutoff = new Date(Date.parse(`${day}T00:00:00Z`) - KEEP_DAYS * 86_400_000).toISOString().slice(0, 10).replaceAll('-', '');
  const { rows } = await db.raw<{ rows: { name: string }[] }>(
    `select tablename as name from pg_tables where schemaname = 'staging' and substring(tablename from '_(\\d{8})$') < ?`,
    [cutoff],
  );
  for (const { name } of rows) await db.raw(`drop table if exists ${quoteQualified(`staging.${name}`)}`);
  return rows.length;
}
