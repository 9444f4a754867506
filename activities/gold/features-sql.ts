/**
 * Point-in-time customer features. The per-customer activity (sign-up and session counts) is
 * aggregated in the source and copied into a temporary table in the warehouse; everything else is
 * one set-based query there. Every input is filtered on its event time (ordered_at, occurred_at,
 * created_at) before the cutoff, never on load time, so rows loaded later change nothing.
 */
import type { Knex } from 'knex';
import type { ParquetColumn } from '../lib';
import type { AsOf } from './periods';

/** The temporary table the source's per-customer activity is copied into (dropped at commit). */
export const ACTIVITY_TABLE = 'customer_activity';
export const ACTIVITY_COLUMNS = ['customer_id', 'signed_up_at', 'sessions_7d', 'sessions_30d'] as const;

export function createActivityTable(trx: Knex.Transaction): Knex.Raw {
  return trx.raw(
    `create temporary table ${ACTIVITY_TABLE} (
       customer_id bigint primary key, signed_up_at timestamptz not null, sessions_7d int not null, sessions_30d int not null
     ) on commit drop`,
  );
}

/**
 * Source side: every customer who had signed up before the cutoff (the snapshot's population),
 * with the distinct sessions they had in the 7 and 30 days before it. Anonymous events
 * (no customer_id) belong to no one.
 */
export function customerActivityQuery(source: Knex, { cutoff }: AsOf): Knex.Raw {
  return source.raw(
    `select c.customer_id,
            c.created_at as signed_up_at,
            count(distinct e.session_id) filter (where e.occurred_at >= cast(:cutoff as timestamptz) - interval '7 days') as sessions_7d,
            count(distinct e.session_id) as sessions_30d
       from customers c
       left join events e
         on e.customer_id = c.customer_id
        and e.occurred_at >= cast(:cutoff as timestamptz) - interval '30 days'
        and e.occurred_at < :cutoff
      where c.created_at < :cutoff
      group by c.customer_id, c.created_at`,
    { cutoff },
  );
}

export const FEATURE_COLUMNS = [
  'customer_id', 'as_of', 'signed_up_at', 'tenure_days', 'last_order_at', 'recency_days', 'frequency', 'monetary',
  'avg_basket', 'top_category', 'top_category_share', 'category_shares', 'sessions_7d', 'sessions_30d', 'clv_12m', 'run_id',
] as const;

/**
 * Warehouse side: `insert into features.customer_features` for one as-of date, from the shop's
 * sales in the warehouse (partner lines have no customer) and the copied activity. Days are
 * counted in UTC dates: an order on the as-of day has recency 0. Categories are the products'
 * current ones: dim_product is type 1 and keeps no history, the one input that is not point in time.
 *
 * Lifetime value over the next 12 months (clv_12m) is the simple frequency model
 *   avg_basket x orders per 30 days x 12,  orders per 30 days = frequency x 30 / max(tenure_days, 30),
 * i.e. monetary x 360 / max(tenure_days, 30). The 30-day floor keeps a customer with one order in
 * their first week from being extrapolated to four orders a month. No orders: 0.
 */
export function insertFeaturesQuery(trx: Knex.Transaction, asOf: AsOf, runId: string): Knex.Raw<{ rowCount: number | null }> {
  return trx.raw<{ rowCount: number | null }>(
    `insert into features.customer_features (${FEATURE_COLUMNS.join(', ')})
     with sales as (
       select c.customer_id, f.order_id, f.ordered_at, f.revenue, p.category
         from warehouse.fact_sales f
         join warehouse.dim_customer c on c.customer_key = f.customer_key
         join warehouse.dim_product p on p.product_key = f.product_key
        where f.source = 'shop' and f.ordered_at < :cutoff
     ),
     orders as (
       select customer_id, count(distinct order_id) as frequency, sum(revenue) as monetary, max(ordered_at) as last_order_at
         from sales
        group by customer_id
     ),
     by_category as (
       select customer_id, category, sum(revenue) as revenue, sum(sum(revenue)) over (partition by customer_id) as total
         from sales
        group by customer_id, category
     ),
     affinity as (
       select customer_id,
              jsonb_object_agg(category, round(revenue / nullif(total, 0), 4)) as shares,
              (array_agg(category order by revenue desc, category))[1] as top_category,
              round(max(revenue) / nullif(max(total), 0), 4) as top_share
         from by_category
        group by customer_id
     ),
     customers as (
       select a.*, cast(:asOf as date) - (a.signed_up_at at time zone 'UTC')::date as tenure_days
         from ${ACTIVITY_TABLE} a
     )
     select c.customer_id,
            cast(:asOf as date),
            c.signed_up_at,
            c.tenure_days,
            o.last_order_at,
            cast(:asOf as date) - (o.last_order_at at time zone 'UTC')::date,
            coalesce(o.frequency, 0),
            coalesce(o.monetary, 0),
            round(o.monetary / o.frequency, 2),
            a.top_category,
            a.top_share,
            coalesce(a.shares, '{}'::jsonb),
            c.sessions_7d,
            c.sessions_30d,
            coalesce(round(o.monetary * 360 / greatest(c.tenure_days, 30), 2), 0),
            cast(:runId as text)
       from customers c
       left join orders o on o.customer_id = c.customer_id
       left join affinity a on a.customer_id = c.customer_id`,
    { cutoff: asOf.cutoff, asOf: asOf.asOf, runId },
  );
}

/**
 * The lake snapshot's rows: the stored features of one as-of date in a fixed order, without
 * run_id and updated_at, so a rerun writes byte-identical Parquet.
 */
export function snapshotQuery(warehouse: Knex, asOf: AsOf): Knex.Raw {
  return warehouse.raw(
    `select ${SNAPSHOT_COLUMNS.map((c) => c.name).join(', ')}
       from features.customer_features
      where as_of = :asOf
      order by customer_id`,
    { asOf: asOf.asOf },
  );
}

/** Money goes as float64 here: features feed models, which read floats anyway. */
export const SNAPSHOT_COLUMNS = [
  { name: 'customer_id', type: 'int64' },
  { name: 'as_of', type: 'date' },
  { name: 'signed_up_at', type: 'timestamp' },
  { name: 'tenure_days', type: 'int32' },
  { name: 'last_order_at', type: 'timestamp' },
  { name: 'recency_days', type: 'int32' },
  { name: 'frequency', type: 'int32' },
  { name: 'monetary', type: 'float64' },
  { name: 'avg_basket', type: 'float64' },
  { name: 'top_category', type: 'string' },
  { name: 'top_category_share', type: 'float64' },
  { name: 'category_shares', type: 'string' },
  { name: 'sessions_7d', type: 'int32' },
  { name: 'sessions_30d', type: 'int32' },
  { name: 'clv_12m', type: 'float64' },
] as const satisfies readonly (ParquetColumn & { name: (typeof FEATURE_COLUMNS)[number] })[];
