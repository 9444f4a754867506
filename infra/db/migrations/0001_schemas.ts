/** The warehouse database's schemas (see CONTRACTS.md, "Data layout"); tables come later. */
import type { Knex } from 'knex';

const SCHEMAS = ['warehouse', 'gold', 'features', 'ops'];

export async function up(knex: Knex): Promise<void> {
  // `sluice` is listed although runMigrations creates it first (knex keeps its tables there), so
  // that this file alone names every schema.
  for (const schema of [...SCHEMAS, 'sluice']) await knex.raw('create schema if not exists ??', [schema]);
}

export async function down(knex: Knex): Promise<void> {
  // `sluice` stays: it holds knex_migrations, which knex updates after this runs.
  for (const schema of SCHEMAS) await knex.raw('drop schema if exists ?? cascade', [schema]);
}
