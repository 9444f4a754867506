/**
 * The warehouse's star schema (`warehouse`) and the pipelines' record of what they did (`ops`):
 * quarantined records, per-stage counts, lineage. Keys and indexes follow the queries the DAGs
 * and the console run: every table is replaced or read one logical day at a time.
 */
import type { Knex } from 'knex';

// A copy of activities/lib/exception-categories.ts as it stood: a migration never imports code
// that may change after it ran.
const EXCEPTION_CATEGORIES = [
  'MISSING_REQUIRED_FIELD',
  'DATA_FORMAT_ERROR',
  'BUSINESS_RULE_VIOLATION',
  'DUPLICATE_RECORD',
  'REFERENTIAL_INTEGRITY',
  'FILE_UNREADABLE',
] as const;

export async function up(knex: Knex): Promise<void> {
  const warehouse = () => knex.schema.withSchema('warehouse');
  const ops = () => knex.schema.withSchema('ops');
  // Work tables of a pipeline run (one per source and day; see activities/etl/staging.ts).
  await knex.raw('create schema if not exists staging');

  await warehouse().createTable('dim_date', (t) => {
    t.integer('date_key').primary().comment('yyyymmdd');
    t.date('full_date').notNullable().unique();
    t.smallint('year').notNullable();
    t.smallint('quarter').notNullable();
    t.smallint('month').notNullable();
    t.text('month_name').notNullable();
    t.smallint('day_of_month').notNullable();
    t.smallint('day_of_week').notNullable().comment('ISO: 1 = Monday');
    t.text('day_name').notNullable();
    t.smallint('iso_year').notNullable();
    t.smallint('iso_week').notNullable();
    t.boolean('is_weekend').notNullable();
  });

  // Type 2: a change to a customer closes the current version (valid_to) and opens a new one.
  await warehouse().createTable('dim_customer', (t) => {
    t.bigIncrements('customer_key');
    t.bigInteger('customer_id').notNullable();
    t.text('name').notNullable();
    t.text('email').notNullable();
    t.text('city').notNullable();
    t.text('region').notNullable();
    t.text('segment').notNullable();
    t.timestamp('valid_from', { useTz: true }).notNullable();
    t.timestamp('valid_to', { useTz: true });
    t.boolean('is_current').notNullable();
    t.text('run_id').notNullable();
    t.unique(['customer_id', 'valid_from']);
  });
  await knex.raw('create unique index dim_customer_current on warehouse.dim_customer (customer_id) where is_current');

  // Type 1: a product's current name, category and price; the price paid is on the fact.
  await warehouse().createTable('dim_product', (t) => {
    t.bigIncrements('product_key');
    t.bigInteger('product_id').notNullable().unique();
    t.text('sku').notNullable().unique();
    t.text('name').notNullable();
    t.text('category').notNullable();
    t.decimal('price', 12, 2).notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable();
    t.text('run_id').notNullable();
  });

  // Grain: one order item from the shop or one line of a partner file. Partitioned by the day
  // that loaded it: daily_etl builds a day's partition as a new table and swaps it in, which is
  // both atomic and more than twice as fast as deleting and inserting rows under live indexes.
  // No enforced foreign keys: the validation layer guarantees them before the load (and
  // quality_checks verifies them), so a day's million rows load without a lookup per row.
  await knex.raw(`
    create table warehouse.fact_sales (
      source text not null,
      line_id text not null,
      order_id text not null,
      date_key integer not null,
      ordered_at timestamptz,
      customer_key bigint,
      product_key bigint not null,
      region text not null,
      channel text not null,
      quantity integer not null,
      unit_price numeric(12,2) not null,
      revenue numeric(14,2) not null,
      load_date date not null,
      run_id text not null,
      primary key (load_date, source, line_id)
    ) partition by list (load_date)`);
  await knex.raw('create index fact_sales_date_key on warehouse.fact_sales (date_key)');
  // Rows inserted by hand (a correction, a test) for a day without its own partition land here;
  // daily_etl's swap of that day removes them.
  await knex.raw('create table warehouse.fact_sales_default partition of warehouse.fact_sales default');
  await knex.raw(`comment on column warehouse.fact_sales.source is 'shop or partner_sales'`);
  await knex.raw(`comment on column warehouse.fact_sales.line_id is 'order_item_id for the shop; <file key>:<line> for partner files'`);
  await knex.raw(`comment on column warehouse.fact_sales.load_date is 'the daily_etl partition (data interval day) that loaded the row'`);

  // Never deleted by hand: a rerun of a day replaces that day's entries for the same source.
  await ops().createTable('exceptions', (t) => {
    t.bigIncrements('exception_id');
    t.text('dag_id').notNullable();
    t.text('run_id').notNullable();
    t.text('task_id').notNullable();
    t.date('logical_date').notNullable().comment('the partition day the record belongs to');
    t.text('source').notNullable();
    t.text('source_file');
    t.integer('source_line');
    t.text('source_id');
    t.text('category').notNullable();
    t.text('stage').notNullable();
    t.text('reason').notNullable();
    t.jsonb('raw').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['logical_date', 'source']);
    t.index(['category', 'logical_date']);
    t.index(['dag_id', 'logical_date']);
  });
  // DDL takes no bind parameters; the categories are this file's own constants.
  await knex.raw(`alter table ops.exceptions add constraint exceptions_category check (category in (${EXCEPTION_CATEGORIES.map((c) => `'${c}'`).join(', ')}))`);

  await ops().createTable('audit_log', (t) => {
    t.text('dag_id').notNullable();
    t.date('logical_date').notNullable();
    t.text('source').notNullable();
    t.text('stage').notNullable();
    t.text('run_id').notNullable();
    t.bigInteger('records_in').notNullable();
    t.bigInteger('records_loaded').notNullable();
    t.bigInteger('records_quarantined').notNullable();
    t.jsonb('details').notNullable().defaultTo('{}');
    t.timestamp('recorded_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['dag_id', 'logical_date', 'source', 'stage']);
  });

  // OpenLineage RunEvents, one per task attempt that finished; `event` is the standard document.
  await ops().createTable('lineage', (t) => {
    t.bigIncrements('event_id');
    t.timestamp('event_time', { useTz: true }).notNullable();
    t.text('event_type').notNullable();
    t.text('dag_id').notNullable();
    t.text('run_id').notNullable();
    t.text('task_id').notNullable();
    t.date('logical_date');
    t.text('job_name').notNullable();
    t.jsonb('inputs').notNullable();
    t.jsonb('outputs').notNullable();
    t.jsonb('event').notNullable();
    t.index(['dag_id', 'run_id']);
    t.index(['event_time']);
  });
  await knex.raw('create index lineage_datasets on ops.lineage using gin (inputs jsonb_path_ops, outputs jsonb_path_ops)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop schema if exists staging cascade');
  for (const table of ['lineage', 'audit_log', 'exceptions']) await knex.schema.withSchema('ops').dropTableIfExists(table);
  for (const table of ['fact_sales', 'dim_product', 'dim_customer', 'dim_date']) await knex.schema.withSchema('warehouse').dropTableIfExists(table);
}
