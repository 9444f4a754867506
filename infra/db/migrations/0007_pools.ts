import type { Knex } from 'knex';

/**
 * `pools`: named slot pools shared by every DAG (a task's `pool` option), sized at run time with
 * `sluice pools set`. A pool's gate (workflows/pools.ts) reads its size when it starts; who holds
 * slots lives in the gate, not here. `default_pool` exists without a row (128 slots).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sluice').createTable('pools', (t) => {
    t.text('name').primary();
    t.integer('slots').notNullable();
    t.text('description');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('alter table sluice.pools add constraint pools_slots_range check (slots between 0 and 10000)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sluice').dropTable('pools');
}
