import type { Knex } from 'knex';

/**
 * The orchestrator's own history: one row per run and one per task attempt, written by the
 * worker, so run history outlives Temporal's retention and the console can page through
 * thousands of runs with plain SQL.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sluice').createTable('dag_runs', (t) => {
    t.text('temporal_run_id').primary();
    t.text('run_id').notNullable().comment('workflow id: <dagId>-<logical date>');
    t.text('dag_id').notNullable();
    t.text('version').notNullable();
    t.timestamp('logical_date', { useTz: true }).notNullable();
    t.timestamp('data_interval_start', { useTz: true }).notNullable();
    t.timestamp('data_interval_end', { useTz: true }).notNullable();
    t.text('state').notNullable();
    t.text('trigger').notNullable();
    t.jsonb('params').notNullable().defaultTo('{}');
    t.specificType('failed_tasks', 'text[]').notNullable().defaultTo('{}');
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('ended_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['dag_id', 'logical_date']);
    t.index(['run_id']);
    t.index(['state']);
  });
  await knex.schema.withSchema('sluice').createTable('task_attempts', (t) => {
    t.bigIncrements('id');
    t.text('temporal_run_id').notNullable();
    t.text('run_id').notNullable();
    t.text('dag_id').notNullable();
    t.text('task_id').notNullable();
    t.integer('map_index').notNullable().defaultTo(-1).comment('-1 for unmapped tasks');
    t.integer('attempt').notNullable();
    t.text('state').notNullable();
    t.timestamp('started_at', { useTz: true }).notNullable();
    t.timestamp('ended_at', { useTz: true });
    t.text('error');
    t.text('worker').notNullable();
    t.jsonb('logs').notNullable().defaultTo('[]');
    t.unique(['temporal_run_id', 'task_id', 'map_index', 'attempt']);
    t.index(['run_id', 'task_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sluice').dropTable('task_attempts');
  await knex.schema.withSchema('sluice').dropTable('dag_runs');
}
