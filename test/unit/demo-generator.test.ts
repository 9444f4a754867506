/**
 * The demo data generator without a database: the same arguments give the same data, a longer
 * seed repeats the days of a shorter one, the injected problems come at the design's rates and
 * are where the manifest says, and the truncated upload yields what a streaming reader recovers.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { parse } from 'csv-parse';
import { DemoWorld, type DemoOptions, type SeededProblem } from '../../server/demo';
import { partnerProblems, readLandingFile } from '../support/partner-lines';

const OPTIONS: DemoOptions = { seed: 7, start: '2026-11-19', days: 3, ordersPerDay: 120, sessionsPerOrder: 3 };

interface DayDigest {
  summary: unknown;
  problems: SeededProblem[];
  shop: string;
  files: Record<string, string>;
  signups: string;
  changes: string;
}

const sha = (value: unknown) => createHash('sha256').update(typeof value === 'string' ? value : JSON.stringify(value)).digest('hex');

/** Everything a world generates, day by day, as digests. */
function generate(options: DemoOptions): { base: string; days: DayDigest[]; products: string; customers: string } {
  const world = new DemoWorld(options);
  const base = sha([...world.customerRows()]); // before the first day: the base alone
  const days = [...world.days()].map((day): DayDigest => {
    const files = Object.fromEntries(day.partnerFiles().map((f) => [f.key, sha(f.body.toString('base64'))]));
    const shop = createHash('sha256');
    for (const batch of day.shop()) shop.update(JSON.stringify(batch));
    return { summary: day.summary(), problems: day.problems(), shop: shop.digest('hex'), files, signups: sha(day.signups), changes: sha(day.customerChanges) };
  });
  return { base, days, products: sha(world.products()), customers: sha([...world.customerRows()]) };
}

test('the same arguments give the same rows, files and manifest', () => {
  assert.deepEqual(generate(OPTIONS), generate(OPTIONS));
});

test('another seed gives other data', () => {
  const a = generate(OPTIONS);
  const b = generate({ ...OPTIONS, seed: 8 });
  assert.notEqual(a.days[0]?.shop, b.days[0]?.shop);
  assert.notEqual(a.base, b.base);
});

test('--days 4 repeats the three days of --days 3 exactly', () => {
  const three = generate(OPTIONS);
  const four = generate({ ...OPTIONS, days: 4 });
  assert.equal(four.days.length, 4);
  assert.equal(four.base, three.base);
  assert.deepEqual(four.days.slice(0, 3), three.days);
});

test('orders and events do not depend on the clickstream setting', () => {
  const world = (sessionsPerOrder: number) => {
    const day = [...new DemoWorld({ ...OPTIONS, days: 1, sessionsPerOrder }).days()][0];
    assert.ok(day);
    const orders = [];
    let events = 0;
    for (const batch of day.shop()) {
      orders.push(...batch.orders, ...batch.items);
      events += batch.events.length;
    }
    return { orders: sha(orders), events };
  };
  const none = world(0);
  const some = world(3);
  assert.equal(none.events, 0);
  assert.ok(some.events > 0);
  assert.equal(none.orders, some.orders);
});

test('volumes, distributions and problem rates follow the design', () => {
  const world = new DemoWorld({ seed: 42, start: '2026-11-18', days: 5, ordersPerDay: 20_000, sessionsPerOrder: 3 });
  const perDay = [];
  for (const day of world.days()) {
    let orders = 0;
    let items = 0;
    const hours = new Array<number>(24).fill(0);
    const sessions = new Map<string, boolean>();
    const orderIds = new Set<number>();
    const itemOrderIds: number[] = [];
    for (const batch of day.shop()) {
      for (const o of batch.orders) {
        orders++;
        orderIds.add(o.orderId);
        const hour = new Date(o.orderedAt).getUTCHours();
        hours[hour] = (hours[hour] ?? 0) + 1;
        assert.ok(o.orderedAt >= day.day.startMs && o.orderedAt < day.day.endMs);
      }
      for (const i of batch.items) {
        items++;
        itemOrderIds.push(i.orderId);
        assert.ok(i.createdAt >= day.day.startMs && i.createdAt < day.day.endMs);
      }
      for (const e of batch.events) {
        sessions.set(e.sessionId, e.customerId === null);
        assert.ok(e.occurredAt >= day.day.startMs && e.occurredAt < day.day.endMs, 'events stay in their day');
      }
    }
    const summary = day.summary();
    const problems = day.problems();
    const count = (source: string, kind: string) => problems.filter((p) => p.source === source && p.kind === kind).length;
    const dupOrders = count('shop.orders', 'duplicate_order');
    const originals = orders - dupOrders;
    const dupItems = count('shop.order_items', 'duplicate_order_item');
    const orphans = count('shop.order_items', 'orphan_item');
    const cleanable = items - dupItems - orphans - dupItems; // items of duplicated orders are never corrupted
    assert.equal(summary.orders, orders);
    assert.equal(summary.orderItems, items);
    near(dupOrders / originals, 0.02, 0.001, 'duplicate orders');
    near(count('shop.order_items', 'bad_quantity') / cleanable, 0.01, 0.001, 'bad item quantities');
    near(count('shop.order_items', 'unknown_product') / cleanable, 0.005, 0.001, 'unknown item products');
    near(orphans / (items - orphans), 0.005, 0.001, 'orphan items');
    assert.equal(itemOrderIds.filter((id) => !orderIds.has(id)).length, orphans, 'orphans, and only they, point at no order');
    near((items - orphans - dupItems) / originals, 2.5, 0.15, 'items per order');
    const anonymous = [...sessions.values()].filter(Boolean).length / sessions.size;
    near(anonymous, 0.3, 0.03, 'anonymous sessions');
    // Quiet nights, busy lunch and evening.
    assert.ok((hours[3] as number) * 5 < (hours[12] as number) && (hours[3] as number) * 5 < (hours[19] as number), `hours ${hours.join(',')}`);

    const partnerRows = summary.files.reduce((s, f) => s + f.rows, 0);
    const partner = (kind: string) => count('partner_sales', kind);
    const regularRows = summary.files.filter((f) => !f.key.endsWith('late_upload.csv.gz')).reduce((s, f) => s + f.rows, 0);
    near(partner('duplicate_line') / (regularRows - partner('duplicate_line')), 0.02, 0.003, 'duplicate partner lines');
    near(partner('missing_date') / partnerRows, 0.05, 0.005, 'missing dates');
    near(partner('negative_revenue') / partnerRows, 0.015, 0.003, 'negative revenue');
    for (const kind of ['unknown_region', 'unknown_product', 'malformed_date', 'malformed_number']) near(partner(kind) / partnerRows, 0.005, 0.002, kind);
    perDay.push({ day: day.day, orders: originals, partnerRows });
  }
  // 2026-11-21 and -22 are a weekend: ~30% busier than the weekdays before them.
  const [wed, , , sat, sun] = perDay;
  assert.ok(wed && sat && sun);
  near(sat.orders / wed.orders, 1.3, 0.15, 'weekend orders');
  near(sun.orders / wed.orders, 1.3, 0.15, 'weekend orders');
  near(wed.partnerRows / wed.orders, 0.5, 0.1, 'partner rows per order');
});

test('every partner problem is on the line the manifest names, and clean lines have none', async () => {
  const world = new DemoWorld({ ...OPTIONS, days: 2, ordersPerDay: 800 });
  const skus = new Set(world.products().map((p) => p.sku));
  for (const day of world.days()) {
    const files = day.partnerFiles();
    for (const _batch of day.shop()) {
      // the problems of the shop are not looked at here
    }
    const problems = day.problems().filter((p) => p.source === 'partner_sales');
    for (const file of files) {
      const lines = readLandingFile(file.key, file.body);
      assert.equal(lines.records.length, file.rows, `${file.key}: rows`);
      const listed = new Map(problems.filter((p) => p.file === file.key && p.kind !== 'truncated_file').map((p) => [p.line, p.kind]));
      const seen = new Set<string>();
      for (const { line, text, record } of lines.records) {
        const found = partnerProblems(record, skus, day.day.date, file.format === 'ndjson');
        if (seen.has(text)) found.push('duplicate_line');
        seen.add(text);
        assert.deepEqual(found, listed.has(line) ? [listed.get(line)] : [], `${file.key} line ${line}: ${text}`);
      }
      assert.ok([...listed.keys()].every((line) => line !== undefined && line <= (lines.records.at(-1)?.line ?? 0)));
    }
  }
});

test('the truncated upload: what a streaming gunzip and CSV reader recover, then one FILE_UNREADABLE', async () => {
  const day = [...new DemoWorld(OPTIONS).days()][0];
  assert.ok(day);
  const file = day.partnerFiles().find((f) => f.key.endsWith('/late_upload.csv.gz'));
  assert.ok(file);
  let recovered = 0;
  const failure = await pipeline(Readable.from([file.body]), zlib.createGunzip(), parse({ columns: true }), async (records: AsyncIterable<unknown>) => {
    for await (const _ of records) recovered++;
  }).then(() => undefined, (err: Error) => err);
  assert.ok(failure, 'reading the truncated file fails');
  assert.equal(recovered, file.rows);
  const unreadable = day.problems().filter((p) => p.category === 'FILE_UNREADABLE');
  assert.deepEqual(unreadable.map((p) => [p.file, p.line]), [[file.key, file.rows + 2]]);
  // Problems in the lost part are not listed.
  const lateLines = day.problems().filter((p) => p.file === file.key && p.category !== 'FILE_UNREADABLE').map((p) => p.line as number);
  assert.ok(lateLines.every((line) => line <= file.rows + 1));
  // Only the first day gets one.
  const later = [...new DemoWorld(OPTIONS).days()].slice(1);
  assert.ok(later.every((d) => d.partnerFiles().every((f) => !f.key.endsWith('late_upload.csv.gz'))));
});

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} is not ${expected} ± ${tolerance}`);
}

