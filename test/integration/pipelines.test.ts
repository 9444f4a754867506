/**
 * The shipped pipelines end to end on the real stack: a seeded week through daily_etl and the
 * DAGs that build on it. It proves the promises the README makes about them: conservation, every
 * injected problem quarantined under its category and nothing else, warehouse totals equal to an
 * independent computation over the source, reruns that change nothing (tables and lake ETags),
 * type-2 customers, and features that ignore data after their as-of date.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { createKnex } from '../../infra/db/knex';
import { ensureBucket } from '../../infra/s3';
import { seedDemo, type SeedManifest } from '../../server/demo';
import { testConfig, testS3Client } from '../support/env';
import { dailyRunDate, lakeListing, runAndWait, shippedDags, tableFingerprint } from '../support/pipelines';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-pipelines';
const START = '2026-03-02';
// A whole ISO week (2026-W10, Monday to Sunday), so weekly_reports has its week.
const DAYS = ['2026-03-02', '2026-03-03', '2026-03-04', '2026-03-05', '2026-03-06', '2026-03-07', '2026-03-08'];
const SEED = { start: START, ordersPerDay: 150, seed: 7 };

const config = testConfig();
const s3 = testS3Client();
const source = createKnex(config.postgres.sourceDatabaseUrl, { maxConnections: 4 });
const { specs, tasks } = shippedDags(TQ);
const spec = (dagId: string) => {
  const found = specs.get(dagId);
  if (!found) throw new Error(`no DAG ${dagId}`);
  return found;
};
let w: TestWorker;
let manifest: SeedManifest;

before(async () => {
  await ensureBucket(s3, config.s3.bucket);
  manifest = await seedDemo({ source, s3, bucket: config.s3.bucket, days: DAYS.length, ...SEED });
  w = await startTestWorker(tasks, TQ);
});
after(async () => {
  await w?.stop();
  await source.destroy();
  s3.destroy();
});

async function etl(day: string, options: { rerun?: boolean } = {}) {
  const run = await runAndWait(w.client, spec('daily_etl'), dailyRunDate(day), options);
  assert.equal(run.state, 'success', `daily_etl ${day}: ${run.failedTasks.join('; ')}`);
  return run;
}

async function run(dagId: string, logicalDate: Date, options: { rerun?: boolean } = {}) {
  const result = await runAndWait(w.client, spec(dagId), logicalDate, options);
  assert.equal(result.state, 'success', `${dagId} ${logicalDate.toISOString()}: ${result.failedTasks.join('; ')}`);
  return result;
}

/** Features as of the first day, computed before any later day was loaded. */
let earlyFeatures: { table: string; lake: string[] } | undefined;
const featuresSnapshot = async (day: string) => ({
  table: await tableFingerprint(w.resources.warehouse, 'features.customer_features', 'customer_id', ['run_id', 'updated_at'], `as_of = '${day}'`),
  lake: await lakeListing(s3, config.s3.bucket, `features/customer/as_of=${day}/`),
});

describe('daily_etl over a seeded week', () => {
  test('loads every day, and records in = loaded + quarantined for every source', async () => {
    await etl(DAYS[0]!);
    await run('ml_features', dailyRunDate(DAYS[0]!));
    earlyFeatures = await featuresSnapshot(DAYS[0]!);
    for (const day of DAYS.slice(1)) await etl(day);
    const audit = await w.resources.warehouse('ops.audit_log').where({ dag_id: 'daily_etl' }).whereIn('logical_date', DAYS);
    assert.ok(audit.length >= DAYS.length * 5, `audit rows: ${audit.length}`);
    for (const row of audit) {
      assert.equal(Number(row.records_in), Number(row.records_loaded) + Number(row.records_quarantined), `${iso(row.logical_date as Date)} ${String(row.source)}`);
    }
    const perDay = new Map(manifest.perDay.map((d) => [d.day, d]));
    for (const day of DAYS) {
      const items = audit.find((r) => r.source === 'shop.order_items' && iso(r.logical_date as Date) === day);
      assert.equal(Number(items?.records_in), perDay.get(day)?.orderItems, `order items extracted on ${day}`);
    }
  });

  test('bronze and silver Parquet hold the records, with ingestion metadata', async () => {
    const day = DAYS[0]!;
    const bronze = await readParquet(`bronze/order_items/dt=${day}/part-00000.parquet`);
    assert.equal(bronze.length, manifest.perDay[0]!.orderItems);
    assert.equal(bronze[0]?._run_id, `daily_etl-${dailyRunDate(day).toISOString().replace('.000Z', 'Z')}`);
    assert.equal(bronze[0]?._source, 'shop.order_items');
    const partner = await readParquet(`bronze/partner_sales/dt=${day}/part-00000.parquet`);
    assert.ok(partner.some((r) => r._unreadable === true && String(r._source_file).endsWith('late_upload.csv.gz')), 'the truncated file is in bronze as a marked record');
    assert.ok(partner.every((r) => typeof r._source_line === 'number' && String(r._source_file).startsWith(`landing/partner_sales/dt=${day}/`)));
    const silver = await readParquet(`silver/order_items/dt=${day}/part-00000.parquet`);
    const facts = await w.resources.warehouse('warehouse.fact_sales').where({ load_date: day, source: 'shop' }).count<{ count: string }[]>('* as count');
    assert.equal(silver.length, Number(facts[0]!.count), 'silver holds exactly the loaded items');
  });

  test('quarantines exactly the injected problems, each under its category', async () => {
    const rows: ExceptionRow[] = await w.resources.warehouse('ops.exceptions').where({ dag_id: 'daily_etl' }).whereIn('logical_date', DAYS).select('source', 'category', 'source_id', 'source_file', 'source_line', 'reason');
    const key = (p: { source: string; category: string; id?: string | null; file?: string | null; line?: number | null }) =>
      `${p.source} ${p.category} ${p.file ? `${p.file}:${String(p.line)}` : String(p.id)}`;
    const found = rows.map((r) => key({ source: r.source, category: r.category, id: r.source_id, file: r.source_file, line: r.source_line })).sort();
    const injected = manifest.problems.map((p) => key({ ...p, id: p.sourceId })).sort();
    assert.ok(injected.length > 20, `the seed injected ${injected.length} problems`);
    const unexpected = rows.filter((r) => !injected.includes(key({ source: r.source, category: r.category, id: r.source_id, file: r.source_file, line: r.source_line })));
    assert.deepEqual(unexpected.slice(0, 10).map((r) => `${r.source_file ?? String(r.source_id)}:${String(r.source_line ?? '')} ${r.category}: ${r.reason}`), [], 'quarantined but not injected');
    assert.deepEqual(injected.filter((k) => !found.includes(k)), [], 'injected but not quarantined');
    assert.equal(found.length, injected.length);
    const unreadable = await w.resources.warehouse('ops.exceptions').where({ category: 'FILE_UNREADABLE' }).whereIn('logical_date', DAYS).first();
    assert.ok(unreadable?.source_file?.endsWith('.csv.gz'), 'the truncated file is quarantined with its key');
  });

  test('fact_sales equals an independent computation over the shop database', async () => {
    for (const day of DAYS) {
      // The rules, restated in plain SQL over the source: the first order of an order number
      // counts; items need a positive quantity, an existing order and an existing product.
      const expected = await source.raw<{ rows: { items: string; revenue: string; units: string }[] }>(
        `with first_orders as (
           select distinct on (order_number) order_id from orders order by order_number, ordered_at, order_id
         )
         select count(*) as items, coalesce(sum(i.quantity * i.unit_price), 0) as revenue, coalesce(sum(i.quantity), 0) as units
         from order_items i
         join orders o on o.order_id = i.order_id and o.order_id in (select order_id from first_orders)
         join customers c on c.customer_id = o.customer_id
         join products p on p.product_id = i.product_id
         where i.created_at >= ?::date and i.created_at < ?::date + 1 and i.quantity > 0 and i.unit_price >= 0`,
        [day, day],
      );
      const actual = await w.resources.warehouse('warehouse.fact_sales').where({ load_date: day, source: 'shop' }).first(
        w.resources.warehouse.raw('count(*) as items'),
        w.resources.warehouse.raw('coalesce(sum(revenue), 0) as revenue'),
        w.resources.warehouse.raw('coalesce(sum(quantity), 0) as units'),
      );
      assert.deepEqual(
        { items: Number(actual.items), revenue: Number(actual.revenue).toFixed(2), units: Number(actual.units) },
        { items: Number(expected.rows[0]!.items), revenue: Number(expected.rows[0]!.revenue).toFixed(2), units: Number(expected.rows[0]!.units) },
        day,
      );
      const seeded = manifest.perDay.find((d) => d.day === day)!;
      const partnerProblems = manifest.problems.filter((p) => p.day === day && p.source === 'partner_sales').length;
      const partnerRows = seeded.files.reduce((n, f) => n + f.rows, 0) + seeded.files.filter((f) => f.key.includes('late_upload')).length;
      const partnerFacts = await w.resources.warehouse('warehouse.fact_sales').where({ load_date: day, source: 'partner_sales' }).count<{ count: string }[]>('* as count');
      assert.equal(Number(partnerFacts[0]!.count), partnerRows - partnerProblems, `partner lines loaded on ${day}`);
    }
  });

  test('a rerun of a day leaves the warehouse and the lake exactly as they were', async () => {
    const day = DAYS[1]!;
    const snapshot = async () => ({
      facts: await tableFingerprint(w.resources.warehouse, 'warehouse.fact_sales', 'source, line_id'),
      customers: await tableFingerprint(w.resources.warehouse, 'warehouse.dim_customer', 'customer_key'),
      products: await tableFingerprint(w.resources.warehouse, 'warehouse.dim_product', 'product_key'),
      dates: await tableFingerprint(w.resources.warehouse, 'warehouse.dim_date', 'date_key'),
      exceptions: await tableFingerprint(w.resources.warehouse, 'ops.exceptions', 'logical_date, source, source_file, source_line, source_id', ['exception_id', 'created_at']),
      audit: await tableFingerprint(w.resources.warehouse, 'ops.audit_log', 'logical_date, source, stage', ['recorded_at']),
      bronze: await lakeListing(s3, config.s3.bucket, 'bronze/'),
      silver: await lakeListing(s3, config.s3.bucket, 'silver/'),
    });
    const before = await snapshot();
    await etl(day, { rerun: true });
    assert.deepEqual(await snapshot(), before);
  });

  test('a customer who changes gets a new version, and later sales point at it (type 2)', async () => {
    // One more day: the same seed reproduces the week and changes some customers on the day after.
    const extended = await seedDemo({ source, s3, bucket: config.s3.bucket, days: DAYS.length + 1, ...SEED });
    const nextDay = extended.perDay[DAYS.length]!;
    assert.ok(nextDay.customersChanged > 0, 'the seed changes customers on the next day');
    // And a checkout submitted again just after midnight: the order of the evening before, again.
    const last = await source('orders').where('ordered_at', '<', `${nextDay.day}T00:00:00Z`).orderBy('ordered_at', 'desc').first();
    const lastItems = await source('order_items').where({ order_id: last.order_id });
    await source('orders').insert({ ...last, order_id: 9_000_000_001, ordered_at: `${nextDay.day}T00:00:04Z` });
    await source('order_items').insert(lastItems.map((item: { order_item_id: string }, i: number) => ({ ...item, order_item_id: 9_000_000_100 + i, order_id: 9_000_000_001, created_at: `${nextDay.day}T00:00:04Z` })));
    await etl(nextDay.day);
    const doubled = await w.resources.warehouse('ops.exceptions').where({ logical_date: nextDay.day, category: 'DUPLICATE_RECORD' }).whereIn('source_id', ['9000000001', ...lastItems.map((_: unknown, i: number) => String(9_000_000_100 + i))]).pluck('reason');
    assert.equal(doubled.length, 1 + lastItems.length, 'the order after midnight and its items are duplicates');
    assert.match(doubled.join('\n'), new RegExp(`already placed as order ${String(last.order_id)}`));
    const db = w.resources.warehouse;
    const versions = await db('warehouse.dim_customer').select('customer_id').count<{ customer_id: string; count: string }[]>('* as count').groupBy('customer_id').havingRaw('count(*) > 1');
    assert.ok(versions.length > 0, 'some customers have two versions');
    const id = versions[0]!.customer_id;
    const history = await db('warehouse.dim_customer').where({ customer_id: id }).orderBy('valid_from');
    assert.equal(history.filter((v) => v.is_current).length, 1);
    assert.equal(new Date(history[0].valid_to).getTime(), new Date(history[1].valid_from).getTime(), 'the old version ends where the new one starts');
    const wrongVersion = await db.raw<{ rows: unknown[] }>(
      `select f.line_id from warehouse.fact_sales f join warehouse.dim_customer c on c.customer_key = f.customer_key
       where f.source = 'shop' and not (c.valid_from <= f.ordered_at and (c.valid_to is null or f.ordered_at < c.valid_to))`,
    );
    assert.deepEqual(wrongVersion.rows, [], 'every sale points at the version valid when it was made');
  });
});

describe('hostile partner files', () => {
  test('every line is loaded or quarantined under the right category, and the run succeeds', async () => {
    const day = '2026-03-20'; // no shop data that day: only what is written here
    const sku = String((await source('products').orderBy('product_id').first()).sku);
    const good = (id: string) => `${id},${day},North,${sku},2,10.00`;
    const header = 'order_id,order_date,region,product,quantity,revenue';
    const gzipped = zlib.gzipSync(`${header}\n${Array.from({ length: 5000 }, (_, i) => good(`GZ-${i}`)).join('\n')}\n`);
    const files: Record<string, Buffer | string> = {
      'bom_crlf.csv': `\uFEFF${header}\r\n${good('A-1')}\r\n"A-2",${day},North,${sku},"1\n2",5.00\r\n${good('A-3')}\r\n`,
      'reordered_header.csv': `revenue,quantity,product,region,order_date,order_id\n10.00,2,${sku},North,${day},B-1\n`,
      'wrong_header.csv': `id,date,area,sku,qty,amount\nC-1,${day},North,${sku},2,10.00\nC-2,${day},North,${sku},2,10.00\n`,
      'extra_fields.csv': `${header}\n${good('D-1')},surprise\n${good('D-2')}\n`,
      'empty.csv': '',
      'header_only.csv': `${header}\n`,
      'bad_utf8.csv': Buffer.concat([Buffer.from(`${header}\nE-1,${day},North,`), Buffer.from([0xc3, 0x28]), Buffer.from(`,2,10.00\n${good('E-2')}\n`)]),
      'overflow.csv': `${header}\nF-1,${day},North,${sku},2,99999999999999999999.00\nF-2,${day},North,${sku},99999999999,10.00\nF-3,${day},North,${sku},2,-0.01\n`,
      'truncated.csv.gz': gzipped.subarray(0, Math.floor(gzipped.length / 2)),
      'not_gzip.csv.gz': `${header}\n${good('G-1')}\n`,
      'lines.ndjson': `{"order_id":"H-1","order_date":"${day}","region":"North","product":"${sku}","quantity":2,"revenue":10}\n{"order_id":"H-2",\n[]\n`,
      'notes.txt': 'not a data file',
    };
    for (const [name, body] of Object.entries(files)) {
      await s3.send(new PutObjectCommand({ Bucket: config.s3.bucket, Key: `landing/partner_sales/dt=${day}/${name}`, Body: body }));
    }
    const recoverable = zlib.gunzipSync(files['truncated.csv.gz'] as Buffer, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString().split('\n').length - 2;

    await etl(day);
    const db = w.resources.warehouse;
    const audit = await db('ops.audit_log').where({ dag_id: 'daily_etl', logical_date: day, source: 'partner_sales' }).first();
    const categories = Object.fromEntries(
      (await db('ops.exceptions').where({ logical_date: day, source: 'partner_sales' }).groupBy('category').select('category', db.raw('count(*)::int as n'))).map((r: { category: string; n: number }) => [r.category, r.n]),
    );
    const loaded = 2 + 1 + 1 + 1 + recoverable + 1; // A-1, A-3; B-1; D-2; E-2; the gzip's readable part; H-1
    const wrongHeader = await db('ops.exceptions').where({ logical_date: day, source: 'partner_sales' }).andWhere('source_file', 'like', '%wrong_header.csv').orderBy('source_line').pluck('source_line');
    assert.deepEqual(wrongHeader, [1, 2, 3]);
    assert.deepEqual(categories, {
      // A-2's quantity; all three lines of the file without a known header (its first line may be
      // data: it is kept, not guessed away); D-1; E-1; F-1, F-2; H-2 and []
      DATA_FORMAT_ERROR: 1 + 3 + 1 + 1 + 2 + 2,
      BUSINESS_RULE_VIOLATION: 1, // F-3's negative revenue
      FILE_UNREADABLE: 3, // the truncated gzip's rest, the fake gzip, the .txt
    });
    assert.equal(Number(audit.records_loaded), loaded);
    assert.equal(Number(audit.records_in), Number(audit.records_loaded) + Number(audit.records_quarantined));
  });
});

describe('the DAGs that build on daily_etl', () => {
  test('quality_checks passes every blocking check on each loaded day, with a score per table', async () => {
    for (const day of DAYS.slice(0, 3)) await run('quality_checks', dailyRunDate(day));
    const scores = await w.resources.warehouse('ops.quality_scores').where({ dag_id: 'quality_checks' }).whereIn('logical_date', DAYS.slice(0, 3));
    assert.equal(scores.length, 3 * 4, 'four tables a day');
    assert.deepEqual(scores.filter((s) => Number(s.failed_blocking) > 0), []);
  });

  test('ml_features ignores data after its as-of date: recomputed after the week loaded, the same features', async () => {
    assert.ok(earlyFeatures, 'features were computed before the later days were loaded');
    assert.ok(!earlyFeatures.table.startsWith('0:'), 'there are features');
    await run('ml_features', dailyRunDate(DAYS[0]!), { rerun: true });
    assert.deepEqual(await featuresSnapshot(DAYS[0]!), earlyFeatures);
  });

  test('weekly_reports sums the week the warehouse holds', async () => {
    // The run on the Monday after the week reports it; it waits for that Monday's daily_etl (Sunday).
    await run('weekly_reports', dailyRunDate(DAYS.at(-1)!));
    const total = await w.resources.warehouse('gold.weekly_sales').where({ week_start: DAYS[0], dimension: 'total' }).first();
    const facts = await w.resources.warehouse('warehouse.fact_sales').whereBetween('date_key', [Number(DAYS[0]!.replaceAll('-', '')), Number(DAYS.at(-1)!.replaceAll('-', ''))]).sum<{ sum: string }[]>('revenue as sum');
    assert.equal(Number(total?.revenue).toFixed(2), Number(facts[0]!.sum).toFixed(2));
    assert.ok((await lakeListing(s3, config.s3.bucket, 'gold/reports/week=2026-W10/')).length >= 4, 'CSV reports for 2026-W10');
  });

  test('hourly_aggregation agrees with the warehouse on the hours it covers', async () => {
    await run('hourly_aggregation', new Date(`${DAYS[1]!}T14:00:00Z`));
    const gold = await w.resources.warehouse('gold.hourly_sales').where('hour', '>=', `${DAYS[1]!}T10:00:00Z`).andWhere('hour', '<', `${DAYS[1]!}T14:00:00Z`).sum<{ sum: string }[]>('revenue as sum');
    const facts = await w.resources.warehouse('warehouse.fact_sales').where({ source: 'shop' }).andWhere('ordered_at', '>=', `${DAYS[1]!}T10:00:00Z`).andWhere('ordered_at', '<', `${DAYS[1]!}T14:00:00Z`).sum<{ sum: string }[]>('revenue as sum');
    assert.ok(Number(facts[0]!.sum) > 0);
    assert.equal(Number(gold[0]!.sum).toFixed(2), Number(facts[0]!.sum).toFixed(2));
  });

  test('every pipeline task recorded OpenLineage events', async () => {
    const events = await w.resources.warehouse('ops.lineage').where('run_id', `daily_etl-${DAYS[2]!}T00:00:00Z`).select('job_name', 'event');
    const jobs = new Set(events.map((e: { job_name: string }) => e.job_name));
    for (const task of ['extractOrderItems', 'validateShopSales', 'loadFactSales', 'auditDay']) assert.ok(jobs.has(`daily_etl.${task}`), `lineage of ${task}`);
    const load = events.find((e: { job_name: string }) => e.job_name === 'daily_etl.loadFactSales') as { event: { eventType: string; outputs: Array<{ name: string }>; run: { facets: { parent: { job: { name: string } } } } } };
    assert.equal(load.event.eventType, 'COMPLETE');
    assert.ok(load.event.outputs.some((o) => o.name.endsWith('.warehouse.fact_sales')));
    assert.equal(load.event.run.facets.parent.job.name, 'daily_etl');
  });
});

async function readParquet(key: string): Promise<Record<string, unknown>[]> {
  const object = await s3.send(new GetObjectCommand({ Bucket: config.s3.bucket, Key: key }));
  const bytes = await object.Body!.transformToByteArray();
  return parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
}

interface ExceptionRow {
  source: string;
  category: string;
  source_id: string | null;
  source_file: string | null;
  source_line: number | null;
  reason: string;
}

function iso(value: Date | string): string {
  return value instanceof Date ? value.toISOString().slice(0, 10) : String(value).slice(0, 10);
}
