import type { Knex } from 'knex';

/**
 * `dag_runs.reason`: why a run failed, from the run itself or, for a run closed outside Sluice
 * (terminated, timed out), from the worker's bookkeeper, which finds such runs through the
 * partial index: only rows still open are in it, so the scan stays small however long the
 * history grows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.withSchema('sluice').alterTable('dag_runs', (t) => {
    t.text('reason');
  });
  await knex.raw(
    `create index dag_runs_open_by_update on sluice.dag_runs (updated_at, temporal_run_id) where state in ('queued', 'running', 'awaiting_operator')`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists sluice.dag_runs_open_by_update');
  await knex.schema.withSchema('sluice').alterTable('dag_runs', (t) => {
    t.dropColumn('reason');
  });
}
