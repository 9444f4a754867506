/**
 * `seedDemo`: writes the generated demo shop into the source database and the S3 landing zone.
 *
 * Seeding again with the same arguments changes nothing: each seeded day's orders, items and
 * events are deleted by time range and inserted again, customers and products end in their final
 * state, and each day's landing prefix holds exactly that day's files, with the same bytes.
 * One day at a time is in memory, streamed into Postgres with COPY.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Knex } from 'knex';
import { copyAll, CopyIn, copyTime, type CopyTarget, type Statement } from './copy';
import { unusedSignupIds } from './customers';
import { replaceLandingFiles } from './landing';
import { totals, type SeededDay, type SeededProblem, type SeedManifest } from './manifest';
import { partnerPrefix } from './partner-files';
import { COLUMNS, copyInto, createShopSchema } from './shop-schema';
import { customerLine, eventLine, orderItemLines, orderLine, productLine } from './shop-rows';
import { DEMO_LIMITS, DemoWorld, type GeneratedDay } from './world';

export interface SeedOptions {
  /** The source database; its pool needs room for 3 connections (orders, items and events load at once). */
  source: Knex;
  s3: S3Client;
  bucket: string;
  /** First day, YYYY-MM-DD (UTC). */
  start: string;
  days: number;
  ordersPerDay: number;
  seed: number;
  /** Clickstream sessions per order (default 3); 0 makes no events. */
  sessionsPerOrder?: number;
}

export async function seedDemo(options: SeedOptions): Promise<SeedManifest> {
  const { source, s3, bucket, start, days, ordersPerDay, seed } = options;
  const sessionsPerOrder = options.sessionsPerOrder ?? 3;
  checkLimits({ days, ordersPerDay, sessionsPerOrder });
  const world = new DemoWorld({ seed, start, days, ordersPerDay, sessionsPerOrder });
  await createShopSchema(source);

  const perDay: SeededDay[] = [];
  const problems: SeededProblem[] = [];
  for (const day of world.days()) {
    const files = day.partnerFiles();
    // Settle both before going on, so a failed COPY never leaves an upload running unseen.
    const results = await Promise.allSettled([replaceLandingFiles(s3, bucket, partnerPrefix(day.day), files), writeShopDay(source, day)]);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
    perDay.push(day.summary());
    // One push per problem: a big day has more than a spread's argument limit.
    for (const problem of day.problems()) problems.push(problem);
  }

  // Customers and products in their final state. Rows that are already so stay untouched, so
  // seeding again writes nothing here; sign-ups a bigger earlier seed left on these days go.
  const unused = world.customers.signupCounts().map(({ day, count }) => unusedSignupIds(day, count));
  const deleteUnused = unused.map((ids) => ({ sql: 'delete from customers where customer_id between $1 and $2', params: ids }));
  const results = await Promise.allSettled([
    copyRows(source, upsert('customers', 'customer_id', deleteUnused), world.customerRows(), customerLine),
    copyRows(source, upsert('products', 'product_id'), world.products(), productLine),
  ]);
  for (const r of results) if (r.status === 'rejected') throw r.reason;

  return { seed, start, days, ordersPerDay, bucket, perDay, problems, totals: totals(problems) };
}

/** The day's orders, items and events, replacing whatever the day held, loading all three at once. */
async function writeShopDay(source: Knex, day: GeneratedDay): Promise<void> {
  const range = [copyTime(day.day.startMs), copyTime(day.day.endMs)];
  const replace = (table: string, column: string): CopyTarget['before'] => [
    { sql: `delete from ${table} where ${column} >= $1 and ${column} < $2`, params: range },
  ];
  const itemLine = orderItemLines();
  await copyAll(source, {
    orders: { into: copyInto('orders'), before: replace('orders', 'ordered_at') },
    items: { into: copyInto('order_items'), before: replace('order_items', 'created_at') },
    events: { into: copyInto('events'), before: replace('events', 'occurred_at') },
  }, async ({ orders, items, events }) => {
    for (const batch of day.shop()) {
      for (const o of batch.orders) orders.write(orderLine(o));
      for (const i of batch.items) items.write(itemLine(i));
      for (const e of batch.events) events.write(eventLine(e));
      await Promise.all([orders.ready(), items.ready(), events.ready()]);
    }
  });
}

/**
 * A COPY into a temporary table, then an insert of its rows that updates existing rows only
 * where they differ (an update of an identical row would still write a new row version).
 */
function upsert(table: 'customers' | 'products', key: string, before: Statement[] = []): CopyTarget {
  const columns = COLUMNS[table].filter((c) => c !== key);
  const list = (prefix: string) => columns.map((c) => `${prefix}.${c}`).join(', ');
  return {
    into: copyInto(table, `${table}_rows`),
    before: [...before, { sql: `create temp table ${table}_rows (like ${table}) on commit drop` }],
    after: [{
      sql: `insert into ${table} select * from ${table}_rows on conflict (${key}) do update
              set (${columns.join(', ')}) = (${list('excluded')})
              where (${list(table)}) is distinct from (${list('excluded')})`,
    }],
  };
}

/** One table's rows in one COPY and transaction. */
async function copyRows<T>(source: Knex, target: CopyTarget, rows: Iterable<T>, line: (row: T) => string): Promise<void> {
  const copy = await CopyIn.open(source, target);
  try {
    let n = 0;
    for (const row of rows) {
      copy.write(line(row));
      if (++n % 10_000 === 0) await copy.ready();
    }
    await copy.finish();
  } catch (err) {
    await copy.abort();
    throw err;
  }
}

function checkLimits(o: { days: number; ordersPerDay: number; sessionsPerOrder: number }): void {
  const whole = (name: string, value: number, max: number) => {
    if (!Number.isInteger(value) || value < 1 || value > max) throw new RangeError(`${name} must be a whole number from 1 to ${max}, not ${value}`);
  };
  whole('days', o.days, DEMO_LIMITS.days);
  whole('ordersPerDay', o.ordersPerDay, DEMO_LIMITS.ordersPerDay);
  if (!(o.sessionsPerOrder >= 0 && o.sessionsPerOrder <= DEMO_LIMITS.sessionsPerOrder)) {
    throw new RangeError(`sessionsPerOrder must be from 0 to ${DEMO_LIMITS.sessionsPerOrder}, not ${o.sessionsPerOrder}`);
  }
}
