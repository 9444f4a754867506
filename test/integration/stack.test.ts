/** The stack `npm test` started: each server answers, and is set up the way Sluice expects. */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Client, Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type pg from 'pg';
import { ensureSearchAttributes, SEARCH_ATTRIBUTES } from '../../infra/dev-stack/temporal-server';
import { testConfig, testPgPool, testS3Client, testTemporal } from '../support/env';

describe('postgres', () => {
  let warehouse: pg.Pool;
  before(() => {
    warehouse = testPgPool('warehouse');
  });
  after(() => warehouse.end());

  test('answers, and hosts both the warehouse and the source database', async () => {
    assert.deepEqual((await warehouse.query('select 1 as one')).rows, [{ one: 1 }]);
    const { rows } = await warehouse.query<{ datname: string }>(
      `select datname from pg_database where datname in ('sluice', 'shop') order by datname`,
    );
    assert.deepEqual(rows.map((r) => r.datname), ['shop', 'sluice']);
    const source = testPgPool('source');
    try {
      assert.deepEqual((await source.query('select current_database() as db')).rows, [{ db: 'shop' }]);
    } finally {
      await source.end();
    }
  });

  test('migrations created the schemas, with knex bookkeeping in `sluice`', async () => {
    const { rows } = await warehouse.query<{ schema_name: string }>(
      `select schema_name from information_schema.schemata
        where schema_name in ('warehouse', 'gold', 'features', 'ops', 'sluice') order by 1`,
    );
    assert.deepEqual(rows.map((r) => r.schema_name), ['features', 'gold', 'ops', 'sluice', 'warehouse']);
    const applied = await warehouse.query<{ name: string }>('select name from sluice.knex_migrations order by id');
    assert.equal(applied.rows[0]?.name, '0001_schemas.ts');
  });
});

describe('s3', () => {
  const { bucket } = testConfig().s3;
  // A prefix of its own, so this file never sees or deletes another test's objects.
  const root = `stack-test-${randomUUID()}`;
  let s3: S3Client;
  before(() => {
    s3 = testS3Client();
  });
  after(async () => {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${root}/` }));
    const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key }));
    if (keys.length > 0) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
    s3.destroy();
  });

  test('nested dt= keys round-trip and list by prefix, with and without a delimiter', async () => {
    const keys = [
      `${root}/bronze/orders/dt=2026-11-21/part-0.parquet`,
      `${root}/bronze/orders/dt=2026-11-21/part-1.parquet`,
      `${root}/bronze/orders/dt=2026-11-22/part-0.parquet`,
      `${root}/bronze/orders_archive/dt=2026-11-21/part-0.parquet`,
    ] as const;
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `data of ${key}` }));

    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: keys[0] }));
    assert.equal(await got.Body?.transformToString(), `data of ${keys[0]}`);

    const recursive = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${root}/bronze/orders/` }));
    assert.deepEqual((recursive.Contents ?? []).map((o) => o.Key), keys.slice(0, 3));

    const byDay = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${root}/bronze/orders/`, Delimiter: '/' }),
    );
    assert.deepEqual(byDay.Contents ?? [], []);
    assert.deepEqual(
      (byDay.CommonPrefixes ?? []).map((p) => p.Prefix),
      [`${root}/bronze/orders/dt=2026-11-21/`, `${root}/bronze/orders/dt=2026-11-22/`],
    );

    const paged = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: `${root}/bronze/orders/`, MaxKeys: 2 }),
    );
    assert.equal(paged.IsTruncated, true);
    const rest = await s3.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: `${root}/bronze/orders/`,
        ContinuationToken: paged.NextContinuationToken,
      }),
    );
    assert.deepEqual([...(paged.Contents ?? []), ...(rest.Contents ?? [])].map((o) => o.Key), keys.slice(0, 3));
  });

  test('multipart uploads (lib-storage) of a stream store exactly the bytes sent', async () => {
    const part = 5 * 1024 * 1024; // the S3 minimum part size
    const data = Buffer.alloc(2 * part + 12345);
    for (let i = 0; i < data.length; i += 997) data[i] = i % 251;
    const key = `${root}/landing/partner_sales/dt=2026-11-21/big.csv`;
    const chunks = Array.from({ length: Math.ceil(data.length / 65536) }, (_, i) => data.subarray(i * 65536, (i + 1) * 65536));
    const upload = new Upload({
      client: s3,
      params: { Bucket: bucket, Key: key, Body: Readable.from(chunks) },
      partSize: part,
      queueSize: 2,
    });
    const result = await upload.done();
    assert.match(result.ETag ?? '', /-3"$/, 'uploaded in three parts');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
    assert.equal(body.length, data.length);
    assert.equal(createHash('sha256').update(body).digest('hex'), createHash('sha256').update(data).digest('hex'));
  });
});

describe('temporal', () => {
  let client: Client;
  let connection: Connection;
  before(async () => {
    ({ client, connection } = await testTemporal());
  });
  after(() => connection.close());

  test('the namespace answers and has all four search attributes with their types', async () => {
    const { namespace } = testConfig().temporal;
    const described = await client.workflowService.describeNamespace({ namespace });
    assert.equal(described.namespaceInfo?.name, namespace);
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    assert.deepEqual(
      Object.fromEntries(Object.keys(SEARCH_ATTRIBUTES).map((name) => [name, customAttributes?.[name]])),
      {
        DagId: encodeSearchAttributeIndexedValueType(SearchAttributeType.KEYWORD),
        LogicalDate: encodeSearchAttributeIndexedValueType(SearchAttributeType.DATETIME),
        DagRunState: encodeSearchAttributeIndexedValueType(SearchAttributeType.KEYWORD),
        FailedTasks: encodeSearchAttributeIndexedValueType(SearchAttributeType.KEYWORD_LIST),
      },
    );
  });

  test('ensureSearchAttributes registers them on a namespace that lacks them, idempotently', async () => {
    const namespace = `sluice-test-${randomUUID().slice(0, 8)}`;
    await client.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    await ensureSearchAttributes(connection, namespace);
    await ensureSearchAttributes(connection, namespace);
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    assert.deepEqual(Object.keys(customAttributes ?? {}).filter((n) => n in SEARCH_ATTRIBUTES).sort(), [
      'DagId',
      'DagRunState',
      'FailedTasks',
      'LogicalDate',
    ]);
  });
});
