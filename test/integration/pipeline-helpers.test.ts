/**
 * The `sluice/pipeline` helpers on the real Postgres and S3: CSV through COPY both ways keeps
 * every value (NULL and '' apart, quotes, line breaks, Postgres's `\.`), Parquet writes are
 * byte-stable and own their prefix, a partition swap replaces a day atomically, and an abandoned
 * COPY does not keep running in Postgres.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import type { Resources } from '../../activities/resources';
import { copyIn, copyOut, csvLine, listLakeKeys, swapPartition, writeParquetParts } from '../../activities/lib';
import { ensureBucket } from '../../infra/s3';
import { closeResources, openResources } from '../../workers/resources';
import { testConfig } from '../support/env';

const config = testConfig();
let resources: Resources;
const ctx = () => ({ resources });

before(async () => {
  resources = openResources(config);
  await ensureBucket(resources.s3, resources.bucket);
  await resources.warehouse.raw('drop table if exists public.helpers_values');
  await resources.warehouse.raw('create table public.helpers_values (id int, text_value text, n numeric(12,2), at timestamptz)');
});
after(async () => {
  await resources.warehouse.raw('drop table if exists public.helpers_values');
  await resources.warehouse.raw('drop table if exists public.helpers_facts cascade');
  await closeResources(resources);
});

const AWKWARD = [null, '', ' padded ', 'comma, inside', 'quote " inside', 'line\nbreak', 'crlf\r\nbreak', '\\.', 'tab\there', 'ünïcödé'];

test('csvLine → COPY FROM → COPY TO keeps every value, NULL and empty string apart', async () => {
  const rows = AWKWARD.map((value, i) => csvLine([i, value, i === 1 ? null : '12.50', '2026-11-21T10:00:00Z']));
  assert.equal(await copyIn(resources.warehouse, 'public.helpers_values', ['id', 'text_value', 'n', 'at'], Readable.from(rows)), AWKWARD.length);
  const back = await resources.warehouse('public.helpers_values').orderBy('id').pluck('text_value');
  assert.deepEqual(back, AWKWARD);
  // And out again, into a second table, byte for byte through the same dialect.
  await resources.warehouse.raw('drop table if exists public.helpers_values_copy');
  await resources.warehouse.raw('create table public.helpers_values_copy (like public.helpers_values)');
  await copyIn(resources.warehouse, 'public.helpers_values_copy', ['id', 'text_value', 'n', 'at'], await copyOut(resources.warehouse, resources.warehouse('public.helpers_values').orderBy('id')));
  assert.deepEqual(await resources.warehouse('public.helpers_values_copy').orderBy('id').pluck('text_value'), AWKWARD);
  await resources.warehouse.raw('drop table public.helpers_values_copy');
});

test('writeParquetParts: typed columns and constants, the same bytes on a rerun, and the prefix holds only what it wrote', async () => {
  const prefix = 'test-helpers/parquet/dt=2026-11-21/';
  await resources.s3.send(new PutObjectCommand({ Bucket: resources.bucket, Key: `${prefix}part-00007.parquet`, Body: 'stale' }));
  const write = async () =>
    writeParquetParts(ctx(), {
      prefix,
      csv: await copyOut(resources.warehouse, resources.warehouse('public.helpers_values').select('id', 'text_value', 'n', 'at').orderBy('id')),
      columns: [
        { name: 'id', type: 'int32' },
        { name: 'text_value', type: 'string' },
        { name: 'n', type: 'decimal', decimal: [12, 2] },
        { name: 'at', type: 'timestamp' },
      ],
      constants: [{ name: '_run_id', type: 'string', value: "run 'quoted'" }],
    });
  const first = await write();
  const etag = async () => (await resources.s3.send(new HeadObjectCommand({ Bucket: resources.bucket, Key: first.keys[0] }))).ETag;
  const before = await etag();
  const second = await write();
  assert.equal(await etag(), before, 'a rerun writes the same bytes');
  assert.deepEqual(second, first);
  assert.deepEqual(await listLakeKeys(ctx(), prefix), [`${prefix}part-00000.parquet`], 'the stale part is gone');
  const object = await resources.s3.send(new GetObjectCommand({ Bucket: resources.bucket, Key: first.keys[0] }));
  const bytes = await object.Body!.transformToByteArray();
  const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
  assert.equal(rows.length, AWKWARD.length);
  assert.deepEqual(rows.map((r) => r.text_value), AWKWARD);
  assert.equal(rows[0]?._run_id, "run 'quoted'");
  assert.equal((rows[0]?.at as Date).toISOString(), '2026-11-21T10:00:00.000Z');
});

test('swapPartition replaces one list partition, takes rows inserted by hand with it, and leaves it in place on failure', async () => {
  const db = resources.warehouse;
  await db.raw('create table public.helpers_facts (day date not null, id int not null, primary key (day, id)) partition by list (day)');
  await db.raw('create table public.helpers_facts_default partition of public.helpers_facts default');
  await db('public.helpers_facts').insert({ day: '2026-11-21', id: 99 });
  const load = (ids: number[]) => async (trx: typeof db, table: string) => {
    for (const id of ids) await trx(table).insert({ day: '2026-11-21', id });
    return { rows: ids.length };
  };
  const swap = (ids: number[]) => swapPartition(db, { table: 'public.helpers_facts', column: 'day', value: '2026-11-21', suffix: '20261121', load: load(ids) });
  await swap([1, 2, 3]);
  assert.deepEqual(await db('public.helpers_facts').orderBy('id').pluck('id'), [1, 2, 3], 'the hand-inserted row went with the old day');
  await swap([4, 5]);
  assert.deepEqual(await db('public.helpers_facts').orderBy('id').pluck('id'), [4, 5]);
  await assert.rejects(swap([6, 6]), /duplicate key|unique/);
  assert.deepEqual(await db('public.helpers_facts').orderBy('id').pluck('id'), [4, 5], 'a failed swap leaves the day as it was');
});

test('a COPY whose reader goes away is cancelled in Postgres, not left running', async () => {
  const marker = `helpers_abandoned_${Date.now()}`;
  const stream = await copyOut(resources.warehouse, `select '${marker}', pg_sleep(30) from generate_series(1, 3)`);
  await sleep(300);
  stream.destroy();
  const running = async () =>
    Number((await resources.warehouse.raw<{ rows: { n: string }[] }>(`select count(*) as n from pg_stat_activity where query like ? and pid <> pg_backend_pid()`, [`%${marker}%`])).rows[0]?.n);
  assert.equal(await running(), 1, 'the query was running');
  const deadline = Date.now() + 5_000;
  while ((await running()) > 0 && Date.now() < deadline) await sleep(100);
  assert.equal(await running(), 0, 'the abandoned query is gone');
});
