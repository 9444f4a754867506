/**
 * Schema migrations of the warehouse database: knex migrations in `./migrations`, written in
 * TypeScript and loaded through tsx (the caller must run under tsx, as every Sluice entry point
 * does). Knex's bookkeeping tables live in the `sluice` schema.
 */
import path from 'node:path';
import pg from 'pg';
import { createKnex, pgConnectionString } from './knex';

const MIGRATIONS_SCHEMA = 'sluice';

/**
 * Applies pending migrations and returns their names. Concurrent callers (two workers starting,
 * two test runs on one database) queue on a Postgres advisory lock: knex's own lock table makes
 * the loser fail with "Migration table is already locked" instead of waiting, and two first runs
 * would both try to create that table.
 */
export async function runMigrations(databaseUrl: string): Promise<string[]> {
  // The lock lives in this session; if the process dies, Postgres releases it with the connection.
  const lock = new pg.Client({ connectionString: pgConnectionString(databaseUrl) });
  await lock.connect();
  const db = createKnex(databaseUrl, { maxConnections: 2 });
  try {
    await lock.query(`select pg_advisory_lock(hashtext('sluice.migrations'))`);
    await db.raw(`create schema if not exists ${MIGRATIONS_SCHEMA}`);
    const [, applied] = (await db.migrate.latest({
      directory: path.join(__dirname, 'migrations'),
      loadExtensions: ['.ts'],
      schemaName: MIGRATIONS_SCHEMA,
      tableName: 'knex_migrations',
    })) as [number, string[]];
    return applied;
  } finally {
    await db.destroy();
    await lock.end();
  }
}
