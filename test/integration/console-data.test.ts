/**
 * The console's data and report pages on the real stack, over data the pipelines really wrote:
 * one seeded Sunday (2026-02-22, no other test's day) through daily_etl, quality_checks,
 * hourly_aggregation (10:00 to 14:00) and weekly_reports (2026-W08). A partner file carries a
 * hostile line, and a few rows planted beside the pipelines' (under dag or run id PLANT, removed
 * afterwards) give the pages a failed check with sample rows, an unbalanced audit entry, two
 * pages of exceptions and a report member that is HTML and a spreadsheet formula at once. Pages
 * must show the numbers the tables hold, filters must narrow, CSVs must parse back to the JSON,
 * and the hostile text must come out inert: escaped in HTML, defused in CSV.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import type { Express } from 'express';
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { createKnex } from '../../infra/db/knex';
import { ensureBucket } from '../../infra/s3';
import { seedDemo } from '../../server/demo';
import { createConsoleApp } from '../../server/console/app';
import { auditForRun, lineageForRun, type AuditRun, type ExceptionRecord, type LineageGraph, type QualityOverview } from '../../server/console/queries/data';
import type { DailyReport, WeeklyReport } from '../../server/console/queries/reports';
import type { DagSpec } from '../../workflows/spec';
import { testConfig, testS3Client } from '../support/env';
import { dailyRunDate, runAndWait, shippedDags } from '../support/pipelines';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-console-data';
const TOKEN = 'console-data-token';
/** A Sunday: weekly_reports of its week (2026-W08) runs on the Monday after, with this day's daily_etl. */
const DAY = '2026-02-22';
const WEEK = '2026-W08';
/** dag_id / run_id of every row this file writes by hand. */
const PLANT = 'console_data_test';
const SCRIPT = '<script>alert("sluice")</script>';
const FORMULA = '=HYPERLINK("http://evil.example","x")';
const HOSTILE = `${FORMULA} ${SCRIPT}`;
const PARTNER_FILE = `landing/partner_sales/dt=${DAY}/console_data_test.csv`;

const config = testConfig();
const s3 = testS3Client();
const source = createKnex(config.postgres.sourceDatabaseUrl, { maxConnections: 4 });
const { specs, tasks } = shippedDags(TQ);
let w: TestWorker;
let db: Knex;
let server: Server;
let origin: string;
let etlRunId: string;

/** The shipped DAG on this file's queue, sensors poking every 300 ms, failures failing the run at once. */
function spec(dagId: string): DagSpec {
  const found = specs.get(dagId);
  if (!found) throw new Error(`no DAG ${dagId}`);
  const tasksOf = found.tasks.map((t) => (t.sensor ? { ...t, sensor: { ...t.sensor, pokeIntervalMs: 300 } } : t));
  return { ...found, operatorWindowMs: 0, tasks: tasksOf };
}

async function run(dagId: string, logicalDate: Date): Promise<string> {
  const result = await runAndWait(w.client, spec(dagId), logicalDate);
  assert.equal(result.state, 'success', `${dagId} ${logicalDate.toISOString()}: ${result.failedTasks.join('; ')}`);
  return result.runId;
}

before(async () => {
  await ensureBucket(s3, config.s3.bucket);
  // The seed pipelines.test uses (seed 7, 150 orders a day), one day, eight days before its week.
  await seedDemo({ source, s3, bucket: config.s3.bucket, start: DAY, days: 1, ordersPerDay: 150, seed: 7 });
  const sku = String((await source('products').orderBy('product_id').first()).sku);
  const hostileLine = [csvQuote(SCRIPT), DAY, csvQuote(FORMULA), sku, '1', '5.00'].join(',');
  await s3.send(new PutObjectCommand({ Bucket: config.s3.bucket, Key: PARTNER_FILE, Body: `order_id,order_date,region,product,quantity,revenue\n${hostileLine}\n` }));

  w = await startTestWorker(tasks, TQ);
  db = w.resources.warehouse;
  const monday = dailyRunDate(DAY);
  await Promise.all([
    (async () => {
      etlRunId = await run('daily_etl', monday);
      await run('quality_checks', monday);
      await run('weekly_reports', monday);
    })(),
    run('hourly_aggregation', new Date(`${DAY}T14:00:00Z`)),
  ]);
  await plant();

  const app = createConsoleApp({ temporal: w.client, db, token: TOKEN, logger: pino({ level: 'silent' }), dags: () => [...specs.values()] });
  ({ server, origin } = await serve(app));
});

after(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (db) {
    await Promise.all([
      db('ops.exceptions').where('dag_id', PLANT).delete(),
      db('ops.audit_log').where('dag_id', PLANT).delete(),
      db('ops.quality_results').where('dag_id', PLANT).delete(),
      db('gold.hourly_sales').where('run_id', PLANT).delete(),
      db('gold.weekly_sales').where('run_id', PLANT).delete(),
    ]);
    // The star schema's rows of this day go too: pipelines.test checks every fact in the warehouse
    // against the customer versions of its own week, which this day's customers would contradict.
    await db('warehouse.fact_sales').where('load_date', DAY).delete();
    if (etlRunId) for (const table of ['warehouse.dim_customer', 'warehouse.dim_product']) await db(table).where('run_id', etlRunId).delete();
  }
  await w?.stop();
  await source.destroy();
  s3.destroy();
});

/** 60 exceptions over three days (two pages), a failed check with samples, an unbalanced audit row, hostile report members. */
async function plant(): Promise<void> {
  const days = ['2026-02-20', '2026-02-21', DAY];
  const categories = ['MISSING_REQUIRED_FIELD', 'DATA_FORMAT_ERROR', 'BUSINESS_RULE_VIOLATION', 'DUPLICATE_RECORD', 'REFERENTIAL_INTEGRITY', 'FILE_UNREADABLE'];
  await db('ops.exceptions').insert(
    Array.from({ length: 60 }, (_, i) => ({
      dag_id: PLANT,
      run_id: PLANT,
      task_id: 'plant',
      logical_date: days[i % 3],
      source: i % 2 === 0 ? 'plant.even' : 'plant.odd',
      source_id: String(i),
      category: categories[i % 6],
      stage: 'plant',
      reason: `planted record ${i}`,
      raw: JSON.stringify({ n: i, note: i === 0 ? HOSTILE : 'plain' }),
    })),
  );
  await db('ops.quality_results').insert({
    dag_id: PLANT,
    run_id: PLANT,
    logical_date: DAY,
    table_name: 'warehouse.dim_customer',
    check_name: 'planted_email_format',
    check_kind: 'regex',
    severity: 'warning',
    passed: false,
    failed_rows: 1,
    total_rows: 10,
    observed: JSON.stringify({ failedShare: 0.1 }),
    samples: JSON.stringify([{ customer_id: 7, email: SCRIPT }]),
  });
  await db('ops.audit_log').insert({ dag_id: PLANT, logical_date: DAY, source: 'plant.source', stage: 'conservation', run_id: PLANT, records_in: 10, records_loaded: 7, records_quarantined: 2 });
  await db('gold.hourly_sales').insert({ hour: `${DAY}T03:00:00Z`, region: 'North', category: HOSTILE, revenue: 1.5, orders: 1, units: 1, avg_order_value: 1.5, run_id: PLANT });
  const week = await db('gold.weekly_sales').where({ iso_week: WEEK, dimension: 'total' }).first('week_start');
  assert.ok(week, `weekly_reports wrote ${WEEK}`);
  await db('gold.weekly_sales').insert({ week_start: week.week_start, iso_week: WEEK, dimension: 'category', member: HOSTILE, revenue: 0.5, orders: 1, units: 1, rank: 99, run_id: PLANT });
}

async function serve(app: Express): Promise<{ server: Server; origin: string }> {
  const listening = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => listening.once('listening', resolve));
  return { server: listening, origin: `http://127.0.0.1:${(listening.address() as AddressInfo).port}` };
}

async function get(path: string): Promise<Response> {
  return fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
}

async function api<T>(path: string): Promise<T> {
  const res = await get(`/api${path}`);
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return (await res.json()) as T;
}

/** A page: 200, HTML, under a `main h1`, and no script but the console's own. */
async function html(path: string): Promise<string> {
  const res = await get(path);
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text.slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(text, /<main>[\s\S]*<h1>/);
  assert.deepEqual(text.match(/<script\b[^>]*>/g), ['<script src="/assets/console.js" defer>'], `${path}: no script from data`);
  return text;
}

async function csv(path: string): Promise<{ records: string[][]; text: string; disposition: string }> {
  const res = await get(path);
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text.slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
  const disposition = res.headers.get('content-disposition') ?? '';
  assert.match(disposition, /^attachment; filename="[\w.-]+\.csv"$/);
  return { records: parse(text) as string[][], text, disposition };
}

/** The hostile text is on the page, escaped: never as markup. */
function assertInert(page: string): void {
  assert.ok(!page.includes(SCRIPT) && !/<script>alert/i.test(page), 'no live <script> from data');
  assert.match(page, /(&lt;|&#60;)script(&gt;|&#62;)alert/, 'the <script> text is shown, escaped');
}

const int = (n: number) => n.toLocaleString('en-US');

function csvQuote(text: string): string {
  return `"${text.replaceAll('"', '""')}"`;
}

describe('data pages', () => {
  test('quality: scores per table over time, latest scores, failed checks with their sample rows', async () => {
    const scores: Array<{ table_name: string; score: string }> = await db('ops.quality_scores').where({ dag_id: 'quality_checks', logical_date: DAY }).select('table_name', 'score');
    assert.equal(scores.length, 4, 'quality_checks scored four tables');
    const overview = await api<QualityOverview>(`/data/quality?from=${DAY}&to=${DAY}`);
    assert.deepEqual(overview.range, { from: DAY, to: DAY });
    assert.deepEqual(
      overview.latest.map((s) => [s.table, s.day, s.score]).sort(),
      scores.map((s) => [s.table_name, DAY, Number(s.score)]).sort(),
    );
    assert.deepEqual(overview.series.map((s) => [s.table, s.points]).sort(), scores.map((s) => [s.table_name, [{ day: DAY, score: Number(s.score) }]]).sort());

    const failed = await api<{ rows: Array<{ check: string; table: string; samples: unknown[] }> }>(`/data/quality/failed?from=${DAY}&to=${DAY}&table=warehouse.dim_customer`);
    const planted = failed.rows.find((r) => r.check === 'planted_email_format');
    assert.deepEqual(planted?.samples, [{ customer_id: 7, email: SCRIPT }]);
    assert.ok(failed.rows.every((r) => r.table === 'warehouse.dim_customer'), 'the table filter narrows');
    const product = await api<{ rows: Array<{ check: string }> }>(`/data/quality/failed?from=${DAY}&to=${DAY}&table=warehouse.dim_product`);
    assert.ok(!product.rows.some((r) => r.check === 'planted_email_format'));

    const page = await html(`/data/quality?from=${DAY}&to=${DAY}`);
    assert.match(page, /<figure id="quality-chart"><svg[^>]*viewBox[\s\S]*<\/svg><figcaption>/);
    for (const s of scores) assert.match(page, new RegExp(`data-table="${s.table_name.replace('.', '\\.')}"[\\s\\S]*?${Number(s.score).toFixed(2)}`));
    assert.match(page, /<details class="samples"><summary>1 sample row<\/summary>/);
    assertInert(page);
    await html('/data/quality');
    assert.match(await html('/data/quality?table=nothing.here'), /No quality results for nothing\.here/);
  });

  test('exceptions: raw records, filters that narrow, and pages of 50 newest first', async () => {
    const hostile: ExceptionRecord | undefined = (await api<{ rows: ExceptionRecord[] }>(`/data/exceptions?dagId=daily_etl&source=partner_sales&from=${DAY}&to=${DAY}`)).rows.find((e) =>
      e.sourceFile?.endsWith('console_data_test.csv'),
    );
    assert.ok(hostile, 'the hostile partner line is quarantined');
    assert.deepEqual([hostile.sourceLine, (hostile.raw as Record<string, unknown>).order_id, (hostile.raw as Record<string, unknown>).region], [2, SCRIPT, FORMULA]);
    const page = await html(`/data/exceptions?category=${hostile.category}&from=${DAY}&to=${DAY}`);
    assert.ok(page.includes(`<code>${hostile.category}</code>`));
    assert.ok(page.includes(`console_data_test.csv:2</code>`), 'the file and line');
    assert.ok(page.includes('=HYPERLINK('), 'the raw record is shown');
    assertInert(page);

    const all = await db('ops.exceptions').where('dag_id', PLANT).orderBy([{ column: 'logical_date', order: 'desc' }, { column: 'exception_id', order: 'desc' }]).pluck('exception_id');
    const first = await api<{ rows: ExceptionRecord[]; hasMore: boolean }>(`/data/exceptions?dagId=${PLANT}`);
    const second = await api<{ rows: ExceptionRecord[]; hasMore: boolean }>(`/data/exceptions?dagId=${PLANT}&page=2`);
    assert.deepEqual([first.rows.length, first.hasMore, second.rows.length, second.hasMore], [50, true, 10, false]);
    assert.deepEqual([...first.rows, ...second.rows].map((e) => e.exceptionId), all.map(Number), 'newest logical date first, every record once');

    const duplicates = await api<{ rows: ExceptionRecord[] }>(`/data/exceptions?dagId=${PLANT}&category=DUPLICATE_RECORD`);
    assert.equal(duplicates.rows.length, 10);
    assert.ok(duplicates.rows.every((e) => e.category === 'DUPLICATE_RECORD'));
    const oneDay = await api<{ rows: ExceptionRecord[] }>(`/data/exceptions?dagId=${PLANT}&from=2026-02-21&to=2026-02-21&source=plant.odd`);
    assert.equal(oneDay.rows.length, 10);
    assert.ok(oneDay.rows.every((e) => e.logicalDate === '2026-02-21' && e.source === 'plant.odd'));

    const paged = await html(`/data/exceptions?dagId=${PLANT}&category=`);
    assert.match(paged, /<a rel="next" href="\/data\/exceptions\?dagId=console_data_test(&amp;|&#38;)page=2">/);
    assert.equal((paged.match(/<tr data-exception=/g) ?? []).length, 50);
    const last = await html(`/data/exceptions?dagId=${PLANT}&page=2`);
    assert.equal((last.match(/<tr data-exception=/g) ?? []).length, 10);
    assert.match(last, /<a rel="prev" href="\/data\/exceptions\?dagId=console_data_test">/);
    assertInert(last);
    assert.match(await html('/data/exceptions?dagId=nobody'), /No quarantined records match these filters/);
  });

  test('audit: the conservation equation per run and source, with its verdict in words', async () => {
    const rows: Array<{ source: string; records_in: string; records_loaded: string; records_quarantined: string }> = await db('ops.audit_log').where({ dag_id: 'daily_etl', logical_date: DAY });
    assert.ok(rows.length >= 5, 'daily_etl audited every source');
    const audit = await api<{ runs: AuditRun[] }>(`/data/audit?dagId=daily_etl&from=${DAY}&to=${DAY}`);
    assert.equal(audit.runs.length, 1);
    const [runAudit] = audit.runs;
    assert.deepEqual([runAudit?.runId, runAudit?.balanced], [etlRunId, true]);
    const bySource = (r: { source: string }) => r.source;
    assert.deepEqual(
      runAudit?.rows.map((r) => [r.source, r.recordsIn, r.recordsLoaded, r.recordsQuarantined, r.balanced]).sort(),
      rows.map((r) => [bySource(r), Number(r.records_in), Number(r.records_loaded), Number(r.records_quarantined), true]).sort(),
    );
    assert.deepEqual(await auditForRun(db, etlRunId), runAudit?.rows);

    const page = await html(`/data/audit?dagId=daily_etl&from=${DAY}&to=${DAY}`);
    for (const r of rows) {
      assert.ok(page.includes(`${int(Number(r.records_in))} = ${int(Number(r.records_loaded))} + ${int(Number(r.records_quarantined))}</span> <span class="verdict ok"><span aria-hidden="true">✓</span> holds`), r.source);
    }
    const partner = rows.find((r) => r.source === 'partner_sales');
    assert.ok(partner && Number(partner.records_quarantined) >= 1, 'the hostile line counts as quarantined');

    const planted = await html(`/data/audit?dagId=${PLANT}`);
    assert.ok(planted.includes('10 ≠ 7 + 2</span> <span class="verdict bad"><span aria-hidden="true">✗</span> off by 1 (records lost)'));
    assert.ok(planted.includes('does not balance'));
    await html('/data/audit');
  });

  test('lineage: datasets and the tasks that read and write them, for all DAGs, one DAG or one run', async () => {
    const ofRun = await api<LineageGraph>(`/data/lineage?runId=${encodeURIComponent(etlRunId)}`);
    assert.deepEqual(ofRun, await lineageForRun(db, etlRunId));
    const facts = ofRun.nodes.find((n) => n.kind === 'dataset' && n.label === 'warehouse.fact_sales');
    assert.ok(facts, 'fact_sales is a dataset of the run');
    const written = ofRun.edges.find((e) => e.from === 'task:daily_etl.loadFactSales' && e.to === facts.id);
    assert.equal(written?.kind, 'output');
    assert.ok(ofRun.edges.some((e) => e.from === facts.id && e.to === 'task:daily_etl.auditDay' && e.kind === 'input'), 'auditDay reads fact_sales');
    assert.ok(ofRun.nodes.filter((n) => n.kind === 'task').every((n) => n.runId === etlRunId));
    const bronze = ofRun.nodes.find((n) => n.kind === 'dataset' && n.name === 'bronze/order_items');
    assert.ok(bronze, 'lake prefixes are datasets without their partition');

    const hourly = await api<LineageGraph>('/data/lineage?dagId=hourly_aggregation');
    assert.deepEqual(hourly.nodes.filter((n) => n.kind === 'task').map((n) => n.label).sort(), ['hourly_aggregation.aggregateHourlySales', 'hourly_aggregation.aggregateHourlyTraffic']);

    const page = await html('/data/lineage');
    assert.match(page, /<figure id="lineage-graph"><svg[\s\S]*data-kind="dataset"[\s\S]*<\/svg><figcaption>/);
    assert.ok(page.includes('<tr data-task="daily_etl.loadFactSales">'));
    assert.match(await html('/data/lineage?dagId=nobody'), /No lineage for this DAG or run/);
  });

  test('a bad filter is a 400 naming the field', async () => {
    const bad: Array<[string, string]> = [
      ['/api/data/exceptions?category=NOPE', 'category'],
      ['/api/data/exceptions?from=yesterday', 'from'],
      ['/api/data/audit?from=yesterday', 'from'],
      ['/api/data/quality?to=2026-02-30', 'to'],
      ['/api/data/exceptions?page=0', 'page'],
      ['/api/data/exceptions?from=2026-02-22&to=2026-02-01', 'from'],
      ['/api/reports/weekly?week=2026-8', 'week'],
      ['/api/reports/daily?from=2020-01-01&to=2026-01-01', 'from'],
      ['/data/exceptions?category=NOPE', 'category'],
      ['/reports/revenue-trend.csv?from=yesterday', 'from'],
    ];
    for (const [path, field] of bad) {
      const res = await get(path);
      const body = (await res.json()) as { error: string; fields?: Record<string, string> };
      assert.equal(res.status, 400, path);
      assert.ok(body.fields?.[field], `${path}: a message for ${field} in ${JSON.stringify(body)}`);
    }
    const page = await fetch(`${origin}/data/exceptions?category=NOPE`, { headers: { authorization: `Bearer ${TOKEN}`, accept: 'text/html' } });
    assert.equal(page.status, 400);
    assert.match(await page.text(), /category/);
    assert.equal((await get('/reports/nope.csv')).status, 404);
  });
});

describe('reports', () => {
  test('daily KPIs equal gold.hourly_sales, and each CSV parses back to the JSON', async () => {
    const report = await api<DailyReport>(`/reports/daily?from=${DAY}&to=${DAY}`);
    const [expected] = (await db.raw<{ rows: Array<{ revenue: string; orders: string; units: string }> }>(
      `select sum(revenue) as revenue, sum(orders) as orders, sum(units) as units from gold.hourly_sales where hour >= ? and hour < ?`,
      [`${DAY}T00:00:00Z`, '2026-02-23T00:00:00Z'],
    )).rows;
    assert.ok(Number(expected?.revenue) > 100, 'hourly_aggregation wrote the day');
    assert.deepEqual([report.totals.revenue, report.totals.orders, report.totals.units], [Number(expected?.revenue), Number(expected?.orders), Number(expected?.units)]);
    assert.deepEqual(report.days.map((d) => [d.day, d.revenue]), [[DAY, Number(expected?.revenue)]]);
    const sum = (xs: Array<{ revenue: number }>) => Math.round(xs.reduce((s, x) => s + x.revenue * 100, 0)) / 100;
    assert.equal(sum(report.byRegion), report.totals.revenue);
    assert.equal(sum(report.byCategory), report.totals.revenue);

    const trend = await csv(`/reports/revenue-trend.csv?from=${DAY}&to=${DAY}`);
    assert.match(trend.disposition, new RegExp(`filename="revenue-trend_${DAY}_${DAY}\\.csv"`));
    assert.deepEqual(trend.records[0], ['day', 'revenue', 'orders', 'units', 'avg_order_value']);
    assert.deepEqual(trend.records.slice(1).map((r) => [r[0], ...r.slice(1).map(Number)]), report.days.map((d) => [d.day, d.revenue, d.orders, d.units, d.avgOrderValue]));
    const categories = await csv(`/reports/revenue-by-category.csv?from=${DAY}&to=${DAY}`);
    assert.deepEqual(categories.records.slice(1).map((r) => [r[0], Number(r[1])]), report.byCategory.map((c) => [c.category === HOSTILE ? `'${HOSTILE}` : c.category, c.revenue]));
    assert.ok(categories.text.includes(`"'=HYPERLINK(""http://evil.example"",""x"") ${SCRIPT.replaceAll('"', '""')}"`), 'the formula is quoted and defused');
    const regions = await csv(`/reports/revenue-by-region.csv?from=${DAY}&to=${DAY}`);
    assert.deepEqual(regions.records.slice(1).map((r) => [r[0], Number(r[1]), Number(r[2])]), report.byRegion.map((c) => [c.region, c.revenue, c.orders]));
  });

  test('the weekly report: totals, week over week, regions, categories and top products, as JSON and CSV', async () => {
    const report = await api<WeeklyReport>(`/reports/weekly?week=${WEEK}`);
    const total = await db('gold.weekly_sales').where({ iso_week: WEEK, dimension: 'total' }).first();
    assert.deepEqual(report.week, { isoWeek: WEEK, weekStart: '2026-02-16', weekEnd: '2026-02-22' });
    assert.deepEqual([report.total?.revenue, report.total?.orders, report.total?.qualityScore], [Number(total.revenue), total.orders, total.quality_score === null ? null : Number(total.quality_score)]);
    assert.ok(report.total?.qualityScore !== null, 'quality_checks ran before weekly_reports: the week has a quality score');
    assert.ok(report.topProducts.length > 0 && report.topProducts.length <= 10);
    assert.ok(report.weeks.some((x) => x.isoWeek === WEEK));

    const summary = await csv(`/reports/weekly-summary.csv?week=${WEEK}`);
    assert.match(summary.disposition, /filename="weekly-summary_2026-W08\.csv"/);
    const [header, values] = summary.records;
    const row = Object.fromEntries((header ?? []).map((h, i) => [h, values?.[i]]));
    assert.deepEqual(
      [row.iso_week, Number(row.revenue), Number(row.orders), Number(row.units), row.wow_change === '' ? null : Number(row.wow_change), Number(row.quality_score)],
      [WEEK, report.total?.revenue, report.total?.orders, report.total?.units, report.total?.wowChange, report.total?.qualityScore],
    );
    const top = await csv(`/reports/top-products.csv?week=${WEEK}`);
    assert.deepEqual(top.records.slice(1).map((r) => [Number(r[0]), r[1], r[2], Number(r[3])]), report.topProducts.map((p) => [p.rank, p.member, p.name, p.revenue]));
    const byCategory = await csv(`/reports/weekly-by-category.csv?week=${WEEK}`);
    assert.ok(byCategory.records.some((r) => r[1] === `'${HOSTILE}`), 'the planted member is defused');
  });

  test('the reports page: charts in figures with their CSV links, numbers shown, hostile members inert', async () => {
    const daily = await api<DailyReport>(`/reports/daily?from=${DAY}&to=${DAY}`);
    const weekly = await api<WeeklyReport>(`/reports/weekly?week=${WEEK}`);
    const page = await html(`/reports?from=${DAY}&to=${DAY}&week=${WEEK}`);
    for (const id of ['revenue-trend', 'revenue-by-region', 'revenue-by-category', 'weekly-by-region']) {
      assert.match(page, new RegExp(`<figure id="${id}"><svg[\\s\\S]*?</svg><figcaption>[\\s\\S]*?href="/reports/${id}\\.csv\\?`), id);
    }
    assert.match(page, new RegExp(`href="/reports/revenue-trend\\.csv\\?from=${DAY}(&amp;|&#38;)to=${DAY}" download>Download CSV</a>`));
    assert.ok(page.includes(`href="/reports/top-products.csv?week=${WEEK}" download>Download CSV</a>`));
    const money = (n: number) => n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    assert.ok(page.includes(money(daily.totals.revenue)), 'the day’s revenue');
    assert.ok(page.includes(money(weekly.total?.revenue ?? NaN)), 'the week’s revenue');
    for (const p of weekly.topProducts) assert.ok(page.includes(`<tr data-member="${p.member}">`), p.member);
    assertInert(page);

    await html('/reports');
    assert.match(await html('/reports?week=2019-W01'), /No weekly report for 2019-W01: run weekly_reports/);
    assert.match(await html('/reports?from=2019-01-01&to=2019-01-31'), /No hourly sales in this range: run hourly_aggregation/);
  });
});
