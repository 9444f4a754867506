/**
 * Tasks of `hourly_aggregation`: each gold table's hours are recomputed in the source database and
 * replaced in the warehouse. The window reaches {@link LATE_HOURS} hours before the data interval,
 * so events that arrive late land with the next run, and a rerun rewrites the same hours with the
 * same values.
 */
import type { Knex } from 'knex';
import { defineTask, type TaskContext } from 'sluice/sdk';
import { copyIn, copyOut, recordLineage, sourceTable, warehouseTable, type DatasetRef } from '../lib';
import { HOURLY_SALES_COLUMNS, HOURLY_TRAFFIC_COLUMNS, hourlySalesQuery, hourlyTrafficQuery } from './hourly-sql';
import { hourlyWindow, LATE_HOURS, type InstantRange } from './periods';

export interface HourlyResult {
  /** The hours replaced: [from, to). */
  hours: InstantRange;
  /** Rows now in gold for those hours. */
  rows: number;
}

interface HourlyTable {
  table: string;
  columns: readonly string[];
  query: (source: Knex, range: InstantRange, runId: string) => Knex.Raw;
  inputs: DatasetRef[];
}

/**
 * Deletes the window's hours and copies the source's aggregates in, in one transaction: readers
 * see the old hours or the new ones, and a group that no longer exists (all its orders turned out
 * to be duplicates, say) disappears instead of lingering.
 */
async function replaceHours(ctx: TaskContext, spec: HourlyTable): Promise<HourlyResult> {
  const hours = hourlyWindow(ctx.dataIntervalStart, ctx.dataIntervalEnd);
  const { warehouse, source } = ctx.resources;
  const rows = await warehouse.transaction(async (trx) => {
    const deleted = await trx(spec.table).where('hour', '>=', hours.from).andWhere('hour', '<', hours.to).delete();
    const loaded = await copyIn(trx, spec.table, spec.columns, await copyOut(source, spec.query(source, hours, ctx.runId)));
    ctx.log.info({ table: spec.table, ...hours, deleted, loaded }, 'hours replaced');
    return loaded;
  });
  await recordLineage(ctx, { inputs: spec.inputs, outputs: [warehouseTable(spec.table, { rows })] });
  return { hours, rows };
}

export const aggregateHourlySales = defineTask(
  'aggregateHourlySales',
  (_input: Record<string, never>, ctx): Promise<HourlyResult> =>
    replaceHours(ctx, {
      table: 'gold.hourly_sales',
      columns: HOURLY_SALES_COLUMNS,
      query: hourlySalesQuery,
      inputs: ['orders', 'order_items', 'products', 'customers'].map((table) => sourceTable(table)),
    }),
  { doc: `Revenue, orders, units and average order value per hour, region and category; recomputes the last ${LATE_HOURS} hours before the interval too.` },
);

export const aggregateHourlyTraffic = defineTask(
  'aggregateHourlyTraffic',
  (_input: Record<string, never>, ctx): Promise<HourlyResult> =>
    replaceHours(ctx, {
      table: 'gold.hourly_traffic',
      columns: HOURLY_TRAFFIC_COLUMNS,
      query: hourlyTrafficQuery,
      inputs: [sourceTable('events')],
    }),
  { doc: `Sessions, page views, cart adds, checkouts, purchases and conversion rate per hour; recomputes the last ${LATE_HOURS} hours before the interval too.` },
);
