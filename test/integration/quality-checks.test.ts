/**
 * `quality_checks` on the real stack: a hand-made star-schema day in the warehouse (a few
 * dimension rows and facts, one deliberately bad row per blocking check it proves), daily_etl's
 * run put on record in `sluice.dag_runs`, then the DAG itself. Results, scores, the gate, the
 * failure callback, and `dagRunSensor` failing fast on a failed upstream run and waiting while
 * there is none. Every row this file writes carries run_id MARK (or a key of its own) and is
 * removed afterwards, so other files see the warehouse as they left it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { checkTableQuality, logQualityFailure, qualityGate } from '../../activities/quality-checks';
import { dagRunSensor } from '../../activities/sensors';
import qualityChecks from '../../dags/quality_checks';
import { dag } from '../../dags/sdk';
import { runIdFor } from '../../server/client/run-id';
import { startDagRun } from '../../server/client/start-run';
import { createShopSchema } from '../../server/demo/shop-schema';
import { stateQuery } from '../../workflows/messages';
import { echo } from '../fixtures/tasks';
import { compileOrThrow, startRun, taskStates, uniqueLogicalDate, waitForStatus } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-quality';
const MARK = 'quality-test';
const catalog = [dagRunSensor, checkTableQuality, qualityGate, logQualityFailure, echo];
/** Days far from any other test's: the run at 00:00Z checks the day before. */
const WARNING_DAY = { day: '2031-01-15', logicalDate: '2031-01-16T00:00:00Z' };
const BLOCKING_DAY = { day: '2031-01-16', logicalDate: '2031-01-17T00:00:00Z' };
const UPSTREAM_FAILED_DAY = { day: '2031-01-17', logicalDate: '2031-01-18T00:00:00Z' };
const DAYS = [WARNING_DAY, BLOCKING_DAY, UPSTREAM_FAILED_DAY];
/** Keys of this file's dimension rows and source items: negative, so no seeded row ever has one. */
const key = (n: number) => -910_000 - n;
const MISSING = key(999);
const itemId = (day: string, i: number) => -1_000_000 - (Number(day.slice(8, 10)) * 100 + i);

let w: TestWorker;
const warehouse = () => w.resources.warehouse;
const insertedDates: number[] = [];
let nextRun = 0;

before(async () => {
  w = await startTestWorker(catalog, TQ);
  await createShopSchema(w.resources.source);
  for (const { day } of [...DAYS, { day: '2031-01-18' }]) {
    const dateKey = Number(day.replaceAll('-', ''));
    const added = await warehouse()('warehouse.dim_date').insert(dimDate(day)).onConflict('date_key').ignore().returning('date_key');
    if (added.length > 0) insertedDates.push(dateKey);
  }
  await warehouse()('warehouse.dim_product').insert([product(1, 10), product(2, 5)]);
  await warehouse()('warehouse.dim_customer').insert([
    customer(1, { region: 'North' }),
    customer(2, { region: 'South' }),
    // A malformed email is a warning: it lowers the score, never fails the run.
    customer(3, { email: 'not-an-email' }),
  ]);
});

after(async () => {
  const days = DAYS.map((d) => d.day);
  await Promise.all([
    warehouse()('warehouse.fact_sales').where('run_id', MARK).delete(),
    warehouse()('warehouse.dim_customer').where('run_id', MARK).delete(),
    warehouse()('warehouse.dim_product').where('run_id', MARK).delete(),
    warehouse()('warehouse.dim_date').whereIn('date_key', insertedDates).delete(),
    warehouse()('ops.exceptions').where('run_id', MARK).delete(),
    warehouse()('ops.audit_log').where('run_id', MARK).delete(),
    warehouse()('ops.quality_results').where('dag_id', 'quality_checks').whereIn('logical_date', days).delete(),
    warehouse()('ops.quality_scores').where('dag_id', 'quality_checks').whereIn('logical_date', days).delete(),
    warehouse()('ops.lineage').where('dag_id', 'quality_checks').whereIn('logical_date', days).delete(),
    warehouse()('sluice.dag_runs').whereLike('temporal_run_id', `${MARK}-%`).delete(),
    w.resources.source('public.order_items').whereBetween('order_item_id', [itemId('2031-01-31', 99), itemId('2031-01-01', 0)]).delete(),
  ]);
  await w?.stop();
});

test('a day with only warnings: one result row per check, scores per table, and the run succeeds', async () => {
  await upstreamRun('daily_etl', WARNING_DAY.logicalDate, 'success');
  await loadDay(WARNING_DAY.day, {
    facts: [fact('w1', {}), fact('w2', { customer_key: key(2), region: 'South' }), fact('w3', { source: 'partner_sales', customer_key: null })],
    // Two items loaded, one quarantined: the counts match.
    sourceItems: 3,
    quarantined: 1,
    // One quarantined record in three is far above 10%: a warning.
    recordsIn: 3,
  });

  const outcome = await runQualityChecks(WARNING_DAY.logicalDate);
  assert.equal(outcome.error, undefined);
  assert.deepEqual(outcome.tasks, {
    waitForDailyEtl: 'success',
    check_fact_sales: 'success',
    check_dim_customer: 'success',
    check_dim_product: 'success',
    check_exceptions: 'success',
    qualityGate: 'success',
  });

  const results = await resultsOf(WARNING_DAY.day);
  assert.equal(results.size, 13 + 5 + 3 + 2, 'one row per check');
  const failed = [...results.values()].filter((r) => !r.passed).map((r) => [r.table_name, r.check_name, r.severity, r.failed_rows]);
  assert.deepEqual(failed.sort(), [
    ['ops.exceptions', 'quarantine_rate', 'warning', null],
    ['warehouse.dim_customer', 'email_format', 'warning', '1'],
  ]);
  const rowCount = results.get('warehouse.fact_sales.shop_rows_match_source');
  assert.deepEqual([rowCount?.passed, rowCount?.total_rows, rowCount?.observed], [true, '2', { rows: 2, expected: 2, source: 3, minus: [1], tolerance: 0 }]);
  assert.deepEqual(results.get('ops.exceptions.quarantine_rate')?.observed, { rows: 1, of: 3, ratio: 0.333333, below: 0.1 });
  assert.equal((results.get('warehouse.dim_customer.email_format')?.samples as Array<{ email: string }>)[0]?.email, 'not-an-email');
  assert.equal(results.get('warehouse.fact_sales.orders_fresh')?.passed, true);

  // Lineage: the table checked, what its checks compare with, and where the results went.
  const lineage: { inputs: Array<{ name: string }>; outputs: Array<{ name: string }> } = await warehouse()('ops.lineage')
    .where({ run_id: outcome.runId, task_id: 'check_fact_sales' })
    .first('inputs', 'outputs');
  const tables = (datasets: Array<{ name: string }>) => datasets.map((d) => d.name.split('.').slice(1).join('.')).sort();
  assert.deepEqual(tables(lineage.inputs), ['ops.exceptions', 'public.order_items', 'warehouse.dim_customer', 'warehouse.dim_date', 'warehouse.dim_product', 'warehouse.fact_sales']);
  assert.deepEqual(tables(lineage.outputs), ['ops.quality_results', 'ops.quality_scores']);

  // Blocking checks weigh 2, warnings 1: dim_customer passes 8 of 9, ops.exceptions 2 of 3.
  assert.deepEqual(await scoresOf(WARNING_DAY.day), {
    'warehouse.fact_sales': ['100.00', 13, 0, 0],
    'warehouse.dim_customer': ['88.89', 5, 0, 1],
    'warehouse.dim_product': ['100.00', 3, 0, 0],
    'ops.exceptions': ['66.67', 2, 0, 1],
  });

  // A rerun of the day replaces its rows instead of adding to them.
  await runQualityChecks(WARNING_DAY.logicalDate);
  assert.equal((await resultsOf(WARNING_DAY.day)).size, 23);
});

test('failed blocking checks fail the run, naming them with their counts, and the failure callback logs a summary', async () => {
  await upstreamRun('daily_etl', BLOCKING_DAY.logicalDate, 'success');
  await warehouse()('warehouse.dim_product').insert(product(3, -1));
  await warehouse()('warehouse.dim_customer').insert([
    customer(4, { region: 'Atlantis' }),
    // A closed version that ends before it starts.
    customer(2, { customer_key: key(5), is_current: false, valid_from: '2030-06-01T00:00:00Z', valid_to: '2030-05-01T00:00:00Z' }),
  ]);
  await loadDay(BLOCKING_DAY.day, {
    facts: [
      fact('b-clean', {}),
      fact('b-partner', { source: 'partner_sales', customer_key: null }),
      fact('b-quantity', { quantity: 0, revenue: 0 }),
      fact('b-revenue', { revenue: -5 }),
      fact('b-region', { region: 'Northeast' }),
      fact('b-product', { product_key: MISSING }),
      fact('b-customer', { customer_key: MISSING }),
      fact('b-no-customer', { customer_key: null }),
    ],
    // Seven shop rows loaded, one quarantined, and one item that is in neither place.
    sourceItems: 9,
    quarantined: 1,
    recordsIn: 100,
  });

  const outcome = await runQualityChecks(BLOCKING_DAY.logicalDate);
  assert.equal(outcome.tasks.qualityGate, 'failed');
  assert.deepEqual(
    Object.entries(outcome.tasks).filter(([id]) => id.startsWith('check_')).map(([, state]) => state),
    ['success', 'success', 'success', 'success'],
    'checks that find problems still succeed: the gate judges',
  );
  const gateError = outcome.taskErrors.qualityGate ?? '';
  assert.match(gateError, /^QualityCheckFailed: 10 blocking quality checks failed: /);
  for (const named of ['warehouse.fact_sales.region_accepted (1 rows)', 'warehouse.fact_sales.shop_rows_match_source (1 rows)', 'warehouse.dim_product.price_not_negative (1 rows)']) {
    assert.ok(gateError.includes(named), `${named} in: ${gateError}`);
  }

  const results = await resultsOf(BLOCKING_DAY.day);
  const failedBlocking = [...results.values()].filter((r) => !r.passed && r.severity === 'blocking').map((r) => `${r.table_name}.${r.check_name}=${String(r.failed_rows)}`);
  assert.deepEqual(failedBlocking.sort(), [
    'warehouse.dim_customer.region_accepted=1',
    'warehouse.dim_customer.valid_from_before_valid_to=1',
    'warehouse.dim_product.price_not_negative=1',
    'warehouse.fact_sales.customer_exists=1',
    'warehouse.fact_sales.product_exists=1',
    'warehouse.fact_sales.quantity_positive=1',
    'warehouse.fact_sales.region_accepted=1',
    'warehouse.fact_sales.revenue_not_negative=1',
    'warehouse.fact_sales.shop_customer_key_not_null=1',
    'warehouse.fact_sales.shop_rows_match_source=1',
  ]);
  assert.deepEqual(results.get('warehouse.fact_sales.shop_rows_match_source')?.observed, { rows: 7, expected: 8, source: 9, minus: [1], tolerance: 0 });
  const sample = (results.get('warehouse.fact_sales.region_accepted')?.samples as Array<Record<string, unknown>>)[0];
  assert.deepEqual([sample?.line_id, sample?.region], [`${BLOCKING_DAY.day}/b-region`, 'Northeast']);
  assert.deepEqual(results.get('warehouse.fact_sales.line_unique')?.samples, [], 'no samples for checks that passed');
  // fact_sales: 7 of its 12 blocking checks failed, the warning passed: (5 * 2 + 1) / 25.
  assert.deepEqual(await scoresOf(BLOCKING_DAY.day), {
    'warehouse.fact_sales': ['44.00', 13, 7, 0],
    'warehouse.dim_customer': ['44.44', 5, 2, 1],
    'warehouse.dim_product': ['66.67', 3, 1, 0],
    'ops.exceptions': ['100.00', 2, 0, 0],
  });

  const summary = await callbackLog(outcome.runId);
  assert.equal(summary.level, 'error');
  assert.match(summary.msg, /^quality_checks failed for 2031-01-16: blocking warehouse\.dim_customer\.region_accepted \(1 rows\), /);
  assert.ok(summary.msg.includes('warning warehouse.dim_customer.email_format (1 rows)'), summary.msg);
});

test('dagRunSensor fails at once, naming the upstream run, when its newest execution failed', async () => {
  await upstreamRun('daily_etl', UPSTREAM_FAILED_DAY.logicalDate, 'failed', 'partner file unreadable');
  const outcome = await runQualityChecks(UPSTREAM_FAILED_DAY.logicalDate);
  assert.equal(outcome.tasks.waitForDailyEtl, 'failed');
  assert.equal(outcome.attempts.waitForDailyEtl, 1, 'not retried, although the DAG allows 2 retries');
  assert.equal(
    outcome.taskErrors.waitForDailyEtl,
    'UpstreamRunFailed: dagRunSensor: upstream run daily_etl-2031-01-18T00:00:00Z failed (partner file unreadable); fix it (sluice retry daily_etl-2031-01-18T00:00:00Z), then retry this task',
  );
  assert.equal(outcome.tasks.check_fact_sales, 'upstream_failed');
  const summary = await callbackLog(outcome.runId);
  assert.match(summary.msg, /^quality_checks failed for 2031-01-17: no failed checks recorded; failed tasks: waitForDailyEtl$/);

  // Input no poke can make right fails the same way, as with the other sensors.
  const spec = compileOrThrow(
    dag('bad_upstream_input', { taskQueue: TQ, operatorWindow: 0 }, ({ sensor }) => {
      sensor(dagRunSensor, { dagId: '', logicalDate: '21/11/2026' }, { pokeInterval: '300ms', timeout: '1m', retries: 3 });
    }),
    catalog,
  );
  const bad = await startRun(w.client, spec);
  await assert.rejects(bad.handle.result());
  const [sensorStatus] = (await bad.handle.query(stateQuery)).tasks;
  assert.deepEqual([sensorStatus?.state, sensorStatus?.attempts], ['failed', 1]);
  assert.equal(
    sensorStatus?.error,
    'InvalidSensorInput: dagRunSensor: invalid input: dagId: must be a non-empty string; logicalDate: must be an ISO instant, e.g. 2026-11-22T00:00:00Z',
  );
});

test('dagRunSensor keeps waiting while the upstream DAG has no run for the date, and goes on once it succeeds', async () => {
  const upstream = `upstream_${Date.now()}`;
  const logicalDate = uniqueLogicalDate().toISOString();
  const spec = compileOrThrow(
    dag('waits_for_upstream', { taskQueue: TQ }, ({ sensor, task }) => {
      const done = sensor(dagRunSensor, { dagId: upstream, logicalDate }, { pokeInterval: '300ms', timeout: '1m' });
      task(echo, { label: 'after' }, { id: 'after' }).after(done);
    }),
    catalog,
  );
  const run = await startRun(w.client, spec);
  const waiting = await waitForStatus(run.handle, (s) => (s.tasks.find((t) => t.id === 'dagRunSensor')?.attempts ?? 0) >= 3);
  assert.equal(taskStates(waiting).after, 'pending');
  assert.ok(!['success', 'failed'].includes(taskStates(waiting).dagRunSensor ?? ''), 'the sensor is still waiting');
  await upstreamRun(upstream, logicalDate, 'success');
  const result = await run.handle.result();
  assert.deepEqual(result.tasks, { dagRunSensor: 'success', after: 'success' });
});

// ---------------------------------------------------------------------------------------------

/** What daily_etl would have left for a day: facts, the source's items, quarantined records, the audit. */
async function loadDay(day: string, data: { facts: Array<Record<string, unknown>>; sourceItems: number; quarantined: number; recordsIn: number }): Promise<void> {
  const dateKey = Number(day.replaceAll('-', ''));
  await warehouse()('warehouse.fact_sales').insert(data.facts.map((f) => ({ ...f, line_id: `${day}/${String(f.line_id)}`, date_key: dateKey, load_date: day, ordered_at: f.source === 'shop' ? `${day}T21:00:00Z` : null })));
  await w.resources.source('public.order_items').insert(
    Array.from({ length: data.sourceItems }, (_, i) => ({ order_item_id: itemId(day, i), order_id: itemId(day, 0), product_id: 1, quantity: 1, unit_price: 1, created_at: `${day}T10:00:00Z` })),
  );
  await warehouse()('ops.exceptions').insert(
    Array.from({ length: data.quarantined }, (_, i) => ({
      dag_id: 'daily_etl',
      run_id: MARK,
      task_id: 'validate',
      logical_date: day,
      source: 'shop.order_items',
      source_id: String(itemId(day, i)),
      category: 'DUPLICATE_RECORD',
      stage: 'duplicate',
      reason: 'duplicate order',
      raw: '{}',
    })),
  );
  await warehouse()('ops.audit_log').insert({
    dag_id: 'daily_etl',
    logical_date: day,
    source: 'shop.order_items',
    stage: 'conservation',
    run_id: MARK,
    records_in: data.recordsIn,
    records_loaded: data.recordsIn - data.quarantined,
    records_quarantined: data.quarantined,
  });
}

/** A run of `dagId` on record, as the worker writes it. */
async function upstreamRun(dagId: string, logicalDate: string, state: 'success' | 'failed', reason?: string): Promise<void> {
  const at = new Date(logicalDate);
  await warehouse()('sluice.dag_runs').insert({
    temporal_run_id: `${MARK}-${++nextRun}`,
    run_id: runIdFor(dagId, at),
    dag_id: dagId,
    version: 'test',
    logical_date: at,
    data_interval_start: new Date(at.getTime() - 86_400_000),
    data_interval_end: at,
    state,
    trigger: 'manual',
    started_at: new Date(),
    ended_at: new Date(),
    reason: reason ?? null,
  });
}

/** Runs the real DAG on this file's queue; a failure ends the run at once, as a backfill run does. */
async function runQualityChecks(logicalDate: string) {
  const spec = { ...compileOrThrow(qualityChecks, catalog), taskQueue: TQ, operatorWindowMs: 0 };
  const run = await startDagRun(w.client, spec, { logicalDate: new Date(logicalDate), params: {}, trigger: 'manual', rerun: true });
  const error = await run.handle.result().then(
    () => undefined,
    (err: Error) => err,
  );
  const status = await run.handle.query(stateQuery);
  return {
    runId: run.runId,
    error,
    tasks: taskStates(status),
    attempts: Object.fromEntries(status.tasks.map((t) => [t.id, t.attempts])),
    taskErrors: Object.fromEntries(status.tasks.filter((t) => t.error).map((t) => [t.id, t.error])),
  };
}

interface ResultRow {
  table_name: string;
  check_name: string;
  severity: string;
  passed: boolean;
  failed_rows: string | null;
  total_rows: string;
  observed: unknown;
  samples: unknown;
}

/** The day's results, by `table.check`. */
async function resultsOf(day: string): Promise<Map<string, ResultRow>> {
  const rows: ResultRow[] = await warehouse()('ops.quality_results').where({ dag_id: 'quality_checks', logical_date: day });
  return new Map(rows.map((r) => [`${r.table_name}.${r.check_name}`, r]));
}

/** The day's scores, by table: [score, checks, failed blocking, failed warning]. */
async function scoresOf(day: string): Promise<Record<string, [string, number, number, number]>> {
  const rows: Array<{ table_name: string; score: string; checks: number; failed_blocking: number; failed_warning: number }> = await warehouse()('ops.quality_scores').where({ dag_id: 'quality_checks', logical_date: day });
  return Object.fromEntries(rows.map((r) => [r.table_name, [r.score, r.checks, r.failed_blocking, r.failed_warning]]));
}

/** The failure callback's log line, from its attempt in sluice.task_attempts (written in the background). */
async function callbackLog(runId: string): Promise<{ level: string; msg: string }> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const row: { logs: Array<{ level: string; msg: string }> } | undefined = await warehouse()('sluice.task_attempts').where({ run_id: runId, task_id: 'callback.failed' }).first('logs');
    const line = row?.logs.find((l) => l.msg.startsWith('quality_checks failed'));
    if (line) return line;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no failure callback log for ${runId}`);
}

function fact(lineId: string, overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    source: 'shop',
    line_id: lineId,
    order_id: `o-${lineId}`,
    customer_key: key(1),
    product_key: key(1),
    region: 'North',
    channel: 'web',
    quantity: 2,
    unit_price: 10,
    revenue: 20,
    run_id: MARK,
    ...overrides,
  };
}

function product(n: number, price: number): Record<string, unknown> {
  return { product_key: key(n), product_id: key(n), sku: `QT-${n}`, name: `product ${n}`, category: 'Test', price, updated_at: new Date(), run_id: MARK };
}

function customer(n: number, overrides: Record<string, unknown>): Record<string, unknown> {
  return {
    customer_key: key(n),
    customer_id: key(n),
    name: `customer ${n}`,
    email: `customer${n}@example.com`,
    city: 'Testville',
    region: 'East',
    segment: 'consumer',
    valid_from: '2030-01-01T00:00:00Z',
    valid_to: null,
    is_current: true,
    run_id: MARK,
    ...overrides,
  };
}

function dimDate(day: string): Record<string, unknown> {
  const d = new Date(`${day}T00:00:00Z`);
  const isoDay = d.getUTCDay() === 0 ? 7 : d.getUTCDay();
  return {
    date_key: Number(day.replaceAll('-', '')),
    full_date: day,
    year: d.getUTCFullYear(),
    quarter: Math.floor(d.getUTCMonth() / 3) + 1,
    month: d.getUTCMonth() + 1,
    month_name: d.toLocaleString('en', { month: 'long', timeZone: 'UTC' }),
    day_of_month: d.getUTCDate(),
    day_of_week: isoDay,
    day_name: d.toLocaleString('en', { weekday: 'long', timeZone: 'UTC' }),
    // Not the real ISO week: no check here reads it.
    iso_year: d.getUTCFullYear(),
    iso_week: 1,
    is_weekend: isoDay >= 6,
  };
}
