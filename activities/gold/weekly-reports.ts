/**
 * Tasks of `weekly_reports`: the ISO week of the run's data interval into `gold.weekly_sales`, then
 * CSV reports of those rows under `gold/reports/week=YYYY-Www/`. Both replace the week, and the
 * CSVs hold no run id or time, so a rerun writes the same bytes.
 */
import { defineTask } from 'sluice/sdk';
import { lakeDataset, putLakeObject, recordLineage, replacePartition, replacePrefix, warehouseTable } from '../lib';
import { csvDocument, type CsvValue } from './csv';
import { isoWeekOf, type IsoWeek } from './periods';
import { insertWeeklySalesQuery, weeklySalesRows, weekQuality, type WeeklySalesRow } from './weekly-sql';

export interface WeeklySalesResult {
  week: IsoWeek;
  rows: number;
}

export const buildWeeklySales = defineTask(
  'buildWeeklySales',
  async (_input: Record<string, never>, ctx): Promise<WeeklySalesResult> => {
    const week = isoWeekOf(ctx.dataIntervalStart);
    const { warehouse } = ctx.resources;
    const quality = await weekQuality(warehouse, week);
    const { rows } = await replacePartition(warehouse, {
      table: 'gold.weekly_sales',
      where: { week_start: week.start },
      load: async (trx) => ({ rows: (await insertWeeklySalesQuery(trx, week, quality, ctx.runId)).rowCount ?? 0 }),
    });
    ctx.log.info({ week: week.name, rows, qualityScore: quality.score }, 'weekly sales replaced');
    await recordLineage(ctx, {
      inputs: [
        warehouseTable('warehouse.fact_sales'),
        warehouseTable('warehouse.dim_product'),
        ...(quality.trend === null ? [] : [warehouseTable('ops.quality_scores')]),
      ],
      outputs: [warehouseTable('gold.weekly_sales', { rows })],
    });
    return { week, rows };
  },
  { doc: 'Revenue by region and category, top 10 products, week over week change and the quality trend of the ISO week into gold.weekly_sales.' },
);

const MEMBER_HEADER = ['revenue', 'orders', 'units', 'revenue_prev_week', 'wow_change'];
const memberValues = (r: WeeklySalesRow): CsvValue[] => [r.revenue, r.orders, r.units, r.revenue_prev_week, r.wow_change];

/** The report files of a week, by file name, from its stored rows. */
export function weeklyReportFiles(week: IsoWeek, rows: readonly WeeklySalesRow[]): Record<string, string> {
  const of = (dimension: WeeklySalesRow['dimension']) => rows.filter((r) => r.dimension === dimension);
  const total = of('total')[0];
  return {
    'summary.csv': csvDocument(
      ['iso_week', 'week_start', 'week_end', ...MEMBER_HEADER, 'avg_order_value', 'quality_score'],
      total ? [[week.name, week.start, week.last, ...memberValues(total), total.avg_order_value, total.quality_score]] : [],
    ),
    'revenue_by_region.csv': csvDocument(['rank', 'region', ...MEMBER_HEADER], of('region').map((r) => [r.rank, r.member, ...memberValues(r)])),
    'revenue_by_category.csv': csvDocument(['rank', 'category', ...MEMBER_HEADER], of('category').map((r) => [r.rank, r.member, ...memberValues(r)])),
    'top_products.csv': csvDocument(['rank', 'sku', 'product', ...MEMBER_HEADER], of('product').map((r) => [r.rank, r.member, r.member_name, ...memberValues(r)])),
    'quality_trend.csv': csvDocument(['day', 'score'], (total?.quality_trend ?? []).map((d) => [d.day, d.score])),
  };
}

export interface WeeklyReportsResult {
  prefix: string;
  keys: string[];
}

export const writeWeeklyReports = defineTask(
  'writeWeeklyReports',
  async (input: WeeklySalesResult, ctx): Promise<WeeklyReportsResult> => {
    const prefix = `gold/reports/week=${input.week.name}/`;
    const files = weeklyReportFiles(input.week, await weeklySalesRows(ctx.resources.warehouse, input.week));
    const keys = Object.keys(files).map((name) => `${prefix}${name}`);
    await Promise.all(Object.entries(files).map(([name, body]) => putLakeObject(ctx, `${prefix}${name}`, body, 'text/csv; charset=utf-8')));
    await replacePrefix(ctx, prefix, keys);
    ctx.log.info({ prefix, files: keys.length }, 'weekly reports written');
    await recordLineage(ctx, { inputs: [warehouseTable('gold.weekly_sales')], outputs: [lakeDataset(prefix)] });
    return { prefix, keys };
  },
  { doc: 'CSV reports (summary, revenue by region and category, top products, quality trend) under gold/reports/week=YYYY-Www/.' },
);
