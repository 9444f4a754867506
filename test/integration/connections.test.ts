/**
 * Named connections and variables on the real stack: a worker reads SLUICE_CONN_* and a secrets
 * file when it starts, and a task uses `ctx.conn.pg('crm')` (the test source database),
 * `ctx.conn.s3('raw')` (a second bucket on the test S3 server), `ctx.conn.http('api')` (a real
 * HTTP server in this process that checks Basic auth) and `ctx.vars`. Then the CLI lists and
 * tests them in a child process.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dag, defineTask } from '../../dags/sdk';
import { ensureBucket } from '../../infra/s3';
import { failRun } from '../../server/client/operator';
import { runCli } from '../support/cli';
import { compileOrThrow, startRun, waitForStatus } from '../support/dag-runs';
import { testConfig, testS3Client } from '../support/env';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-connections';
const RAW_BUCKET = 'raw-connections-test';
const API_USER = 'svc';
const API_PASSWORD = 'api-pa55word';
// The test stack's S3 server always has static keys (only S3_ENDPOINT=aws may leave them unset).
const S3_SECRET = testConfig().s3.secretAccessKey ?? assert.fail('the test stack has S3 keys');

/** Uses every kind of connection and both kinds of variable source; returns what it saw. */
const useConnections = defineTask('useConnections', async (input: { key: string }, ctx) => {
  const rows = await ctx.conn.pg('crm').raw('select current_database() as db');
  const raw = ctx.conn.s3('raw');
  const key = `${raw.prefix}${input.key}`;
  await raw.client.send(new PutObjectCommand({ Bucket: raw.bucket, Key: key, Body: ctx.vars.get('region') }));
  const response = await ctx.conn.http('api').fetch('orders?limit=1');
  return {
    database: (rows.rows as Array<{ db: string }>)[0]?.db,
    s3: { bucket: raw.bucket, key },
    api: { status: response.status, body: await response.json() },
    region: ctx.vars.get('region'),
    limits: ctx.vars.json<{ max: number }>('limits'),
    fallback: ctx.vars.get('not_set', 'default'),
    fromEnv: ctx.vars.get('from_env'),
  };
});

/** Asks for the lake, an s3 connection, as a Postgres one. */
const asksForLakeAsPg = defineTask('asksForLakeAsPg', async (_input: undefined, ctx) => {
  ctx.conn.pg('lake');
  return null;
});

let w: TestWorker;
let api: http.Server;
let apiUrl: string;
let secretsFile: string;
const s3 = testS3Client();

before(async () => {
  await ensureBucket(s3, RAW_BUCKET);
  api = http.createServer((req, res) => {
    const expected = `Basic ${Buffer.from(`${API_USER}:${API_PASSWORD}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : JSON.stringify({ path: req.url }));
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://${API_USER}:${API_PASSWORD}@127.0.0.1:${(api.address() as AddressInfo).port}/v1`;

  const dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-secrets-'));
  secretsFile = path.join(dir, 'secrets.json');
  await writeFile(
    secretsFile,
    JSON.stringify({
      connections: { api: apiUrl, crm: 'postgres://overridden-by-env/x' },
      variables: { region: 'eu', limits: { max: 3 } },
    }),
  );
  // The worker reads connections and variables from the environment when it opens its resources.
  Object.assign(process.env, {
    SLUICE_SECRETS_FILE: secretsFile,
    SLUICE_CONN_CRM: testConfig().postgres.sourceDatabaseUrl,
    SLUICE_CONN_RAW: `s3://${RAW_BUCKET}/incoming`,
    SLUICE_VAR_FROM_ENV: 'env-value',
  });
  w = await startTestWorker([useConnections, asksForLakeAsPg], TQ);
});

after(async () => {
  await w?.stop();
  await new Promise((resolve) => api?.close(resolve));
  s3.destroy();
});

describe('connections and variables in tasks', () => {
  test('a task uses pg, s3 and http connections and variables from env and the secrets file', async () => {
    const spec = compileOrThrow(
      dag('uses_connections', { taskQueue: TQ }, ({ task }) => {
        task(useConnections, { key: `run-${Date.now()}.txt` });
      }),
      [useConnections],
    );
    const run = await startRun(w.client, spec);
    await run.handle.result();
    const status = await waitForStatus(run.handle, (s) => s.state === 'success');
    const output = status.tasks[0]?.output as Record<string, unknown> & { s3: { bucket: string; key: string } };
    assert.equal(output.database, new URL(testConfig().postgres.sourceDatabaseUrl).pathname.slice(1));
    assert.equal(output.s3.bucket, RAW_BUCKET);
    assert.match(output.s3.key, /^incoming\/run-\d+\.txt$/);
    assert.deepEqual(output.api, { status: 200, body: { path: '/v1/orders?limit=1' } });
    assert.equal(output.region, 'eu');
    assert.deepEqual(output.limits, { max: 3 });
    assert.equal(output.fallback, 'default');
    assert.equal(output.fromEnv, 'env-value');
    const object = await s3.send(new GetObjectCommand({ Bucket: RAW_BUCKET, Key: output.s3.key }));
    assert.equal(await object.Body?.transformToString(), 'eu');
  });

  test('asking for a connection of the wrong kind fails at once, listing the right ones', async () => {
    const spec = compileOrThrow(
      dag('wrong_kind', { taskQueue: TQ }, ({ task }) => {
        task(asksForLakeAsPg, undefined, { retries: 3 });
      }),
      [asksForLakeAsPg],
    );
    const run = await startRun(w.client, spec);
    const status = await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator');
    assert.equal(status.tasks[0]?.attempts, 1, 'not retried');
    assert.match(status.tasks[0]?.error ?? '', /connection 'lake' is s3, not pg; pg connections: crm, source, warehouse/);
    await failRun(w.client, run.runId, 'test done');
  });
});

describe('sluice connections / variables', () => {
  const cli = (args: string[], extra: NodeJS.ProcessEnv = {}) => runCli(args, { ...process.env, ...extra });
  // The test Postgres's password is `postgres`, which every postgres:// URI contains; the
  // masked form is checked instead.
  const noSecrets = (text: string) => {
    for (const secret of [API_PASSWORD, S3_SECRET]) assert.ok(!text.includes(secret), `output shows a secret: ${text}`);
  };

  test('list shows every connection with its kind and source, passwords masked', async () => {
    const result = await cli(['connections', 'list', '--json']);
    assert.equal(result.code, 0, result.stderr);
    noSecrets(result.stdout + result.stderr);
    const listed = JSON.parse(result.stdout) as { secretsFile: { path: string; found: boolean }; connections: Array<Record<string, string>> };
    assert.deepEqual(listed.secretsFile, { path: secretsFile, found: true });
    assert.deepEqual(
      listed.connections.map((c) => [c.name, c.kind, c.source]),
      [
        ['warehouse', 'pg', 'built-in'],
        ['source', 'pg', 'built-in'],
        ['lake', 's3', 'built-in'],
        ['api', 'http', 'file'],
        ['crm', 'pg', 'env'],
        ['raw', 's3', 'env'],
      ],
    );
    assert.equal(listed.connections.find((c) => c.name === 'api')?.uri, apiUrl.replace(API_PASSWORD, '***'));
    const human = await cli(['connections', 'list']);
    assert.match(human.stdout, /^crm\s+pg\s+env\s+postgres:\/\/postgres:\*\*\*@/m);
    noSecrets(human.stdout);
  });

  test('test checks each connection: exit 0 when all answer', async () => {
    const result = await cli(['connections', 'test', '--json']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const report = JSON.parse(result.stdout) as { ok: boolean; connections: Array<{ name: string; ok: boolean; detail: string }> };
    assert.equal(report.ok, true);
    assert.deepEqual(report.connections.map((c) => [c.name, c.ok]), [
      ['warehouse', true], ['source', true], ['lake', true], ['api', true], ['crm', true], ['raw', true],
    ]);
    assert.match(report.connections.find((c) => c.name === 'api')?.detail ?? '', /HTTP 200 from HEAD/);
    assert.match(report.connections.find((c) => c.name === 'raw')?.detail ?? '', new RegExp(`listed s3://${RAW_BUCKET}/incoming/`));
  });

  test('a failing connection exits 1 with its error; secrets stay masked', async () => {
    const down = { SLUICE_CONN_DOWN: `postgres://etl:${API_PASSWORD}@127.0.0.1:1/x`, SLUICE_CONN_NOBUCKET: 's3://no-such-bucket-here' };
    const result = await cli(['connections', 'test'], down);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    noSecrets(result.stdout + result.stderr);
    assert.match(result.stdout, /^down\s+pg\s+failed\s+.*ECONNREFUSED/m);
    assert.match(result.stdout, /^nobucket\s+s3\s+failed\s+/m);
    assert.match(result.stdout, /^crm\s+pg\s+ok\s+select 1/m);
    const one = await cli(['connections', 'test', 'crm', '--json'], down);
    assert.equal(one.code, 0, one.stdout + one.stderr);
    assert.deepEqual((JSON.parse(one.stdout) as { connections: Array<{ name: string }> }).connections.map((c) => c.name), ['crm']);
  });

  test('an unknown name exits 2; a bad URI exits 2 naming its variable, not its secret', async () => {
    const unknown = await cli(['connections', 'test', 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown connection 'nope'; connections: api, crm, lake, raw, source, warehouse/);
    const bad = await cli(['connections', 'list'], { SLUICE_CONN_BAD: `ftp://u:${API_PASSWORD}@host` });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /SLUICE_CONN_BAD: unsupported scheme 'ftp:\/\/'/);
    noSecrets(bad.stderr);
    const builtIn = await cli(['connections', 'list'], { SLUICE_CONN_WAREHOUSE: 'postgres://elsewhere/db' });
    assert.equal(builtIn.code, 2);
    assert.match(builtIn.stderr, /SLUICE_CONN_WAREHOUSE: 'warehouse' is a built-in pg connection and cannot be redefined/);
  });

  test('variables list shows names, sources and values', async () => {
    const result = await cli(['variables', 'list', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual((JSON.parse(result.stdout) as { variables: unknown[] }).variables, [
      { name: 'from_env', value: 'env-value', source: 'env' },
      { name: 'limits', value: '{"max":3}', source: 'file' },
      { name: 'region', value: 'eu', source: 'file' },
    ]);
  });
});
