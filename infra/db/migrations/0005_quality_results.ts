/**
 * What `quality_checks` found: one row per check per run (`ops.quality_results`) and one score per
 * table per run (`ops.quality_scores`, read by weekly_reports for its quality trend). A rerun of a
 * day replaces that day's rows for the table, so the key is the day, not the run. The console
 * asks "how did this table do on this day, and over time": hence the (table_name, logical_date)
 * indexes.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  const ops = () => knex.schema.withSchema('ops');

  await ops().createTable('quality_results', (t) => {
    t.text('dag_id').notNullable();
    t.text('run_id').notNullable();
    t.date('logical_date').notNullable().comment('the day checked (the data interval of the run), as in ops.exceptions and ops.audit_log');
    t.text('table_name').notNullable().comment('schema.table');
    t.text('check_name').notNullable();
    t.text('check_kind').notNullable();
    t.text('severity').notNullable();
    t.boolean('passed').notNullable();
    t.bigInteger('failed_rows').comment('null for checks of the table as a whole (freshness, ratios)');
    t.bigInteger('total_rows').notNullable().comment('rows the check looked at');
    t.jsonb('observed').notNullable().defaultTo('{}');
    t.jsonb('samples').notNullable().defaultTo('[]').comment('up to 5 failing rows');
    t.timestamp('checked_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['dag_id', 'logical_date', 'table_name', 'check_name']);
    t.index(['table_name', 'logical_date']);
  });
  await knex.raw(`alter table ops.quality_results add constraint quality_results_severity check (severity in ('blocking', 'warning'))`);

  await ops().createTable('quality_scores', (t) => {
    t.text('dag_id').notNullable();
    t.text('run_id').notNullable();
    t.date('logical_date').notNullable().comment('the day checked, as in ops.quality_results');
    t.text('table_name').notNullable();
    t.decimal('score', 5, 2).notNullable().comment('0..100: share of checks passed, blocking checks weighing 2, warnings 1');
    t.integer('checks').notNullable();
    t.integer('failed_blocking').notNullable();
    t.integer('failed_warning').notNullable();
    t.timestamp('checked_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['dag_id', 'logical_date', 'table_name']);
    t.index(['table_name', 'logical_date']);
  });
  await knex.raw('alter table ops.quality_scores add constraint quality_scores_range check (score between 0 and 100)');
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['quality_scores', 'quality_results']) await knex.schema.withSchema('ops').dropTableIfExists(table);
}
