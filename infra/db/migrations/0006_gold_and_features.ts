/**
 * What the pipelines serve: hourly and weekly aggregates (`gold`) and point-in-time customer
 * features (`features`). Every table is keyed by its partition (hour, week, as-of date) first, so a
 * run replaces its partitions with one range delete and the console reads one period by its key.
 */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  const gold = () => knex.schema.withSchema('gold');

  // Grain: one (hour, customer region, product category). An order with items in two categories
  // counts once in each, so summing `orders` over categories over-counts orders; revenue and units add up.
  await gold().createTable('hourly_sales', (t) => {
    t.timestamp('hour', { useTz: true }).notNullable().comment('start of the UTC hour of ordered_at');
    t.text('region').notNullable().comment("the customer's region; 'Unknown' when the customer is not in the source");
    t.text('category').notNullable();
    t.decimal('revenue', 14, 2).notNullable();
    t.integer('orders').notNullable();
    t.integer('units').notNullable();
    t.decimal('avg_order_value', 12, 2).notNullable().comment('revenue / orders of the group');
    t.text('run_id').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['hour', 'region', 'category']);
  });

  // Grain: one UTC hour. A session counts in every hour it has an event in.
  await gold().createTable('hourly_traffic', (t) => {
    t.timestamp('hour', { useTz: true }).primary();
    t.integer('sessions').notNullable().comment('distinct sessions with an event in the hour');
    t.integer('page_views').notNullable();
    t.integer('cart_adds').notNullable();
    t.integer('checkouts').notNullable();
    t.integer('purchases').notNullable().comment('purchase events');
    t.decimal('conversion_rate', 7, 4).notNullable().comment('sessions with a purchase in the hour / sessions');
    t.text('run_id').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });

  // One row per (ISO week, dimension, member): 'total' (member 'all'), each 'region', each
  // 'category', and the week's top 10 'product's (member = SKU). One long table instead of four
  // wide ones, so the console and the CSV reports read a week with one key.
  await gold().createTable('weekly_sales', (t) => {
    t.date('week_start').notNullable().comment('Monday of the ISO week');
    t.text('iso_week').notNullable().comment("e.g. '2026-W47'");
    t.text('dimension').notNullable();
    t.text('member').notNullable().comment("'all' for total, the region, the category, or the product SKU");
    t.text('member_name').comment('product name for products; null otherwise');
    t.decimal('revenue', 14, 2).notNullable();
    t.integer('orders').notNullable().comment('distinct orders (an order spanning two members counts in both)');
    t.integer('units').notNullable();
    t.integer('rank').notNullable().comment('1 = highest revenue within the dimension; 1 for total');
    t.decimal('revenue_prev_week', 14, 2).comment('same member, previous ISO week; null when it had no sales');
    t.decimal('wow_change', 12, 4).comment('(revenue - revenue_prev_week) / revenue_prev_week; null without a previous week');
    t.decimal('quality_score', 7, 4).comment('total row only: mean of the daily average quality scores; null without scores');
    t.jsonb('quality_trend').comment('total row only: [{ day, score }] for the 7 days; null without scores');
    t.text('run_id').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['week_start', 'dimension', 'member']);
  });
  await knex.raw(
    `alter table gold.weekly_sales add constraint weekly_sales_dimension check (dimension in ('total', 'region', 'category', 'product'))`,
  );
  await knex.raw('create index weekly_sales_iso_week on gold.weekly_sales (iso_week)');

  // Point in time: a row for as_of D uses only data with timestamps before D + 1 day (UTC).
  await knex.schema.withSchema('features').createTable('customer_features', (t) => {
    t.bigInteger('customer_id').notNullable();
    t.date('as_of').notNullable();
    t.timestamp('signed_up_at', { useTz: true }).notNullable();
    t.integer('tenure_days').notNullable().comment('as_of - sign-up date');
    t.timestamp('last_order_at', { useTz: true });
    t.integer('recency_days').comment('as_of - date of the last order; null without orders');
    t.integer('frequency').notNullable().comment('distinct orders');
    t.decimal('monetary', 14, 2).notNullable().comment('revenue');
    t.decimal('avg_basket', 12, 2).comment('monetary / frequency; null without orders');
    t.text('top_category').comment('category with the most revenue (ties: alphabetical)');
    t.decimal('top_category_share', 5, 4).comment("top category's share of revenue");
    t.jsonb('category_shares').notNullable().comment('{ category: share of revenue }');
    t.integer('sessions_7d').notNullable().comment('distinct sessions with an event in the 7 days up to as_of');
    t.integer('sessions_30d').notNullable();
    t.decimal('clv_12m', 14, 2).notNullable().comment('avg_basket x orders per 30 days x 12; see activities/gold/features-sql.ts');
    t.text('run_id').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['customer_id', 'as_of']);
    t.index(['as_of']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.withSchema('features').dropTableIfExists('customer_features');
  for (const table of ['weekly_sales', 'hourly_traffic', 'hourly_sales']) await knex.schema.withSchema('gold').dropTableIfExists(table);
}
