/**
 * The weekly sales report's SQL, all in the warehouse: the week and the one before it are
 * aggregated in one pass over `warehouse.fact_sales` (both sources, by date_key), and the rows go
 * straight into `gold.weekly_sales` with INSERT ... SELECT.
 */
import type { Knex } from 'knex';
import { dateKey, type IsoWeek } from './periods';

/** Products kept per week, by revenue. */
export const TOP_PRODUCTS = 10;

/** The week's quality: the mean of its daily average scores, and each day's average (null for a day without scores). */
export interface WeekQuality {
  score: string | null;
  trend: Array<{ day: string; score: number | null }> | null;
}

/**
 * Daily averages of `ops.quality_scores.score` (written by quality_checks) over the week's days.
 * The table may not exist yet in a warehouse that never ran quality_checks: then, as when the week
 * has no scores, the quality is null.
 */
export async function weekQuality(db: Knex, week: IsoWeek): Promise<WeekQuality> {
  const none: WeekQuality = { score: null, trend: null };
  const { rows: present } = await db.raw<{ rows: Array<{ present: boolean }> }>(`select to_regclass('ops.quality_scores') is not null as present`);
  if (!present[0]?.present) return none;
  const { rows } = await db.raw<{ rows: WeekQuality[] }>(
    `with daily as (
       select logical_date as day, avg(score) as score
         from ops.quality_scores
        where logical_date >= :start and logical_date < :end
        group by logical_date
     )
     select round(avg(score), 4)::text as score,
            case when count(*) > 0 then (
              select jsonb_agg(jsonb_build_object('day', to_char(days.day, 'YYYY-MM-DD'), 'score', round(daily.score, 4)) order by days.day)
                from (select cast(:start as date) + i as day from generate_series(0, 6) as i) days
                left join daily on daily.day = days.day
            ) end as trend
       from daily`,
    { start: week.start, end: week.end },
  );
  return rows[0] ?? none;
}

/**
 * Inserts the week's rows (the caller deletes the old ones in the same transaction). Per dimension, rank 1 is the highest revenue (ties by member); only the top
 * {@link TOP_PRODUCTS} products are kept. Orders are distinct (source, order_id): an order with
 * items in two categories counts in both. A member that sold last week but not this one has no row.
 * The total row exists even for a week without sales (revenue 0), so week over week stays visible.
 */
export function insertWeeklySalesQuery(trx: Knex.Transaction, week: IsoWeek, quality: WeekQuality, runId: string): Knex.Raw<{ rowCount: number | null }> {
  return trx.raw<{ rowCount: number | null }>(
    `insert into gold.weekly_sales
       (week_start, iso_week, dimension, member, member_name, revenue, orders, units, rank,
        revenue_prev_week, wow_change, quality_score, quality_trend, run_id)
     with sales as (
       select f.date_key >= :thisFrom as this_week, f.source || ':' || f.order_id as order_ref,
              f.region, p.category, p.sku, p.name, f.quantity, f.revenue
         from warehouse.fact_sales f
         join warehouse.dim_product p on p.product_key = f.product_key
        where f.date_key >= :previousFrom and f.date_key < :thisTo
     ),
     grouped as (
       select this_week,
              case when grouping(region) = 0 then 'region'
                   when grouping(category) = 0 then 'category'
                   when grouping(sku) = 0 then 'product'
                   else 'total' end as dimension,
              coalesce(region, category, sku, 'all') as member,
              name as member_name,
              sum(revenue) as revenue,
              count(distinct order_ref) as orders,
              sum(quantity) as units
         from sales
        group by grouping sets ((this_week), (this_week, region), (this_week, category), (this_week, sku, name))
     ),
     current_week as (
       select dimension, member, member_name, revenue, orders, units from grouped where this_week
       union all
       select 'total', 'all', null, 0, 0, 0 where not exists (select 1 from grouped where this_week)
     ),
     ranked as (
       select c.*, row_number() over (partition by c.dimension order by c.revenue desc, c.member) as rank,
              p.revenue as revenue_prev_week
         from current_week c
         left join grouped p on not p.this_week and p.dimension = c.dimension and p.member = c.member
     )
     select cast(:weekStart as date), cast(:isoWeek as text), dimension, member, member_name, revenue, orders, units, rank,
            revenue_prev_week,
            round((revenue - revenue_prev_week) / nullif(revenue_prev_week, 0), 4),
            case when dimension = 'total' then cast(:qualityScore as numeric) end,
            case when dimension = 'total' then cast(:qualityTrend as jsonb) end,
            cast(:runId as text)
       from ranked
      where dimension <> 'product' or rank <= :top`,
    {
      thisFrom: dateKey(week.start),
      thisTo: dateKey(week.end),
      previousFrom: dateKey(week.previousStart),
      weekStart: week.start,
      isoWeek: week.name,
      qualityScore: quality.score,
      qualityTrend: quality.trend === null ? null : JSON.stringify(quality.trend),
      runId,
      top: TOP_PRODUCTS,
    },
  );
}

/** One stored row of `gold.weekly_sales`, as the reports read it (numerics as exact text). */
export interface WeeklySalesRow {
  dimension: 'total' | 'region' | 'category' | 'product';
  member: string;
  member_name: string | null;
  revenue: string;
  orders: number;
  units: number;
  rank: number;
  revenue_prev_week: string | null;
  wow_change: string | null;
  avg_order_value: string | null;
  quality_score: string | null;
  quality_trend: WeekQuality['trend'];
}

/** The week's stored rows, by dimension and rank: at most 1 + regions + categories + 10 rows. */
export async function weeklySalesRows(db: Knex, week: IsoWeek): Promise<WeeklySalesRow[]> {
  const { rows } = await db.raw<{ rows: WeeklySalesRow[] }>(
    `select dimension, member, member_name, revenue, orders, units, rank, revenue_prev_week, wow_change,
            round(revenue / nullif(orders, 0), 2) as avg_order_value, quality_score, quality_trend
       from gold.weekly_sales
      where week_start = :weekStart
      order by dimension, rank`,
    { weekStart: week.start },
  );
  return rows;
}
