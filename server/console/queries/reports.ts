/**
 * The sales reports, from the gold tables the pipelines build: daily KPIs over a date range from
 * `gold.hourly_sales` (one range scan of its primary key, hour first) and one ISO week from
 * `gold.weekly_sales` (by its key, week_start first). Each report is also a CSV document, made
 * safe for spreadsheets: a text cell that a spreadsheet would run as a formula is defused.
 */
import type { Knex } from 'knex';
import { z } from 'zod';
import { csvField, type CsvValue } from '../../../activities/gold/csv';
import { fromPostgres } from '../../client/server-failures';
import { addDays, checkRange, day, DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS, resolveRange, withoutBlanks, type DayRange } from './data';

export type { CsvValue };

const dailyFields = { from: day.optional(), to: day.optional() };
const weeklyFields = { week: z.string().regex(/^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/, 'must be an ISO week (YYYY-Www, e.g. 2026-W08)').optional() };

export const dailyQuery = z.preprocess(
  withoutBlanks,
  z
    .object(dailyFields)
    .strict()
    .superRefine((q, ctx) => checkRange(q, ctx, MAX_RANGE_DAYS)),
);
export type DailyQuery = z.output<typeof dailyQuery>;

export const weeklyQuery = z.preprocess(withoutBlanks, z.object(weeklyFields).strict());
export type WeeklyQuery = z.output<typeof weeklyQuery>;

/** The reports page and its CSV downloads: the daily range and the week. */
export const reportsQuery = z.preprocess(
  withoutBlanks,
  z
    .object({ ...dailyFields, ...weeklyFields })
    .strict()
    .superRefine((q, ctx) => checkRange(q, ctx, MAX_RANGE_DAYS)),
);
export type ReportsQuery = z.output<typeof reportsQuery>;

// ---------------------------------------------------------------------------------------------
// Daily, from gold.hourly_sales

export interface Kpis {
  revenue: number;
  /**
   * Orders summed over the table's groups: an order with items in two categories counts in
   * both (gold.hourly_sales' grain), so by category it is exact and elsewhere an upper bound.
   */
  orders: number;
  units: number;
  /** revenue / orders; null without orders. */
  avgOrderValue: number | null;
}

export interface DailyReport {
  /** The days covered; null when gold.hourly_sales is empty. */
  range: DayRange | null;
  totals: Kpis;
  /** Revenue trend: one entry per day with sales, oldest first. */
  days: Array<Kpis & { day: string }>;
  byRegion: Array<Kpis & { region: string }>;
  byCategory: Array<Kpis & { category: string }>;
}

const NO_SALES: Kpis = { revenue: 0, orders: 0, units: 0, avgOrderValue: null };

export async function dailyReport(db: Knex, q: DailyQuery): Promise<DailyReport> {
  let range: DayRange | null;
  if (q.from && q.to) {
    range = { from: q.from, to: q.to };
  } else {
    const latest = (await fromPostgres(db('gold.hourly_sales').first(db.raw(`to_char(max(hour) at time zone 'UTC', 'YYYY-MM-DD') as day`)))) as { day: string | null } | undefined;
    range = resolveRange(q, latest?.day ?? null, DEFAULT_RANGE_DAYS);
  }
  if (range === null) return { range, totals: NO_SALES, days: [], byRegion: [], byCategory: [] };
  // One pass over the range: per day, per region, per category, and the total (grouping sets).
  // grouping(day, region, category) has a bit set for each column not grouped by: 3 = by day,
  // 5 = by region, 6 = by category, 7 = the total.
  const { rows } = await fromPostgres(
    db.raw<{ rows: Array<{ g: number; day: string | null; region: string | null; category: string | null; revenue: string; orders: string; units: string; aov: string | null }> }>(
      `select grouping(s.day, s.region, s.category) as g, s.day, s.region, s.category,
              sum(s.revenue) as revenue, sum(s.orders) as orders, sum(s.units) as units,
              round(sum(s.revenue) / nullif(sum(s.orders), 0), 2) as aov
         from (select to_char(hour at time zone 'UTC', 'YYYY-MM-DD') as day, region, category, revenue, orders, units
                 from gold.hourly_sales where hour >= ? and hour < ?) s
        group by grouping sets ((s.day), (s.region), (s.category), ())
        order by g, sum(s.revenue) desc, s.day, s.region, s.category`,
      [`${range.from}T00:00:00Z`, `${addDays(range.to, 1)}T00:00:00Z`],
    ),
  );
  const kpis = (r: (typeof rows)[number]): Kpis => ({ revenue: Number(r.revenue), orders: Number(r.orders), units: Number(r.units), avgOrderValue: r.aov === null ? null : Number(r.aov) });
  const total = rows.find((r) => r.g === 7);
  return {
    range,
    // Without rows in the range the total is one row of nulls.
    totals: total && total.revenue !== null ? kpis(total) : NO_SALES,
    days: rows.filter((r) => r.g === 3).map((r) => ({ day: String(r.day), ...kpis(r) })).sort((a, b) => a.day.localeCompare(b.day)),
    byRegion: rows.filter((r) => r.g === 5).map((r) => ({ region: String(r.region), ...kpis(r) })),
    byCategory: rows.filter((r) => r.g === 6).map((r) => ({ category: String(r.category), ...kpis(r) })),
  };
}

// ---------------------------------------------------------------------------------------------
// Weekly, from gold.weekly_sales

export interface WeeklyMember {
  /** The region, the category, the product SKU; `all` for the total. */
  member: string;
  /** The product's name; null for other dimensions. */
  name: string | null;
  rank: number;
  revenue: number;
  orders: number;
  units: number;
  avgOrderValue: number | null;
  revenuePrevWeek: number | null;
  /** (revenue - previous week's) / previous week's; null without a previous week. */
  wowChange: number | null;
}

export interface WeeklyReport {
  /** The week shown; null when there is no weekly report yet (or none for the week asked for). */
  week: { isoWeek: string; weekStart: string; weekEnd: string } | null;
  /** Weeks with a report, newest first (the last 52), for the week picker. */
  weeks: Array<{ isoWeek: string; weekStart: string }>;
  total: (WeeklyMember & { qualityScore: number | null; qualityTrend: Array<{ day: string; score: number | null }> | null }) | null;
  byRegion: WeeklyMember[];
  byCategory: WeeklyMember[];
  /** The week's top 10 products by revenue. */
  topProducts: WeeklyMember[];
}

type WeeklyRow = {
  week_start: string;
  iso_week: string;
  dimension: 'total' | 'region' | 'category' | 'product';
  member: string;
  member_name: string | null;
  rank: number;
  revenue: string;
  orders: number;
  units: number;
  aov: string | null;
  revenue_prev_week: string | null;
  wow_change: string | null;
  quality_score: string | null;
  quality_trend: Array<{ day: string; score: number | null }> | null;
};

const numOrNull = (value: string | null): number | null => (value === null ? null : Number(value));

/** The chosen ISO week's report, or the latest week's. */
export async function weeklyReport(db: Knex, q: WeeklyQuery): Promise<WeeklyReport> {
  const weeks = (await fromPostgres(
    db('gold.weekly_sales')
      .select('iso_week', db.raw(`to_char(week_start, 'YYYY-MM-DD') as week_start`))
      .where('dimension', 'total')
      .orderBy('gold.weekly_sales.week_start', 'desc')
      .limit(52),
  )) as Array<{ iso_week: string; week_start: string }>;
  const list = weeks.map((w) => ({ isoWeek: w.iso_week, weekStart: w.week_start }));
  const empty: WeeklyReport = { week: null, weeks: list, total: null, byRegion: [], byCategory: [], topProducts: [] };
  const query = db('gold.weekly_sales')
    .select(
      db.raw(`to_char(week_start, 'YYYY-MM-DD') as week_start`),
      'iso_week',
      'dimension',
      'member',
      'member_name',
      'rank',
      'revenue',
      'orders',
      'units',
      db.raw('round(revenue / nullif(orders, 0), 2) as aov'),
      'revenue_prev_week',
      'wow_change',
      'quality_score',
      'quality_trend',
    )
    .orderBy(['dimension', 'rank', 'member'])
    .limit(500);
  if (q.week) query.where('iso_week', q.week);
  else if (list[0]) query.where('week_start', list[0].weekStart);
  else return empty;
  const rows = (await fromPostgres(query)) as WeeklyRow[];
  const first = rows[0];
  if (!first) return empty;
  const member = (r: WeeklyRow): WeeklyMember => ({
    member: r.member,
    name: r.member_name,
    rank: r.rank,
    revenue: Number(r.revenue),
    orders: r.orders,
    units: r.units,
    avgOrderValue: numOrNull(r.aov),
    revenuePrevWeek: numOrNull(r.revenue_prev_week),
    wowChange: numOrNull(r.wow_change),
  });
  const of = (dimension: WeeklyRow['dimension']) => rows.filter((r) => r.dimension === dimension).map(member);
  const total = rows.find((r) => r.dimension === 'total');
  return {
    week: { isoWeek: first.iso_week, weekStart: first.week_start, weekEnd: addDays(first.week_start, 6) },
    weeks: list,
    total: total ? { ...member(total), qualityScore: numOrNull(total.quality_score), qualityTrend: total.quality_trend } : null,
    byRegion: of('region'),
    byCategory: of('category'),
    topProducts: of('product').slice(0, 10),
  };
}

// ---------------------------------------------------------------------------------------------
// CSV

/**
 * A CSV field that a spreadsheet shows as text, never runs: a text cell starting with = + - @,
 * a tab or a carriage return gets a leading apostrophe and quotes (OWASP, "CSV Injection").
 * Numbers are numbers: a negative week-over-week change stays `-0.25`.
 */
export function csvCell(value: CsvValue): string {
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(value)) return `"'${value.replaceAll('"', '""')}"`;
  return csvField(value);
}

/** One CSV record, CRLF included (RFC 4180). */
export function csvLine(values: readonly CsvValue[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

export interface CsvReport {
  /** The download's file name, e.g. `revenue-trend_2026-02-01_2026-02-28.csv`. */
  filename: string;
  header: readonly string[];
  rows: readonly (readonly CsvValue[])[];
}

/** The header, then each row, one CSV record at a time (for a streamed answer). */
export function* csvLines(report: CsvReport): Generator<string> {
  yield csvLine(report.header);
  for (const row of report.rows) yield csvLine(row);
}

const KPI_HEADER = ['revenue', 'orders', 'units', 'avg_order_value'];
const kpiValues = (k: Kpis): CsvValue[] => [k.revenue, k.orders, k.units, k.avgOrderValue];
const MEMBER_HEADER = ['revenue', 'orders', 'units', 'revenue_prev_week', 'wow_change'];
const memberValues = (m: WeeklyMember): CsvValue[] => [m.revenue, m.orders, m.units, m.revenuePrevWeek, m.wowChange];

type DailyCsv = (r: DailyReport) => Omit<CsvReport, 'filename'>;
type WeeklyCsv = (r: WeeklyReport) => Omit<CsvReport, 'filename'>;

const DAILY_CSV: Record<string, DailyCsv> = {
  'revenue-trend': (r) => ({ header: ['day', ...KPI_HEADER], rows: r.days.map((d) => [d.day, ...kpiValues(d)]) }),
  'revenue-by-region': (r) => ({ header: ['region', ...KPI_HEADER], rows: r.byRegion.map((d) => [d.region, ...kpiValues(d)]) }),
  'revenue-by-category': (r) => ({ header: ['category', ...KPI_HEADER], rows: r.byCategory.map((d) => [d.category, ...kpiValues(d)]) }),
};

const WEEKLY_CSV: Record<string, WeeklyCsv> = {
  'weekly-summary': (r) => ({
    header: ['iso_week', 'week_start', 'week_end', ...MEMBER_HEADER, 'avg_order_value', 'quality_score'],
    rows: r.week && r.total ? [[r.week.isoWeek, r.week.weekStart, r.week.weekEnd, ...memberValues(r.total), r.total.avgOrderValue, r.total.qualityScore]] : [],
  }),
  'weekly-by-region': (r) => ({ header: ['rank', 'region', ...MEMBER_HEADER], rows: r.byRegion.map((m) => [m.rank, m.member, ...memberValues(m)]) }),
  'weekly-by-category': (r) => ({ header: ['rank', 'category', ...MEMBER_HEADER], rows: r.byCategory.map((m) => [m.rank, m.member, ...memberValues(m)]) }),
  'top-products': (r) => ({ header: ['rank', 'sku', 'product', ...MEMBER_HEADER], rows: r.topProducts.map((m) => [m.rank, m.member, m.name, ...memberValues(m)]) }),
};

/** The reports that download as CSV, by name (`/reports/<name>.csv`). */
export const CSV_REPORTS = [...Object.keys(DAILY_CSV), ...Object.keys(WEEKLY_CSV)];

/** Report `name` as CSV for the query's range or week; undefined for no such report. */
export async function csvReport(db: Knex, name: string, q: ReportsQuery): Promise<CsvReport | undefined> {
  const daily = Object.hasOwn(DAILY_CSV, name) ? DAILY_CSV[name] : undefined;
  if (daily) {
    const report = await dailyReport(db, { from: q.from, to: q.to });
    const span = report.range ? `_${report.range.from}_${report.range.to}` : '';
    return { filename: `${name}${span}.csv`, ...daily(report) };
  }
  const weekly = Object.hasOwn(WEEKLY_CSV, name) ? WEEKLY_CSV[name] : undefined;
  if (weekly) {
    const report = await weeklyReport(db, { week: q.week });
    return { filename: `${name}${report.week ? `_${report.week.isoWeek}` : ''}.csv`, ...weekly(report) };
  }
  return undefined;
}
