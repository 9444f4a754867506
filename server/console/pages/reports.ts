/**
 * The sales reports page: daily KPIs over a date range (revenue trend, by region, by category)
 * from the hourly gold table, and one ISO week's report (summary with week over week change,
 * regions, categories, top products) from the weekly one. Every chart and table downloads as
 * CSV from `/reports/<name>.csv` with the same filters.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Router } from 'express';
import type { Knex } from 'knex';
import { dateRangeInputs, emptyState, selectInput } from '../html/components';
import { esc, page } from '../html/layout';
import { HttpError } from '../errors';
import { csvLines, csvReport, CSV_REPORTS, dailyReport, reportsQuery, weeklyReport, type DailyReport, type Kpis, type WeeklyMember, type WeeklyReport } from '../queries/reports';
import { barChartSvg, lineChartSvg } from '../svg/charts';

export function reportsPages(db: Knex): Router {
  const router = Router();

  router.get('/reports', async (req, res) => {
    const q = reportsQuery.parse(req.query);
    const [daily, weekly] = await Promise.all([dailyReport(db, { from: q.from, to: q.to }), weeklyReport(db, { week: q.week })]);
    // The downloads name the range and week shown, so they hold what the page shows.
    const dailyQs = daily.range ? `?from=${daily.range.from}&to=${daily.range.to}` : '';
    const weeklyQs = weekly.week ? `?week=${encodeURIComponent(weekly.week.isoWeek)}` : '';
    const weeks = weekly.weeks.map((w) => w.isoWeek);
    const filters = `<form method="get" action="/reports" class="filters">${dateRangeInputs(q.from ?? daily.range?.from, q.to ?? daily.range?.to)}
${selectInput('week', 'ISO week', q.week && !weeks.includes(q.week) ? [q.week, ...weeks] : weeks, weekly.week?.isoWeek, 'latest')}
<button type="submit">Show</button> <a href="/reports">latest</a></form>`;
    const body = `${filters}
<h2>Daily${daily.range ? `, ${esc(daily.range.from)} to ${esc(daily.range.to)}` : ''}</h2>
${daily.range && daily.days.length ? dailySection(daily, dailyQs) : emptyState('No hourly sales in this range: run hourly_aggregation (it fills gold.hourly_sales hour by hour).')}
<h2>Weekly${weekly.week ? `: ${esc(weekly.week.isoWeek)} (${esc(weekly.week.weekStart)} to ${esc(weekly.week.weekEnd)})` : ''}</h2>
${weekly.week ? weeklySection(weekly, weeklyQs) : emptyState(q.week ? `No weekly report for ${q.week}: run weekly_reports for that week.` : 'No weekly report yet: run weekly_reports (every Monday, for the week before).')}`;
    res.type('html').send(page(res, { title: 'Sales reports', section: 'reports', body }));
  });

  // Streamed: the records go out one by one, as the response can take them.
  router.get('/reports/:name.csv', async (req, res) => {
    const q = reportsQuery.parse(req.query);
    const report = await csvReport(db, req.params.name, q);
    if (!report) throw new HttpError(404, `no report ${req.params.name}; the reports are ${CSV_REPORTS.join(', ')}`);
    res.status(200).set({ 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${report.filename.replace(/[^\w.-]/g, '_')}"` });
    await pipeline(Readable.from(csvLines(report)), res).catch((err: unknown) => {
      // The client went away mid-download: nothing left to answer.
      if (!res.destroyed) throw err;
    });
  });

  return router;
}

const money = (value: number | null): string => (value === null ? '' : value.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
const int = (value: number): string => value.toLocaleString('en-US');
const download = (name: string, qs: string): string => `<a class="download" href="/reports/${name}.csv${esc(qs)}" download>Download CSV</a>`;

function figure(id: string, caption: string, svg: string, csv: string): string {
  return `<figure id="${id}">${svg}<figcaption><span>${caption}</span> ${csv}</figcaption></figure>`;
}

function facts(items: Array<[label: string, value: string]>): string {
  return `<div class="facts">${items.map(([label, value]) => `<div><span>${esc(label)}</span><b>${value}</b></div>`).join('')}</div>`;
}

function kpiFacts(k: Kpis): string {
  return facts([
    ['revenue', money(k.revenue)],
    ['orders', int(k.orders)],
    ['units', int(k.units)],
    ['average order value', money(k.avgOrderValue)],
  ]);
}

function dailySection(r: DailyReport, qs: string): string {
  const trend = lineChartSvg({
    series: [{ name: 'revenue', points: r.days.map((d) => ({ x: d.day, y: d.revenue })) }],
    ariaLabel: 'Revenue per day',
    yLabel: 'revenue',
    yMin: 0,
    formatY: (v) => money(v),
  });
  const bars = (rows: Array<Kpis & { label: string }>, label: string) =>
    barChartSvg({ bars: rows.map((row) => ({ label: row.label, value: row.revenue })), ariaLabel: label, formatValue: (v) => money(v) });
  return `${kpiFacts(r.totals)}
<p class="help">Orders count once per product category an order spans (the grain of gold.hourly_sales), so by region and in total they are an upper bound.</p>
<div class="charts">
${figure('revenue-trend', 'Revenue per day (UTC)', trend, download('revenue-trend', qs))}
${figure('revenue-by-region', 'Revenue by customer region', bars(r.byRegion.map((x) => ({ ...x, label: x.region })), 'Revenue by region'), download('revenue-by-region', qs))}
${figure('revenue-by-category', 'Revenue by product category', bars(r.byCategory.map((x) => ({ ...x, label: x.category })), 'Revenue by category'), download('revenue-by-category', qs))}
</div>`;
}

/** `▲ +12.5 %` / `▼ -3.0 %` / `no previous week`: direction as a symbol and a sign, not colour. */
function wow(change: number | null): string {
  if (change === null) return '<span class="muted" title="no sales the week before">n/a</span>';
  const pct = `${change > 0 ? '+' : ''}${(change * 100).toFixed(1)} %`;
  return `<span class="wow"><span aria-hidden="true">${change > 0 ? '▲' : change < 0 ? '▼' : '='}</span> ${pct}</span>`;
}

function membersTable(id: string, dimension: string, rows: readonly WeeklyMember[], withName = false): string {
  if (rows.length === 0) return emptyState('No sales this week.');
  const body = rows.map(
    (m) => `<tr data-member="${esc(m.member)}"><td class="num" data-label="rank">${m.rank}</td><td data-label="${esc(dimension)}">${esc(m.member)}</td>${withName ? `<td data-label="product">${esc(m.name ?? '')}</td>` : ''}
<td class="num" data-label="revenue">${money(m.revenue)}</td><td class="num" data-label="orders">${int(m.orders)}</td><td class="num" data-label="units">${int(m.units)}</td>
<td class="num" data-label="previous week">${money(m.revenuePrevWeek)}</td><td class="num" data-label="week over week">${wow(m.wowChange)}</td></tr>`,
  );
  return `<div class="scroll"><table id="${id}" class="responsive"><thead><tr><th class="num">rank</th><th>${esc(dimension)}</th>${withName ? '<th>product</th>' : ''}<th class="num">revenue</th><th class="num">orders</th><th class="num">units</th><th class="num">week before</th><th class="num">change</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table></div>`;
}

function weeklySection(r: WeeklyReport, qs: string): string {
  const t = r.total;
  const summary = t
    ? `<div class="card" id="weekly-summary">${facts([
        ['revenue', money(t.revenue)],
        ['orders', int(t.orders)],
        ['units', int(t.units)],
        ['average order value', money(t.avgOrderValue)],
        ['previous week', t.revenuePrevWeek === null ? '–' : money(t.revenuePrevWeek)],
        ['week over week', wow(t.wowChange)],
        ['quality score', t.qualityScore === null ? '<span class="muted">no scores</span>' : t.qualityScore.toFixed(2)],
      ])}${download('weekly-summary', qs)}</div>`
    : emptyState('The week has no total row.');
  const bars = (members: readonly WeeklyMember[], label: string) =>
    barChartSvg({ bars: members.map((m) => ({ label: m.member, value: m.revenue })), ariaLabel: label, formatValue: (v) => money(v) });
  return `${summary}
<div class="charts">
${figure('weekly-by-region', 'Revenue by region this week', bars(r.byRegion, 'Weekly revenue by region'), download('weekly-by-region', qs))}
${figure('weekly-by-category', 'Revenue by category this week', bars(r.byCategory, 'Weekly revenue by category'), download('weekly-by-category', qs))}
</div>
<div class="charts">
<section><h3>Regions, week over week</h3>${membersTable('weekly-regions', 'region', r.byRegion)}</section>
<section><h3>Categories, week over week</h3>${membersTable('weekly-categories', 'category', r.byCategory)}</section>
</div>
<figure id="top-products"><figcaption><span>Top 10 products by revenue</span> ${download('top-products', qs)}</figcaption>${membersTable('top-products-table', 'SKU', r.topProducts, true)}</figure>`;
}
