import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { literalPrefix } from '../../activities/sensors';
import { ConfigError, loadConfig } from '../../infra/config';
import { ConnectionPool } from '../../infra/connection-pool';
import { connectionCatalog, connectionUri, loadConnections, redactUri } from '../../infra/connections';
import { createKnex } from '../../infra/db/knex';
import { createHttpConnection } from '../../infra/http-connection';
import { createS3Client } from '../../infra/s3';
import { readSecretSettings, type Setting } from '../../infra/secrets';
import { createVariables } from '../../infra/variables';

const SECRET = 'hunter2-s3cr3t';
const config = loadConfig({ SLUICE_HOME: '/nonexistent/sluice-home' });
const parse = (uri: string) => connectionUri.parse(uri);
const problem = (uri: string) => {
  const result = connectionUri.safeParse(uri);
  assert.equal(result.success, false, `${uri} should not parse`);
  return result.error?.issues.map((i) => i.message).join('; ') ?? '';
};
const setting = (name: string, value: string, origin = `SLUICE_CONN_${name.toUpperCase()}`): Setting => ({ name, value, source: 'env', origin });
const tempDir = () => mkdtemp(path.join(os.tmpdir(), 'sluice-conn-'));

describe('connection URIs', () => {
  test('postgres:// and postgresql:// are pg connections, passed on whole', () => {
    assert.deepEqual(parse('postgres://etl:pw@db:5432/crm?sslmode=require'), { kind: 'pg', url: 'postgres://etl:pw@db:5432/crm?sslmode=require' });
    assert.equal(parse('postgresql://db/crm').kind, 'pg');
  });

  test('s3://bucket alone reuses the lake; a prefix always ends in /', () => {
    assert.deepEqual(parse('s3://other-bucket'), { kind: 's3', bucket: 'other-bucket', prefix: '' });
    assert.deepEqual(parse('s3://raw.data/landing/partner'), { kind: 's3', bucket: 'raw.data', prefix: 'landing/partner/' });
    assert.deepEqual(parse('s3://raw/landing/'), { kind: 's3', bucket: 'raw', prefix: 'landing/' });
  });

  test('s3 credentials, endpoint and region; credentials are percent-decoded', () => {
    assert.deepEqual(parse('s3://AKIA1:se%2Fcr%2Bet@partner/in?endpoint=https://minio.example.com:9000&region=eu-west-1'), {
      kind: 's3',
      bucket: 'partner',
      prefix: 'in/',
      endpoint: 'https://minio.example.com:9000',
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIA1', secretAccessKey: 'se/cr+et' },
    });
  });

  test('http(s): base URL without credentials or trailing slash; userinfo becomes Basic auth', () => {
    assert.deepEqual(parse('https://svc:p%40ss@api.example.com/v1/'), {
      kind: 'http',
      baseUrl: 'https://api.example.com/v1',
      auth: { username: 'svc', password: 'p@ss' },
    });
    assert.deepEqual(parse('http://127.0.0.1:8080'), { kind: 'http', baseUrl: 'http://127.0.0.1:8080' });
  });

  test('bad URIs say what is wrong and never quote the URI', () => {
    const cases: Array<[string, RegExp]> = [
      [`ftp://u:${SECRET}@host/x`, /unsupported scheme 'ftp:\/\/'; use postgres:\/\/, postgresql:\/\/, s3:\/\/, http:\/\/ or https:\/\//],
      [SECRET, /not a URI/],
      [`user:${SECRET}@host`, /not a URI/],
      [`s3://Upper_Case:${SECRET}@Bucket`, /bucket .* lowercase/],
      [`s3://key@bucket`, /both key and secret/],
      [`s3://key:${SECRET}@bucket?endpoint=ftp://x`, /endpoint must be an http/],
      [`s3://bucket?endpont=http://x&acl=private`, /unknown parameter\(s\) 'endpont', 'acl'; s3 URIs take endpoint and region/],
      [`https://u:${SECRET}@api.example.com?key=1`, /takes no \?query/],
      [`postgres://u:${SECRET}@/db`, /not a valid postgres:\/\/ URI/],
      ['postgres:///db', /needs a host/],
      [`postgres://u:${SECRET}@db/x#frag`, /no #fragment/],
    ];
    for (const [uri, message] of cases) {
      const text = problem(uri);
      assert.match(text, message, uri);
      assert.ok(!text.includes(SECRET), `${uri}: message quotes the secret: ${text}`);
    }
  });

  test('redaction masks passwords and secret-looking parameters', () => {
    assert.equal(redactUri(`postgres://etl:${SECRET}@db:5432/crm`), 'postgres://etl:***@db:5432/crm');
    assert.equal(redactUri(`s3://AKIA1:${SECRET}@raw/in?endpoint=http://h:9000`), 's3://AKIA1:***@raw/in?endpoint=http://h:9000');
    assert.equal(redactUri(`postgres://db/crm?password=${SECRET}&sslmode=require`), 'postgres://db/crm?password=***&sslmode=require');
    assert.equal(redactUri('https://api.example.com/v1'), 'https://api.example.com/v1');
    assert.equal(redactUri(`not a uri ${SECRET}`), '(invalid URI)');
  });
});

describe('connection catalog', () => {
  test('built-ins come first and always exist; user connections follow, redacted', () => {
    const entries = connectionCatalog(config, [setting('crm', `postgres://etl:${SECRET}@db/crm`)]);
    assert.deepEqual(
      entries.map((e) => [e.name, e.spec.kind, e.source]),
      [['warehouse', 'pg', 'built-in'], ['source', 'pg', 'built-in'], ['lake', 's3', 'built-in'], ['crm', 'pg', 'env']],
    );
    assert.equal(entries[0]?.uri, 'postgres://postgres:***@127.0.0.1:5433/sluice');
    assert.equal(entries[2]?.uri, 's3://lake?endpoint=http://127.0.0.1:9000');
    assert.equal(entries[3]?.uri, 'postgres://etl:***@db/crm');
  });

  test('a built-in cannot be redefined; every problem is named by its variable, none quotes a secret', () => {
    assert.throws(
      () =>
        connectionCatalog(config, [
          setting('lake', 's3://elsewhere'),
          setting('crm', `mysql://u:${SECRET}@db/crm`),
          setting('api', `https://u:${SECRET}@api?x=1`, '/etc/sluice/secrets.json: connections.api'),
        ]),
      (err: Error) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /SLUICE_CONN_LAKE: 'lake' is a built-in s3 connection and cannot be redefined/);
        assert.match(err.message, /SLUICE_CONN_CRM: unsupported scheme 'mysql:\/\/'/);
        assert.match(err.message, /\/etc\/sluice\/secrets.json: connections.api: an http URI takes no \?query/);
        assert.ok(!err.message.includes(SECRET));
        return true;
      },
    );
  });
});

describe('secrets: environment and file', () => {
  test('SLUICE_CONN_/SLUICE_VAR_ names are lower-cased; the environment wins over the file', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'secrets.json');
    await writeFile(file, JSON.stringify({
      connections: { crm: 'postgres://file/crm', raw: 's3://raw' },
      variables: { region: 'us', limits: { max: 10 }, enabled: true },
    }));
    const settings = readSecretSettings(
      { SLUICE_SECRETS_FILE: file, SLUICE_CONN_CRM: 'postgres://env/crm', SLUICE_VAR_REGION: 'eu', SLUICE_VAR_EMPTY: '' },
      dir,
    );
    assert.deepEqual(settings.file, { path: file, found: true });
    assert.deepEqual(settings.connections.map((s) => [s.name, s.value, s.source, s.origin]), [
      ['crm', 'postgres://env/crm', 'env', 'SLUICE_CONN_CRM'],
      ['raw', 's3://raw', 'file', `${file}: connections.raw`],
    ]);
    assert.deepEqual(settings.variables.map((s) => [s.name, s.value, s.source]), [
      ['enabled', 'true', 'file'],
      ['limits', '{"max":10}', 'file'],
      ['region', 'eu', 'env'],
    ]);
  });

  test('the default file <SLUICE_HOME>/secrets.json is optional; a named one must exist', async () => {
    const dir = await tempDir();
    assert.deepEqual(readSecretSettings({}, dir).file, { path: path.join(dir, 'secrets.json'), found: false });
    assert.throws(() => readSecretSettings({ SLUICE_SECRETS_FILE: path.join(dir, 'nope.json') }, dir), /SLUICE_SECRETS_FILE: cannot read .*nope.json \(ENOENT\)/);
  });

  test('a malformed file is reported by key, and its text is never quoted', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'secrets.json');
    await writeFile(file, `{"connections": {"crm": ${SECRET}}}`);
    assert.throws(() => readSecretSettings({}, dir), (err: Error) => {
      assert.match(err.message, /secrets.json: not valid JSON/);
      assert.ok(!err.message.includes(SECRET));
      return true;
    });
    await writeFile(file, JSON.stringify({ connections: { crm: 5, CRM2: 's3://b' }, variable: {} }));
    assert.throws(() => readSecretSettings({}, dir), (err: Error) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /connections.crm: must be a URI string/);
      assert.match(err.message, /variable/);
      return true;
    });
    await writeFile(file, JSON.stringify({ connections: { CRM: 's3://b' } }));
    assert.throws(() => readSecretSettings({}, dir), /connections.CRM: a name must start with a letter/);
  });

  test('bad environment names, and two variables for one name, are errors', () => {
    assert.throws(() => readSecretSettings({ SLUICE_CONN_1CRM: 's3://b' }, '/nonexistent'), /SLUICE_CONN_1CRM: a name must start with a letter/);
    assert.throws(
      () => readSecretSettings({ SLUICE_VAR_REGION: 'eu', SLUICE_VAR_region: 'us' }, '/nonexistent'),
      /SLUICE_VAR_REGION and SLUICE_VAR_region both set 'region'/,
    );
  });

  test('loadConnections reads the environment it is given', () => {
    const loaded = loadConnections(config, { SLUICE_CONN_RAW: 's3://raw', SLUICE_VAR_REGION: 'eu' });
    assert.deepEqual(loaded.connections.map((c) => c.name), ['warehouse', 'source', 'lake', 'raw']);
    assert.deepEqual(loaded.variables.map((v) => v.name), ['region']);
  });
});

describe('variables', () => {
  const vars = createVariables([setting('region', 'eu'), setting('limits', '{"max":10}'), setting('broken', '{')], '/x/secrets.json');

  test('get and json, with fallbacks', () => {
    assert.equal(vars.get('region'), 'eu');
    assert.equal(vars.get('missing', 'us'), 'us');
    assert.deepEqual(vars.json<{ max: number }>('limits'), { max: 10 });
    assert.deepEqual(vars.json('missing', { max: 1 }), { max: 1 });
  });

  test('a missing or malformed variable fails for good, naming it and where to set it', () => {
    assert.throws(() => vars.get('missing'), (err: Error) => {
      assert.ok(err instanceof ApplicationFailure && err.nonRetryable);
      assert.match(err.message, /variable 'missing' is not set; set SLUICE_VAR_MISSING or "variables": \{ "missing": \.\.\. \} in \/x\/secrets.json/);
      return true;
    });
    assert.throws(() => vars.json('missing'), /variable 'missing' is not set/);
    assert.throws(() => vars.json('broken'), /variable 'broken' is not valid JSON/);
  });
});

describe('connection pool', () => {
  const open = (settings: Setting[]) => {
    const shared = {
      warehouse: createKnex(config.postgres.databaseUrl),
      source: createKnex(config.postgres.sourceDatabaseUrl),
      lake: createS3Client(config),
    };
    const pool = new ConnectionPool(connectionCatalog(config, settings), shared, config.s3);
    const close = async () => {
      await pool.close();
      await shared.warehouse.destroy();
      await shared.source.destroy();
      shared.lake.destroy();
    };
    return { pool, shared, close };
  };

  test('built-ins are the worker\'s own clients; others open once, on first use', async () => {
    const { pool, shared, close } = open([setting('crm', 'postgres://db/crm'), setting('raw', 's3://raw/in'), setting('minio', 's3://k:s@minio-bucket?endpoint=http://127.0.0.1:1')]);
    try {
      assert.equal(pool.pg('warehouse'), shared.warehouse);
      assert.equal(pool.pg('source'), shared.source);
      assert.deepEqual(pool.s3('lake'), { client: shared.lake, bucket: 'lake', prefix: '' });
      assert.equal(pool.pg('crm'), pool.pg('crm'));
      assert.notEqual(pool.pg('crm'), shared.warehouse);
      assert.deepEqual(pool.s3('raw'), { client: shared.lake, bucket: 'raw', prefix: 'in/' });
      const minio = pool.s3('minio');
      assert.notEqual(minio.client, shared.lake);
      assert.equal(pool.s3('minio'), minio);
    } finally {
      await close();
    }
  });

  test('an unknown name or the wrong kind fails for good, listing what exists', async () => {
    const { pool, close } = open([setting('crm', 'postgres://db/crm')]);
    try {
      assert.throws(() => pool.pg('crn'), (err: Error) => {
        assert.ok(err instanceof ApplicationFailure && err.nonRetryable);
        assert.equal(err.message, "unknown connection 'crn'; connections: crm (pg), lake (s3), source (pg), warehouse (pg)");
        return true;
      });
      assert.throws(() => pool.pg('lake'), /connection 'lake' is s3, not pg; pg connections: crm, source, warehouse/);
      assert.throws(() => pool.http('crm'), /connection 'crm' is pg, not http; http connections: none/);
    } finally {
      await close();
    }
  });
});

test('an http connection refuses full URLs, so its credentials stay with its host', async () => {
  const api = createHttpConnection('api', { kind: 'http', baseUrl: 'https://api.example.com/v1', auth: { username: 'u', password: 'p' } });
  assert.equal(api.baseUrl, 'https://api.example.com/v1');
  await assert.rejects(api.fetch('https://evil.example.com/x'), /http connection 'api': fetch takes a path under https:\/\/api.example.com\/v1, not a URL/);
  await assert.rejects(api.fetch('//evil.example.com/x'), /not a URL/);
});

test('literalPrefix: the part of a glob before its first special character', () => {
  assert.equal(literalPrefix('landing/partner_sales/dt=2026-11-21/*.csv'), 'landing/partner_sales/dt=2026-11-21/');
  assert.equal(literalPrefix('landing/x/part-?.csv'), 'landing/x/part-');
  assert.equal(literalPrefix('landing/{a,b}/x.csv'), 'landing/');
  assert.equal(literalPrefix('**/x.csv'), '');
  assert.equal(literalPrefix('exact/key.csv'), 'exact/key.csv');
});
