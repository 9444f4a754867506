/**
 * Assets (issue 11): `sluice.asset_events` says which assets (tables, lake prefixes named in
 * tasks' `outlets`) were updated for which logical date, by which run and task; a DAG scheduled
 * on assets runs for a logical date once all of its assets have an event for it.
 * `sluice.asset_triggers` holds one row per consumer DAG and logical date it was started for:
 * its primary key is what makes that start happen once, however often the upstream date reruns.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sluice').createTable('asset_events', (t) => {
    t.text('asset').notNullable().comment("as tasks name it: 'warehouse.fact_sales', 'lake:silver/orders'");
    t.timestamp('logical_date', { useTz: true }).notNullable();
    t.text('dag_id').notNullable();
    t.text('run_id').notNullable().comment('the producing run (<dagId>-<logical date>)');
    t.text('task_id').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now()).comment('the latest success of that run that updated it');
    t.primary(['asset', 'logical_date', 'run_id', 'task_id']);
    t.index(['dag_id', 'logical_date']);
  });
  await knex.schema.withSchema('sluice').createTable('asset_triggers', (t) => {
    t.text('dag_id').notNullable().comment('the DAG scheduled on assets');
    t.timestamp('logical_date', { useTz: true }).notNullable();
    t.text('run_id').notNullable().comment('the run started');
    t.text('upstream_run_id').notNullable().comment('the run whose success completed the assets');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['dag_id', 'logical_date']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sluice').dropTable('asset_triggers');
  await knex.schema.withSchema('sluice').dropTable('asset_events');
}
