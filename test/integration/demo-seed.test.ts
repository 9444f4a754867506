/**
 * `sluice demo seed` and `sluice db query|shell` against the test stack: the manifest matches
 * the rows in `shop` and the objects in S3, every problem it lists is really there (and no
 * other), seeding again changes nothing, and the SQL commands print rows and Postgres' errors.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import pg from 'pg';
import type { SeedManifest, SeededProblem } from '../../server/demo';
import { REGIONS } from '../../activities/etl/validate';
import { runCli, runNode } from '../support/cli';
import { partnerProblems, readLandingFile } from '../support/partner-lines';
import { testConfig, testPgPool, testS3Client } from '../support/env';

const START = '2031-03-14';
const SEED_ARGS = ['demo', 'seed', '--days', '2', '--orders-per-day', '200', '--start', START, '--json'];
const DAYS = [`${START}`, '2031-03-15'];
const RANGE = ['2031-03-14T00:00:00Z', '2031-03-16T00:00:00Z'];
const bucket = testConfig().s3.bucket;
const s3 = testS3Client();
let db: pg.Pool;
let manifest: SeedManifest;

before(async () => {
  db = testPgPool('source');
  const seeded = await runCli(SEED_ARGS);
  assert.equal(seeded.code, 0, seeded.stderr);
  manifest = JSON.parse(seeded.stdout) as SeedManifest;
});

after(async () => {
  await db.end();
  s3.destroy();
});

const one = async <T>(sql: string, params: unknown[] = []): Promise<T> => (await db.query(sql, params)).rows[0] as T;
const count = async (sql: string, params: unknown[] = RANGE) => Number((await one<{ n: string }>(sql, params)).n);
const dayRange = (day: string) => [`${day}T00:00:00Z`, new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString()];

describe('sluice demo seed', () => {
  test('the manifest says what was seeded', () => {
    assert.equal(manifest.seed, 42);
    assert.equal(manifest.start, START);
    assert.deepEqual(manifest.perDay.map((d) => d.day), DAYS);
    assert.equal(manifest.totals.problems, manifest.problems.length);
    assert.equal(manifest.totals.byCategory.FILE_UNREADABLE, 1);
    for (const category of ['MISSING_REQUIRED_FIELD', 'DATA_FORMAT_ERROR', 'BUSINESS_RULE_VIOLATION', 'DUPLICATE_RECORD', 'REFERENTIAL_INTEGRITY'] as const) {
      assert.ok(manifest.totals.byCategory[category] > 0, category);
    }
  });

  test('row counts in shop match the manifest day by day', async () => {
    for (const d of manifest.perDay) {
      const range = dayRange(d.day);
      assert.equal(await count('select count(*) n from orders where ordered_at >= $1 and ordered_at < $2', range), d.orders, `${d.day} orders`);
      assert.equal(await count('select count(*) n from order_items where created_at >= $1 and created_at < $2', range), d.orderItems, `${d.day} items`);
      assert.equal(await count('select count(*) n from events where occurred_at >= $1 and occurred_at < $2', range), d.events, `${d.day} events`);
      assert.equal(await count('select count(*) n from customers where created_at >= $1 and created_at < $2', range), d.customersNew, `${d.day} sign-ups`);
      assert.ok(d.orders > 0 && d.events > 0 && d.customersChanged > 0 && d.productsChanged > 0);
    }
    // A customer or product changed on both days shows its last change only.
    const changed = await count('select count(*) n from customers where updated_at >= $1 and updated_at < $2 and updated_at > created_at');
    assert.ok(changed > 0 && changed <= manifest.perDay.reduce((s, d) => s + d.customersChanged, 0));
    const repriced = await count('select count(*) n from products where updated_at >= $1 and updated_at < $2');
    assert.ok(repriced > 0 && repriced <= manifest.perDay.reduce((s, d) => s + d.productsChanged, 0));
  });

  test('every shop problem is in its row, and no row has one the manifest does not list', async () => {
    const shop = manifest.problems.filter((p) => p.source !== 'partner_sales');
    const ids = (kind: string) => shop.filter((p) => p.kind === kind).map((p) => p.sourceId).sort();
    const query = async (sql: string) => (await db.query<{ id: string }>(sql, RANGE)).rows.map((r) => r.id).sort();
    const inRange = 'created_at >= $1 and created_at < $2';

    assert.deepEqual(await query(`select order_item_id::text id from order_items where ${inRange} and quantity <= 0`), ids('bad_quantity'));
    assert.deepEqual(
      await query(`select order_item_id::text id from order_items i where ${inRange} and not exists (select 1 from products p where p.product_id = i.product_id)`),
      ids('unknown_product'),
    );
    assert.deepEqual(
      await query(`select order_item_id::text id from order_items i where ${inRange} and not exists (select 1 from orders o where o.order_id = i.order_id)`),
      ids('orphan_item'),
    );
    // A duplicate: the later order of an order number, same customer, seconds later, the same basket.
    const duplicates = await db.query<{ id: string; same_basket: boolean; seconds: number }>(
      `select d.order_id::text id, extract(epoch from d.ordered_at - o.ordered_at)::float seconds,
              (select array_agg((product_id, quantity, unit_price)::text order by product_id) from order_items where order_id = d.order_id)
                = (select array_agg((product_id, quantity, unit_price)::text order by product_id) from order_items where order_id = o.order_id) same_basket
         from orders d join orders o on o.order_number = d.order_number and o.customer_id = d.customer_id and o.order_id < d.order_id
        where d.ordered_at >= $1 and d.ordered_at < $2`,
      RANGE,
    );
    assert.deepEqual(duplicates.rows.map((r) => r.id).sort(), ids('duplicate_order'));
    assert.ok(duplicates.rows.every((r) => r.same_basket && r.seconds > 0 && r.seconds <= 30), JSON.stringify(duplicates.rows));
    assert.deepEqual(
      await query(`select order_item_id::text id from order_items where ${inRange} and order_id in (${ids('duplicate_order').join(',')})`),
      ids('duplicate_order_item'),
    );
    assert.ok(shop.every((p) => p.category === expectedCategory(p)));
  });

  test('the landing zone holds the manifest files, each problem on its line, and the truncated upload', async () => {
    const skus = new Set((await db.query<{ sku: string }>('select sku from products')).rows.map((r) => r.sku));
    for (const d of manifest.perDay) {
      const listed = await listKeys(`landing/partner_sales/dt=${d.day}/`);
      assert.deepEqual([...listed.keys()].sort(), d.files.map((f) => f.key).sort());
      assert.equal(d.partnerRows, d.files.reduce((s, f) => s + f.rows, 0));
      for (const file of d.files) {
        const body = await getObject(file.key);
        const { records, truncated } = readLandingFile(file.key, body);
        assert.equal(records.length, file.rows, `${file.key}: rows`);
        assert.equal(truncated, file.key.endsWith('/late_upload.csv.gz'), `${file.key}: truncated`);
        const problems = manifest.problems.filter((p) => p.file === file.key);
        const byLine = new Map(problems.filter((p) => p.kind !== 'truncated_file').map((p) => [p.line, p]));
        const seen = new Set<string>();
        for (const { line, text, record } of records) {
          const found = partnerProblems(record, skus, d.day, file.format === 'ndjson');
          if (seen.has(text)) found.push('duplicate_line');
          seen.add(text);
          const problem = byLine.get(line);
          assert.deepEqual(found, problem ? [problem.kind] : [], `${file.key} line ${line}: ${text}`);
          if (problem) assert.equal(problem.category, expectedCategory(problem));
        }
        assert.equal(byLine.size, records.filter((r) => byLine.has(r.line)).length, `${file.key}: every listed line exists`);
        const unreadable = problems.filter((p) => p.kind === 'truncated_file');
        assert.deepEqual(unreadable.map((p) => [p.category, p.line]), truncated ? [['FILE_UNREADABLE', file.rows + 2]] : []);
      }
    }
  });

  test('seeding again changes no row and no object, and clears stale objects of a seeded day', async () => {
    const before = await snapshot();
    const stale = `landing/partner_sales/dt=${START}/stale.csv`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: stale, Body: 'order_id\n' }));
    const again = await runCli(SEED_ARGS);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(JSON.parse(again.stdout), manifest);
    assert.deepEqual(await snapshot(), before);
  });

  test('bad flags exit 2 naming the flag', async () => {
    const bad: Array<[string, string]> = [['--days', '0'], ['--start', '2031-02-30'], ['--orders-per-day', 'abc'], ['--seed', '-1'], ['--sessions-per-order', '11']];
    await Promise.all(
      bad.map(async ([flag, value]) => {
        const result = await runCli(['demo', 'seed', `${flag}=${value}`]);
        assert.equal(result.code, 2, `${flag} ${value}: ${result.stderr}`);
        assert.match(result.stderr, new RegExp(`^sluice: ${flag} must be`));
      }),
    );
  });

  test('a database with shop tables the demo did not create is refused, and its rows stay', async () => {
    const { sourceDatabaseUrl } = testConfig().postgres;
    await db.query('drop database if exists real_shop');
    await db.query('create database real_shop');
    const url = new URL(sourceDatabaseUrl);
    url.pathname = '/real_shop';
    const real = new pg.Client({ connectionString: url.toString() });
    await real.connect();
    try {
      await real.query('create table orders (order_id bigint primary key, note text)');
      await real.query(`insert into orders values (1, 'a real order')`);
      const result = await runCli(['demo', 'seed', '--days', '1'], { ...process.env, SOURCE_DATABASE_URL: url.toString() });
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, /the source database 'real_shop' already has tables orders that the demo did not create/);
      assert.deepEqual((await real.query('select order_id, note from orders')).rows, [{ order_id: '1', note: 'a real order' }]);
    } finally {
      await real.end();
      await db.query('drop database real_shop');
    }
  });
});

describe('sluice db', () => {
  test('query prints an aligned table, and --json the rows', async () => {
    const human = await runCli(['db', 'query', `select region, count(*) as customers from customers group by region order by region`, '--source']);
    assert.equal(human.code, 0, human.stderr);
    const lines = human.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^region\s+customers$/);
    assert.deepEqual(lines.slice(1, -1).map((l) => l.split(/\s+/)[0]), [...REGIONS].sort());
    assert.equal(lines.at(-1), '(5 rows)');

    const json = await runCli(['db', 'query', `select order_id, ordered_at from orders where ordered_at >= '${START}' order by order_id limit 2`, '--source', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const result = JSON.parse(json.stdout) as { rows: Array<{ order_id: string; ordered_at: string }>; rowCount: number; command: string };
    assert.equal(result.command, 'SELECT');
    assert.equal(result.rowCount, 2);
    assert.match(result.rows[0]?.ordered_at ?? '', /^2031-03-14 \d{2}:\d{2}:\d{2}/);

    const warehouse = await runCli(['db', 'query', 'select current_database() as db', '--json']);
    assert.deepEqual((JSON.parse(warehouse.stdout) as { rows: unknown[] }).rows, [{ db: new URL(testConfig().postgres.databaseUrl).pathname.slice(1) }]);
  });

  test('an SQL error exits 1 with Postgres\' message', async () => {
    const result = await runCli(['db', 'query', 'select * from no_such_table', '--source']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^sluice: relation "no_such_table" does not exist/);
    const json = await runCli(['db', 'query', 'select 1/0', '--json']);
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stdout), { error: 'division by zero', exitCode: 1 });
  });

  test('shell without psql on PATH: a built-in shell that runs statements and survives errors', async () => {
    const input = 'select 40 + 2 as answer\n  ;\nselect * from no_such_table;\nselect count(*) as n from products;\n\\q\nselect 1;\n';
    const { code, stdout, stderr } = await shell(['db', 'shell', '--source'], input);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /answer\n42\n\(1 row\)/);
    assert.match(stderr, /ERROR: relation "no_such_table" does not exist/);
    assert.match(stdout, /\nn\s*\n\d+\n\(1 row\)/);
    assert.doesNotMatch(stdout, /\?column\?/, 'nothing runs after \\q');
  });
});

/** Row checksums of everything the seed writes, and the ETag of every object under the days' prefixes. */
async function snapshot(): Promise<Record<string, string>> {
  const sums: Record<string, string> = {};
  const tables: Array<[string, string, string]> = [
    ['orders', 'order_id', 'ordered_at >= $1 and ordered_at < $2'],
    ['order_items', 'order_item_id', 'created_at >= $1 and created_at < $2'],
    ['events', 'event_id', 'occurred_at >= $1 and occurred_at < $2'],
    ['customers', 'customer_id', '$1::text is not null and $2::text is not null'],
    ['products', 'product_id', '$1::text is not null and $2::text is not null'],
  ];
  for (const [table, key, where] of tables) {
    const row = await one<{ sum: string; n: string }>(
      `select md5(coalesce(string_agg(t::text, '|' order by ${key}), '')) sum, count(*) n from ${table} t where ${where}`,
      RANGE,
    );
    sums[table] = `${row.n}:${row.sum}`;
  }
  for (const day of DAYS) for (const [key, etag] of await listKeys(`landing/partner_sales/dt=${day}/`)) sums[key] = etag;
  return sums;
}

async function listKeys(prefix: string): Promise<Map<string, string>> {
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return new Map((page.Contents ?? []).map((o) => [o.Key ?? '', o.ETag ?? '']));
}

async function getObject(key: string): Promise<Buffer> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await (object.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

function expectedCategory(p: SeededProblem): string {
  const categories: Record<string, string> = {
    missing_date: 'MISSING_REQUIRED_FIELD',
    malformed_date: 'DATA_FORMAT_ERROR',
    malformed_number: 'DATA_FORMAT_ERROR',
    negative_revenue: 'BUSINESS_RULE_VIOLATION',
    bad_quantity: 'BUSINESS_RULE_VIOLATION',
    unknown_region: 'BUSINESS_RULE_VIOLATION',
    unknown_product: 'REFERENTIAL_INTEGRITY',
    orphan_item: 'REFERENTIAL_INTEGRITY',
    duplicate_line: 'DUPLICATE_RECORD',
    duplicate_order: 'DUPLICATE_RECORD',
    duplicate_order_item: 'DUPLICATE_RECORD',
    truncated_file: 'FILE_UNREADABLE',
  };
  return categories[p.kind] ?? `unknown kind ${p.kind}`;
}

/** The CLI with `input` on stdin and no psql on PATH. */
function shell(args: string[], input: string) {
  return runNode([path.resolve(__dirname, '../../server/cli/sluice.js'), ...args], { ...process.env, PATH: '/nonexistent' }, undefined, input);
}
