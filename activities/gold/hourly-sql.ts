/**
 * The hourly aggregates, computed set-based in the source database (`shop`): one GROUP BY per gold
 * table over the recomputed hours, whose few hundred result rows are then copied into `gold`.
 * Each query's columns are in the order of its gold table's `*_COLUMNS`.
 */
import type { Knex } from 'knex';
import type { InstantRange } from './periods';

export const HOURLY_SALES_COLUMNS = ['hour', 'region', 'category', 'revenue', 'orders', 'units', 'avg_order_value', 'run_id'] as const;

/**
 * Revenue, orders, units and average order value per (UTC hour of ordered_at, customer region,
 * product category), with daily_etl's validity rules so gold agrees with the warehouse: items
 * with quantity <= 0 or a negative price, of an unknown product (inner join) or of no order (inner
 * join) are ignored, and so is a duplicate order (its order_number was used by a lower order_id).
 * The region is the customer's current one (the source keeps no history): the warehouse's is the
 * version valid at ordered_at, which differs only for a customer who moved since.
 *
 * The items' `created_at` range repeats the orders' one: the source sets it to the order's
 * ordered_at, and it lets Postgres find the hours' items by their index instead of scanning them all.
 */
export function hourlySalesQuery(source: Knex, range: InstantRange, runId: string): Knex.Raw {
  return source.raw(
    `select date_trunc('hour', o.ordered_at, 'UTC') as hour,
            coalesce(c.region, 'Unknown') as region,
            p.category,
            sum(i.quantity * i.unit_price)::numeric(14, 2) as revenue,
            count(distinct o.order_id) as orders,
            sum(i.quantity) as units,
            round(sum(i.quantity * i.unit_price) / count(distinct o.order_id), 2) as avg_order_value,
            cast(:runId as text) as run_id
       from orders o
       join order_items i on i.order_id = o.order_id
       join products p on p.product_id = i.product_id
       left join customers c on c.customer_id = o.customer_id
      where o.ordered_at >= :from and o.ordered_at < :to
        and i.created_at >= :from and i.created_at < :to
        and i.quantity > 0 and i.unit_price >= 0
        and not exists (select 1 from orders earlier where earlier.order_number = o.order_number and earlier.order_id < o.order_id)
      group by 1, 2, 3
      order by 1, 2, 3`,
    { from: range.from, to: range.to, runId },
  );
}

export const HOURLY_TRAFFIC_COLUMNS = ['hour', 'sessions', 'page_views', 'cart_adds', 'checkouts', 'purchases', 'conversion_rate', 'run_id'] as const;

/**
 * Clickstream per UTC hour of occurred_at. A session counts in each hour it has an event in, and
 * converts in the hours it has a purchase in: conversion rate = sessions with a purchase / sessions.
 */
export function hourlyTrafficQuery(source: Knex, range: InstantRange, runId: string): Knex.Raw {
  return source.raw(
    `select date_trunc('hour', occurred_at, 'UTC') as hour,
            count(distinct session_id) as sessions,
            count(*) filter (where event_type = 'page_view') as page_views,
            count(*) filter (where event_type = 'add_to_cart') as cart_adds,
            count(*) filter (where event_type = 'checkout') as checkouts,
            count(*) filter (where event_type = 'purchase') as purchases,
            round(count(distinct session_id) filter (where event_type = 'purchase')::numeric / count(distinct session_id), 4) as conversion_rate,
            cast(:runId as text) as run_id
       from events
      where occurred_at >= :from and occurred_at < :to
      group by 1
      order by 1`,
    { from: range.from, to: range.to, runId },
  );
}
