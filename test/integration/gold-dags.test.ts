/**
 * hourly_aggregation, ml_features and weekly_reports on the real stack, over a small hand-made data
 * set in March 2031 (no other test's data is there): hourly gold equals an independent SQL over the
 * source, reruns change nothing, late data lands, features are point in time, and the weekly table
 * and CSV reports hold the numbers worked out by hand below.
 */
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import type { WorkflowHandle } from '@temporalio/client';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Knex } from 'knex';
import { parquetReadObjects } from 'hyparquet';
import { FEATURE_COLUMNS } from '../../activities/gold/features-sql';
import { HOURLY_SALES_COLUMNS, HOURLY_TRAFFIC_COLUMNS } from '../../activities/gold/hourly-sql';
import { isoWeekOf } from '../../activities/gold/periods';
import { weekQuality } from '../../activities/gold/weekly-sql';
import { compileDag, type DagDefinition } from '../../dags/sdk';
import hourlyAggregation from '../../dags/hourly_aggregation';
import mlFeatures from '../../dags/ml_features';
import weeklyReports from '../../dags/weekly_reports';
import { runIdFor } from '../../server/client/run-id';
import { createShopSchema } from '../../server/demo/shop-schema';
import { startDagRun } from '../../server/client/start-run';
import { stateQuery } from '../../workflows/messages';
import type { DagSpec } from '../../workflows/spec';
import { taskStates, waitForStatus } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-gold-dags';
const DAGS = [hourlyAggregation, mlFeatures, weeklyReports];
let w: TestWorker;
let warehouse: Knex;
let source: Knex;
const specs = new Map<string, DagSpec>();

/** Ids of this file's rows, far from anything a seed or another test writes. */
const ID = 9_100_000;

before(async () => {
  for (const d of DAGS) {
    const { spec, errors } = compileDag(d);
    assert.deepEqual(errors, []);
    // On this file's queue, sensors poking every 300 ms, and a failed task fails the run instead
    // of waiting for an operator.
    const tasks = spec.tasks.map(({ taskQueue: _own, ...t }) => (t.sensor ? { ...t, sensor: { ...t.sensor, pokeIntervalMs: 300 } } : t));
    specs.set(d.dagId, { ...spec, taskQueue: TQ, operatorWindowMs: 0, tasks });
  }
  w = await startTestWorker([...new Set(DAGS.flatMap((d) => compileDag(d).tasks))], TQ);
  ({ warehouse, source } = w.resources);
  await createShopSchema(source);
  await seedShop(source);
  await seedWarehouse(warehouse);
});

after(async () => {
  if (w) await cleanUp();
  await w?.stop();
});

/** Starts the run of a logical date (`rerun`: again, though it succeeded). */
async function start(definition: DagDefinition, logicalDate: string, rerun = false): Promise<WorkflowHandle> {
  const spec = specs.get(definition.dagId);
  assert.ok(spec);
  return (await startDagRun(w.client, spec, { logicalDate: new Date(logicalDate), params: {}, trigger: 'manual', rerun })).handle;
}

/** Waits for a run's end and returns its tasks' outputs; a failed run throws with its tasks' errors. */
async function outputsOf(handle: WorkflowHandle): Promise<Record<string, unknown>> {
  try {
    await handle.result();
  } catch (err) {
    const status = await handle.query(stateQuery);
    throw new Error(`${handle.workflowId} failed: ${JSON.stringify(status.tasks.map((t) => [t.id, t.state, t.error]))}`, { cause: err });
  }
  const status = await handle.query(stateQuery);
  return Object.fromEntries(status.tasks.map((t) => [t.id, t.output]));
}

const run = async (definition: DagDefinition, logicalDate: string, rerun = false) => outputsOf(await start(definition, logicalDate, rerun));

const rows = async <T>(db: Knex, sql: string, bindings: Knex.RawBinding[] = []): Promise<T[]> =>
  ((await db.raw(sql, bindings)) as { rows: T[] }).rows;

// ---------------------------------------------------------------------------------------------
// Source database `shop`: the demo seed's tables, with this file's own rows

const C1 = ID + 1; // North, signed up 2031-01-01 08:00
const C2 = ID + 2; // South, signed up 2031-03-01
const C3 = ID + 3; // signs up at the features cutoff: not in as_of 2031-03-11
const GARDEN = ID + 1;
const KITCHEN = ID + 2;

let eventId = ID;
const event = (session: string, customer: number | null, type: string, at: string) =>
  ({ event_id: ++eventId, session_id: `gold-${session}`, customer_id: customer, event_type: type, product_id: null, occurred_at: at });

let itemId = ID;
/** An order with its items; items' created_at is the order's ordered_at, as in the source. */
async function order(db: Knex, id: number, number: string, customer: number, at: string, items: Array<[product: number, quantity: number, price: number]>): Promise<void> {
  await db('orders').insert({ order_id: id, order_number: number, customer_id: customer, channel: 'web', ordered_at: at });
  if (items.length > 0) {
    await db('order_items').insert(items.map(([product_id, quantity, unit_price]) => ({ order_item_id: ++itemId, order_id: id, product_id, quantity, unit_price, created_at: at })));
  }
}

async function seedShop(db: Knex): Promise<void> {
  const stamp = '2031-01-01T00:00:00Z';
  await db('customers').insert([
    { customer_id: C1, name: 'Ada', email: 'ada@example.com', city: 'Oslo', region: 'North', segment: 'consumer', created_at: '2031-01-01T08:00:00Z', updated_at: stamp },
    { customer_id: C2, name: 'Bo', email: 'bo@example.com', city: 'Rome', region: 'South', segment: 'corporate', created_at: '2031-03-01T12:00:00Z', updated_at: stamp },
  ]);
  await db('products').insert([
    { product_id: GARDEN, sku: 'SKU-T91001', name: 'Rake', category: 'Garden', price: 10, created_at: stamp, updated_at: stamp },
    { product_id: KITCHEN, sku: 'SKU-T91002', name: 'Pan "Pro"', category: 'Kitchen, Home', price: 25, created_at: stamp, updated_at: stamp },
  ]);
  // 2031-03-10, hours 10 to 14 UTC.
  await order(db, ID + 1, 'T-1', C1, '2031-03-10T10:15:00Z', [[GARDEN, 2, 10], [KITCHEN, 1, 25]]);
  await order(db, ID + 2, 'T-2', C2, '2031-03-10T10:40:00Z', [[GARDEN, 1, 10]]);
  await order(db, ID + 3, 'T-2', C2, '2031-03-10T10:41:00Z', [[GARDEN, 1, 10]]); // double submit: ignored
  // Quantity 0 and -1, an unknown product: ignored; the last item counts.
  await order(db, ID + 4, 'T-4', C1, '2031-03-10T11:05:00Z', [[KITCHEN, 0, 25], [KITCHEN, -1, 25], [ID + 999, 1, 5], [GARDEN, 3, 9.5]]);
  await order(db, ID + 5, 'T-5', ID + 77, '2031-03-10T12:30:00Z', [[GARDEN, 1, 10]]); // customer not in the source
  await order(db, ID + 6, 'T-6', C2, '2031-03-10T13:59:59Z', [[KITCHEN, 2, 24]]);
  await order(db, ID + 7, 'T-7', C2, '2031-03-10T14:00:00Z', [[KITCHEN, 1, 25]]); // after the 14:00 run's interval
  // An orphan item (no such order): ignored.
  await db('order_items').insert({ order_item_id: ++itemId, order_id: ID + 500, product_id: GARDEN, quantity: 5, unit_price: 10, created_at: '2031-03-10T10:20:00Z' });

  await db('events').insert([
    event('s1', C1, 'page_view', '2031-03-10T10:01:00Z'),
    event('s1', C1, 'add_to_cart', '2031-03-10T10:05:00Z'),
    event('s1', C1, 'checkout', '2031-03-10T10:10:00Z'),
    event('s1', C1, 'purchase', '2031-03-10T10:12:00Z'),
    event('s2', null, 'page_view', '2031-03-10T10:20:00Z'),
    event('s2', null, 'page_view', '2031-03-10T10:25:00Z'),
    event('s3', null, 'page_view', '2031-03-10T10:58:00Z'),
    event('s3', null, 'purchase', '2031-03-10T11:02:00Z'), // one session, two hours
    // For ml_features (as of 2031-03-11, cutoff 2031-03-12T00:00Z): C1 had sessions s1 (above),
    // a and b in the 7 days, c in the 30 days; d is older, e is at the cutoff.
    event('a', C1, 'page_view', '2031-03-11T12:00:00Z'),
    event('a', C1, 'page_view', '2031-03-11T12:05:00Z'),
    event('b', C1, 'page_view', '2031-03-05T00:00:00Z'),
    event('c', C1, 'page_view', '2031-02-20T09:00:00Z'),
    event('d', C1, 'page_view', '2031-02-01T09:00:00Z'),
    event('e', C1, 'page_view', '2031-03-12T00:00:00Z'),
  ]);
}

// ---------------------------------------------------------------------------------------------
// hourly_aggregation

const hourText = `to_char(hour at time zone 'UTC', 'YYYY-MM-DD"T"HH24')`;

/** What gold holds for [from, to), values as text. */
const goldSales = (from: string, to: string) =>
  rows<Record<string, string>>(
    warehouse,
    `select ${hourText} as hour, region, category, revenue::text, orders::text, units::text, avg_order_value::text
       from gold.hourly_sales where hour >= ? and hour < ? order by 1, 2, 3`,
    [from, to],
  );

/** The same, computed independently over the source: duplicates by row_number, no item time filter. */
const expectedSales = (from: string, to: string) =>
  rows<Record<string, string>>(
    source,
    `with first_orders as (
       select * from (select o.*, row_number() over (partition by order_number order by order_id) as n from orders o) x where n = 1
     ), lines as (
       select to_char(o.ordered_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24') as hour, coalesce(c.region, 'Unknown') as region, p.category,
              o.order_id, i.quantity, i.quantity * i.unit_price as amount
         from order_items i
         join first_orders o on o.order_id = i.order_id
         join products p on p.product_id = i.product_id
         left join customers c on c.customer_id = o.customer_id
        where i.quantity > 0 and i.unit_price >= 0 and o.ordered_at >= ? and o.ordered_at < ?
     )
     select hour, region, category, sum(amount)::numeric(14,2)::text as revenue, count(distinct order_id)::text as orders,
            sum(quantity)::text as units, round(sum(amount) / count(distinct order_id), 2)::text as avg_order_value
       from lines group by 1, 2, 3 order by 1, 2, 3`,
    [from, to],
  );

const goldTraffic = (from: string, to: string) =>
  rows<Record<string, string>>(
    warehouse,
    `select ${hourText} as hour, sessions::text, page_views::text, cart_adds::text, checkouts::text, purchases::text, conversion_rate::text
       from gold.hourly_traffic where hour >= ? and hour < ? order by 1`,
    [from, to],
  );

const expectedTraffic = (from: string, to: string) =>
  rows<Record<string, string>>(
    source,
    `with per_session as (
       select to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24') as hour, session_id,
              sum((event_type = 'page_view')::int) as pv, sum((event_type = 'add_to_cart')::int) as ca,
              sum((event_type = 'checkout')::int) as co, sum((event_type = 'purchase')::int) as pu
         from events where occurred_at >= ? and occurred_at < ? group by 1, 2
     )
     select hour, count(*)::text as sessions, sum(pv)::text as page_views, sum(ca)::text as cart_adds, sum(co)::text as checkouts,
            sum(pu)::text as purchases, round(avg((pu > 0)::int), 4)::text as conversion_rate
       from per_session group by 1 order by 1`,
    [from, to],
  );

/** Every stored column but updated_at, which a rerun moves on. */
const goldState = async () => ({
  sales: await rows(warehouse, `select ${[...HOURLY_SALES_COLUMNS].join(', ')} from gold.hourly_sales where hour >= '2031-03-10' and hour < '2031-03-11' order by 1, 2, 3`),
  traffic: await rows(warehouse, `select ${[...HOURLY_TRAFFIC_COLUMNS].join(', ')} from gold.hourly_traffic where hour >= '2031-03-10' and hour < '2031-03-11' order by 1`),
});

describe('hourly_aggregation', () => {
  test('the 14:00 run fills 10:00-13:00 with what the source says, validity rules applied', async () => {
    const outputs = await run(hourlyAggregation, '2031-03-10T14:00:00Z');
    assert.deepEqual(outputs.aggregateHourlySales, { hours: { from: '2031-03-10T10:00:00.000Z', to: '2031-03-10T14:00:00.000Z' }, rows: 6 });

    const sales = await goldSales('2031-03-10T00:00Z', '2031-03-11T00:00Z');
    assert.deepEqual(sales, await expectedSales('2031-03-10T10:00Z', '2031-03-10T14:00Z'), 'nothing outside the window, and no 14:00 order');
    // By hand: hour 10 has T-1 (C1, North) and T-2 (C2, South); its double submit and the orphan are ignored;
    // hour 11 has T-4's one valid item; 13:59:59 belongs to hour 13.
    const sale = (hour: string, region: string, category: string, revenue: string, orders: number, units: number, aov: string) =>
      ({ hour: `2031-03-10T${hour}`, region, category, revenue, orders: String(orders), units: String(units), avg_order_value: aov });
    assert.deepEqual(sales, [
      sale('10', 'North', 'Garden', '20.00', 1, 2, '20.00'),
      sale('10', 'North', 'Kitchen, Home', '25.00', 1, 1, '25.00'),
      sale('10', 'South', 'Garden', '10.00', 1, 1, '10.00'),
      sale('11', 'North', 'Garden', '28.50', 1, 3, '28.50'),
      sale('12', 'Unknown', 'Garden', '10.00', 1, 1, '10.00'),
      sale('13', 'South', 'Kitchen, Home', '48.00', 1, 2, '48.00'),
    ]);

    const traffic = await goldTraffic('2031-03-10T00:00Z', '2031-03-11T00:00Z');
    assert.deepEqual(traffic, await expectedTraffic('2031-03-10T10:00Z', '2031-03-10T14:00Z'));
    assert.deepEqual(traffic, [
      { hour: '2031-03-10T10', sessions: '3', page_views: '4', cart_adds: '1', checkouts: '1', purchases: '1', conversion_rate: '0.3333' },
      { hour: '2031-03-10T11', sessions: '1', page_views: '0', cart_adds: '0', checkouts: '0', purchases: '1', conversion_rate: '1.0000' },
    ]);
  });

  test('a rerun of the same hour changes nothing', async () => {
    const before = await goldState();
    await run(hourlyAggregation, '2031-03-10T14:00:00Z', true);
    assert.deepEqual(await goldState(), before);
  });

  test('the next run lands a late event and a late order in earlier hours, and drops a group that vanished', async () => {
    await source('events').insert(event('late', null, 'page_view', '2031-03-10T11:30:00Z'));
    await order(source, ID + 8, 'T-8', C1, '2031-03-10T11:50:00Z', [[KITCHEN, 1, 25]]);
    // T-5 turns out to be a second submit of T-1: its hour-12 group must go.
    await source('orders').where('order_id', ID + 5).update({ order_number: 'T-1' });

    const hour10 = await goldSales('2031-03-10T10:00Z', '2031-03-10T11:00Z');
    await run(hourlyAggregation, '2031-03-10T15:00:00Z');
    assert.deepEqual(await goldSales('2031-03-10T11:00Z', '2031-03-10T15:00Z'), await expectedSales('2031-03-10T11:00Z', '2031-03-10T15:00Z'));
    assert.deepEqual(await goldTraffic('2031-03-10T11:00Z', '2031-03-10T15:00Z'), await expectedTraffic('2031-03-10T11:00Z', '2031-03-10T15:00Z'));
    assert.deepEqual(await goldSales('2031-03-10T10:00Z', '2031-03-10T11:00Z'), hour10, 'hour 10 is outside the window: untouched');

    const [hour11] = await goldTraffic('2031-03-10T11:00Z', '2031-03-10T12:00Z');
    assert.equal(hour11?.sessions, '2');
    assert.equal(hour11?.conversion_rate, '0.5000');
    const lateOrder = await rows(warehouse, `select revenue::text from gold.hourly_sales where hour = '2031-03-10T11:00Z' and category = 'Kitchen, Home'`);
    assert.deepEqual(lateOrder, [{ revenue: '25.00' }]);
    assert.deepEqual(await rows(warehouse, `select * from gold.hourly_sales where hour = '2031-03-10T12:00Z'`), [], 'no lingering group');
    const hour14 = await rows(warehouse, `select revenue::text from gold.hourly_sales where hour = '2031-03-10T14:00Z'`);
    assert.deepEqual(hour14, [{ revenue: '25.00' }]);
  });
});

// ---------------------------------------------------------------------------------------------
// Warehouse star schema (ml_features and weekly_reports read it; daily_etl would have loaded it)

const productKeys = new Map<string, number>();
const customerKeys: Record<'c1v1' | 'c1v2' | 'c2', number> = { c1v1: 0, c1v2: 0, c2: 0 };
let lineId = 0;

interface Fact {
  source?: 'shop' | 'partner_sales';
  order: string;
  day: string;
  at?: string;
  customer?: number;
  sku: string;
  region: string;
  quantity: number;
  revenue: number;
}

const fact = (f: Fact) => ({
  source: f.source ?? 'shop',
  line_id: `gold-test-${++lineId}`,
  order_id: f.order,
  date_key: Number(f.day.replaceAll('-', '')),
  ordered_at: f.at ?? null,
  customer_key: f.customer ?? null,
  product_key: productKeys.get(f.sku),
  region: f.region,
  channel: f.source === 'partner_sales' ? 'partner' : 'web',
  quantity: f.quantity,
  unit_price: f.revenue / f.quantity,
  revenue: f.revenue,
  load_date: f.day,
  run_id: 'gold-test',
});

const TOY_SKUS = Array.from({ length: 10 }, (_, i) => `SKU-T9${String(i + 3).padStart(4, '0')}`); // revenue 1..10

async function seedWarehouse(db: Knex): Promise<void> {
  const products = [
    { product_id: GARDEN, sku: 'SKU-T91001', name: 'Rake', category: 'Garden' },
    { product_id: KITCHEN, sku: 'SKU-T91002', name: 'Pan "Pro"', category: 'Kitchen, Home' },
    ...TOY_SKUS.map((sku, i) => ({ product_id: ID + 3 + i, sku, name: `Toy ${i + 1}`, category: 'Toys' })),
  ];
  // Keys from the sequence: a hand-picked key would collide with a later load's.
  const inserted = await db('warehouse.dim_product')
    .insert(products.map((p) => ({ ...p, price: 10, updated_at: '2031-01-01T00:00:00Z', run_id: 'gold-test' })))
    .returning(['sku', 'product_key']);
  for (const p of inserted as Array<{ sku: string; product_key: string }>) productKeys.set(p.sku, Number(p.product_key));

  const customer = (id: number, region: string, from: string, to: string | null) => ({
    customer_id: id, name: 'x', email: 'x@example.com', city: 'x', region, segment: 'consumer', valid_from: from, valid_to: to, is_current: to === null, run_id: 'gold-test',
  });
  const keys = (await db('warehouse.dim_customer')
    .insert([customer(C1, 'North', '2031-01-01T08:00:00Z', '2031-03-05T00:00:00Z'), customer(C1, 'East', '2031-03-05T00:00:00Z', null), customer(C2, 'South', '2031-03-01T12:00:00Z', null)])
    .returning('customer_key')) as Array<{ customer_key: string }>;
  [customerKeys.c1v1, customerKeys.c1v2, customerKeys.c2] = keys.map((k) => Number(k.customer_key)) as [number, number, number];

  await db('warehouse.fact_sales').insert([
    // C1: W-1 under the first version of the customer, W-2 and W-3 under the second.
    fact({ order: 'W-1', day: '2031-02-01', at: '2031-02-01T10:00:00Z', customer: customerKeys.c1v1, sku: 'SKU-T91001', region: 'North', quantity: 2, revenue: 20 }),
    fact({ order: 'W-1', day: '2031-02-01', at: '2031-02-01T10:00:00Z', customer: customerKeys.c1v1, sku: 'SKU-T91002', region: 'North', quantity: 1, revenue: 30 }),
    fact({ order: 'W-2', day: '2031-03-08', at: '2031-03-08T09:00:00Z', customer: customerKeys.c1v2, sku: 'SKU-T91001', region: 'East', quantity: 1, revenue: 10 }),
    fact({ order: 'W-3', day: '2031-03-11', at: '2031-03-11T23:59:59Z', customer: customerKeys.c1v2, sku: 'SKU-T91002', region: 'East', quantity: 1, revenue: 40 }),
    // C2.
    fact({ order: 'W-5', day: '2031-03-10', at: '2031-03-10T08:00:00Z', customer: customerKeys.c2, sku: 'SKU-T91001', region: 'South', quantity: 3, revenue: 30 }),
    // Partner lines: no customer.
    fact({ source: 'partner_sales', order: 'P-20310305-000001', day: '2031-03-05', sku: 'SKU-T91002', region: 'North', quantity: 2, revenue: 50 }),
    fact({ source: 'partner_sales', order: 'P-20310312-000001', day: '2031-03-12', sku: 'SKU-T91001', region: 'North', quantity: 2, revenue: 20 }),
    ...TOY_SKUS.map((sku, i) => fact({ source: 'partner_sales', order: `P-20310313-00010${i}`, day: '2031-03-13', sku, region: 'West', quantity: 1, revenue: i + 1 })),
  ]);
}

/** daily_etl succeeded for a logical date: what the DAGs' dagRunSensor waits for. */
async function dailyEtlSucceeded(logicalDate: string): Promise<void> {
  const at = new Date(logicalDate);
  await warehouse('sluice.dag_runs').insert({
    temporal_run_id: `gold-test-${logicalDate}`, run_id: runIdFor('daily_etl', at), dag_id: 'daily_etl', version: 'test',
    logical_date: at, data_interval_start: new Date(at.getTime() - 86_400_000), data_interval_end: at, state: 'success', trigger: 'manual',
    started_at: at, ended_at: at,
  });
}

// ---------------------------------------------------------------------------------------------
// ml_features: logical date 2031-03-12T00:00Z, as of 2031-03-11

const featuresOf = () =>
  rows<Record<string, unknown>>(
    warehouse,
    `select ${FEATURE_COLUMNS.join(', ')} from features.customer_features where as_of = '2031-03-11' order by customer_id`,
  );

describe('ml_features', () => {
  test('waits for daily_etl of its logical date; then features as of 2031-03-11 match a hand calculation, and a Parquet snapshot holds them', async () => {
    const handle = await start(mlFeatures, '2031-03-12T00:00:00Z');
    const waiting = await waitForStatus(handle, (s) => (s.tasks.find((t) => t.id === 'dagRunSensor')?.attempts ?? 0) >= 2);
    assert.equal(taskStates(waiting).computeCustomerFeatures, 'pending', 'nothing computed before the warehouse is loaded');
    await dailyEtlSucceeded('2031-03-12T00:00:00Z');
    const outputs = await outputsOf(handle);
    assert.deepEqual(outputs.computeCustomerFeatures, { asOf: '2031-03-11', cutoff: '2031-03-12T00:00:00.000Z', customers: (await featuresOf()).length });

    const hand = await rows<Record<string, unknown>>(
      warehouse,
      `select customer_id::int, tenure_days, recency_days, last_order_at, frequency, monetary::text, avg_basket::text, top_category,
              top_category_share::text, category_shares, sessions_7d, sessions_30d, clv_12m::text
         from features.customer_features where as_of = '2031-03-11' and customer_id in (?, ?, ?) order by customer_id`,
      [C1, C2, C3],
    );
    assert.deepEqual(hand, [
      {
        // W-1 (Garden 20 + Kitchen 30), W-2 (Garden 10), W-3 (Kitchen 40, 23:59:59 on the as-of day): 100.00 in 3 orders.
        customer_id: C1, tenure_days: 69, recency_days: 0, last_order_at: new Date('2031-03-11T23:59:59Z'), frequency: 3,
        monetary: '100.00', avg_basket: '33.33', top_category: 'Kitchen, Home', top_category_share: '0.7000',
        category_shares: { Garden: 0.3, 'Kitchen, Home': 0.7 },
        // 7 days from 2031-03-05T00:00Z: s1 (hourly data), a and b; 30 days adds c. d is older, e at the cutoff.
        sessions_7d: 3, sessions_30d: 4,
        // 100.00 x 360 / max(69, 30)
        clv_12m: '521.74',
      },
      {
        customer_id: C2, tenure_days: 10, recency_days: 1, last_order_at: new Date('2031-03-10T08:00:00Z'), frequency: 1,
        monetary: '30.00', avg_basket: '30.00', top_category: 'Garden', top_category_share: '1.0000', category_shares: { Garden: 1 },
        sessions_7d: 0, sessions_30d: 0,
        // 30.00 x 360 / max(10, 30)
        clv_12m: '360.00',
      },
    ]);

    const snapshot = outputs.exportCustomerFeatures as { prefix: string; keys: string[]; rows: number };
    assert.equal(snapshot.prefix, 'features/customer/as_of=2031-03-11/');
    assert.deepEqual(snapshot.keys, ['features/customer/as_of=2031-03-11/part-00000.parquet']);
    assert.equal(snapshot.rows, (await featuresOf()).length);
    const parquet = await readObject(snapshot.keys[0] ?? '');
    const records = await parquetReadObjects({ file: parquet.buffer.slice(parquet.byteOffset, parquet.byteOffset + parquet.byteLength) as ArrayBuffer });
    const c1 = records.find((r) => Number(r.customer_id) === C1);
    assert.equal(c1?.frequency, 3);
    assert.equal(c1?.monetary, 100);
    assert.equal(c1?.top_category, 'Kitchen, Home');
    assert.equal(records.length, snapshot.rows);
  });

  test('data after the as-of date changes nothing: rerunning gives the same rows and the same Parquet bytes', async () => {
    const before = await featuresOf();
    const etag = await etagOf('features/customer/as_of=2031-03-11/part-00000.parquet');
    // An order at the cutoff and one later, a session at the cutoff, a customer signing up after it.
    const late = await warehouse('warehouse.fact_sales')
      .insert([
        fact({ order: 'W-9', day: '2031-03-12', at: '2031-03-12T00:00:00Z', customer: customerKeys.c1v2, sku: 'SKU-T91001', region: 'East', quantity: 1, revenue: 99 }),
        fact({ order: 'W-10', day: '2031-03-20', at: '2031-03-20T10:00:00Z', customer: customerKeys.c2, sku: 'SKU-T91002', region: 'South', quantity: 1, revenue: 99 }),
      ])
      .returning('line_id');
    await source('events').insert(event('late-f', C2, 'page_view', '2031-03-12T00:00:00Z'));
    await source('customers').insert({ customer_id: C3, name: 'Cy', email: 'cy@example.com', city: 'Lyon', region: 'West', segment: 'consumer', created_at: '2031-03-12T00:00:00Z', updated_at: '2031-03-12T00:00:00Z' });
    try {
      await run(mlFeatures, '2031-03-12T00:00:00Z', true);
      assert.deepEqual(await featuresOf(), before);
      assert.equal(await etagOf('features/customer/as_of=2031-03-11/part-00000.parquet'), etag);
    } finally {
      // weekly_reports below counts 2031-03-12's sales by hand.
      await warehouse('warehouse.fact_sales').whereIn('line_id', (late as Array<{ line_id: string }>).map((l) => l.line_id)).delete();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// weekly_reports: logical date Monday 2031-03-17T00:00Z reports 2031-W11 (10 to 16 March)
//
// This week: W-3 East Kitchen 40 (1 unit), W-5 South Garden 30 (3), P-...12 North Garden 20 (2),
// ten toys West 1..10 (1 each): 145.00 in 13 orders, 16 units.
// Previous week (3 to 9 March): W-2 East Garden 10, P-...05 North Kitchen 50: 60.00.

async function readObject(key: string): Promise<Uint8Array> {
  const object = await w.resources.s3.send(new GetObjectCommand({ Bucket: w.resources.bucket, Key: key }));
  return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
}
const readText = async (key: string) => Buffer.from(await readObject(key)).toString('utf8');
const etagOf = async (key: string) => (await w.resources.s3.send(new HeadObjectCommand({ Bucket: w.resources.bucket, Key: key }))).ETag;

describe('weekly_reports', () => {
  const prefix = 'gold/reports/week=2031-W11/';

  test('gold.weekly_sales holds the week by dimension, with week over week change and the quality trend', async () => {
    await dailyEtlSucceeded('2031-03-17T00:00:00Z');
    // quality_checks' scores: two tables on Monday (95 on average), one on Wednesday, none on the other days.
    const score = (day: string, table: string, value: number) =>
      ({ dag_id: 'quality_checks', run_id: 'gold-test', logical_date: day, table_name: table, score: value, checks: 10, failed_blocking: 0, failed_warning: 0 });
    await warehouse('ops.quality_scores').insert([score('2031-03-10', 'warehouse.fact_sales', 90), score('2031-03-10', 'warehouse.dim_customer', 100), score('2031-03-12', 'warehouse.fact_sales', 80)]);
    const outputs = await run(weeklyReports, '2031-03-17T00:00:00Z');
    assert.equal((outputs.buildWeeklySales as { week: { name: string } }).week.name, '2031-W11');

    const stored = await rows<Record<string, string | null>>(
      warehouse,
      `select iso_week, dimension, member, rank::text, revenue::text, orders::text, units::text, revenue_prev_week::text, wow_change::text
         from gold.weekly_sales where week_start = '2031-03-10' and dimension <> 'product' order by dimension, rank`,
    );
    const row = (dimension: string, member: string, rank: number, revenue: string, orders: number, units: number, prev: string | null, wow: string | null) => ({
      iso_week: '2031-W11', dimension, member, rank: String(rank), revenue, orders: String(orders), units: String(units), revenue_prev_week: prev, wow_change: wow,
    });
    assert.deepEqual(stored, [
      row('category', 'Toys', 1, '55.00', 10, 10, null, null),
      row('category', 'Garden', 2, '50.00', 2, 5, '10.00', '4.0000'),
      row('category', 'Kitchen, Home', 3, '40.00', 1, 1, '50.00', '-0.2000'),
      row('region', 'West', 1, '55.00', 10, 10, null, null),
      row('region', 'East', 2, '40.00', 1, 1, '10.00', '3.0000'),
      row('region', 'South', 3, '30.00', 1, 3, null, null),
      row('region', 'North', 4, '20.00', 1, 2, '50.00', '-0.6000'),
      row('total', 'all', 1, '145.00', 13, 16, '60.00', '1.4167'),
    ]);
    const [total] = await rows(warehouse, `select quality_score::text, quality_trend from gold.weekly_sales where week_start = '2031-03-10' and dimension = 'total'`);
    const unscored = (day: string) => ({ day, score: null });
    assert.deepEqual(total, {
      quality_score: '87.5000', // the mean of the daily averages 95 and 80
      quality_trend: [{ day: '2031-03-10', score: 95 }, unscored('2031-03-11'), { day: '2031-03-12', score: 80 }, ...['13', '14', '15', '16'].map((d) => unscored(`2031-03-${d}`))],
    });
    assert.deepEqual(await weekQuality(warehouse, isoWeekOf('2031-04-07T00:00:00Z')), { score: null, trend: null }, 'a week without scores has no quality');

    const products = await rows<{ member: string; rank: number }>(warehouse, `select member, rank from gold.weekly_sales where week_start = '2031-03-10' and dimension = 'product' order by rank`);
    assert.deepEqual(
      products.map((p) => p.member),
      ['SKU-T91001', 'SKU-T91002', ...TOY_SKUS.slice(2).reverse()],
      'top 10: the two cheapest toys are cut',
    );
  });

  test('CSV reports under the week name hold the same numbers, RFC 4180 quoted; a rerun rewrites the same bytes', async () => {
    assert.equal(
      await readText(`${prefix}summary.csv`),
      'iso_week,week_start,week_end,revenue,orders,units,revenue_prev_week,wow_change,avg_order_value,quality_score\r\n' +
        '2031-W11,2031-03-10,2031-03-16,145.00,13,16,60.00,1.4167,11.15,87.5000\r\n',
    );
    assert.equal(
      await readText(`${prefix}quality_trend.csv`),
      'day,score\r\n2031-03-10,95\r\n2031-03-11,\r\n2031-03-12,80\r\n2031-03-13,\r\n2031-03-14,\r\n2031-03-15,\r\n2031-03-16,\r\n',
    );
    assert.equal(
      await readText(`${prefix}revenue_by_category.csv`),
      'rank,category,revenue,orders,units,revenue_prev_week,wow_change\r\n1,Toys,55.00,10,10,,\r\n2,Garden,50.00,2,5,10.00,4.0000\r\n3,"Kitchen, Home",40.00,1,1,50.00,-0.2000\r\n',
    );
    const region = await readText(`${prefix}revenue_by_region.csv`);
    assert.match(region, /^rank,region,revenue,orders,units,revenue_prev_week,wow_change\r\n1,West,55.00,10,10,,\r\n2,East,40.00,1,1,10.00,3.0000\r\n/);
    const top = (await readText(`${prefix}top_products.csv`)).split('\r\n');
    assert.equal(top[0], 'rank,sku,product,revenue,orders,units,revenue_prev_week,wow_change');
    assert.equal(top[1], '1,SKU-T91001,Rake,50.00,2,5,10.00,4.0000');
    assert.equal(top[2], '2,SKU-T91002,"Pan ""Pro""",40.00,1,1,50.00,-0.2000');
    assert.equal(top.length, 1 + 10 + 1, 'header, 10 products, and the empty string after the last CRLF');

    const keys = ['quality_trend.csv', 'revenue_by_category.csv', 'revenue_by_region.csv', 'summary.csv', 'top_products.csv'].map((n) => `${prefix}${n}`);
    const etags = await Promise.all(keys.map(etagOf));
    await run(weeklyReports, '2031-03-17T00:00:00Z', true);
    assert.deepEqual(await Promise.all(keys.map(etagOf)), etags);
  });
});

async function cleanUp(): Promise<void> {
  await warehouse('warehouse.fact_sales').where('run_id', 'gold-test').delete();
  await warehouse('warehouse.dim_customer').where('run_id', 'gold-test').delete();
  await warehouse('warehouse.dim_product').where('run_id', 'gold-test').delete();
  await warehouse('ops.quality_scores').where('run_id', 'gold-test').delete();
  await warehouse('ops.lineage').where('logical_date', '>=', '2031-01-01').delete();
  await warehouse('sluice.dag_runs').where('version', 'test').andWhere('temporal_run_id', 'like', 'gold-test-%').delete();
  await warehouse('gold.hourly_sales').where('hour', '>=', '2031-01-01').delete();
  await warehouse('gold.hourly_traffic').where('hour', '>=', '2031-01-01').delete();
  await warehouse('gold.weekly_sales').where('week_start', '>=', '2031-01-01').delete();
  await warehouse('features.customer_features').where('as_of', '>=', '2031-01-01').delete();
  const keys = { customers: 'customer_id', products: 'product_id', orders: 'order_id', order_items: 'order_item_id', events: 'event_id' };
  for (const [table, key] of Object.entries(keys)) await source(table).whereBetween(key, [ID, ID + 99_999]).delete();
}
