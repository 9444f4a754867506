import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig, redactedConfig } from '../../infra/config';

test('defaults: every server embedded on the documented ports', () => {
  const config = loadConfig({});
  assert.equal(config.home, path.resolve('.sluice'));
  assert.deepEqual(config.temporal, {
    embedded: true,
    address: '127.0.0.1:7233',
    namespace: 'default',
    port: 7233,
    uiPort: 8233,
    tls: undefined,
    apiKey: undefined,
  });
  assert.equal(config.postgres.embedded, true);
  assert.equal(config.postgres.databaseUrl, 'postgres://postgres:postgres@127.0.0.1:5433/sluice');
  assert.equal(config.postgres.sourceDatabaseUrl, 'postgres://postgres:postgres@127.0.0.1:5433/shop');
  assert.deepEqual(config.postgres.embeddedDatabases, ['sluice', 'shop']);
  assert.equal(config.s3.embedded, true);
  assert.equal(config.s3.endpoint, 'http://127.0.0.1:9000');
  assert.equal(config.s3.bucket, 'lake');
  assert.equal(config.s3.region, 'us-east-1');
  assert.equal(config.console.port, 3000);
  assert.equal(config.console.token, undefined);
  assert.deepEqual(config.tools, { temporal: undefined, rclone: undefined });
});

test('embedded ports follow their variables', () => {
  const config = loadConfig({ TEMPORAL_PORT: '7300', SLUICE_PG_PORT: '6000', SLUICE_S3_PORT: '9100' });
  assert.equal(config.temporal.address, '127.0.0.1:7300');
  assert.equal(config.postgres.databaseUrl, 'postgres://postgres:postgres@127.0.0.1:6000/sluice');
  assert.equal(config.s3.endpoint, 'http://127.0.0.1:9100');
});

test('external URLs switch the embedded servers off', () => {
  const config = loadConfig({
    TEMPORAL_ADDRESS: 'temporal.internal:7233',
    DATABASE_URL: 'postgres://etl:pw@db.internal:5432/warehouse',
    S3_ENDPOINT: 'https://minio.internal',
    S3_BUCKET: 'acme-lake',
    SLUICE_HOME: '/var/lib/sluice',
  });
  assert.equal(config.temporal.embedded, false);
  assert.equal(config.temporal.address, 'temporal.internal:7233');
  assert.equal(config.postgres.embedded, false);
  assert.deepEqual(config.postgres.embeddedDatabases, []);
  // The source defaults to database `shop` on the warehouse's own server, not an embedded one.
  assert.equal(config.postgres.sourceDatabaseUrl, 'postgres://etl:pw@db.internal:5432/shop');
  assert.equal(config.s3.embedded, false);
  assert.equal(config.s3.endpoint, 'https://minio.internal');
  assert.equal(config.s3.bucket, 'acme-lake');
  assert.equal(config.home, '/var/lib/sluice');
});

test('an external source next to an embedded warehouse', () => {
  const config = loadConfig({ SOURCE_DATABASE_URL: 'postgresql://ro@oltp:5432/shop' });
  assert.equal(config.postgres.embedded, true);
  assert.deepEqual(config.postgres.embeddedDatabases, ['sluice']);
  assert.equal(config.postgres.sourceDatabaseUrl, 'postgresql://ro@oltp:5432/shop');
});

test('an empty variable counts as unset', () => {
  const config = loadConfig({ DATABASE_URL: '', SLUICE_PG_PORT: '', S3_BUCKET: '' });
  assert.equal(config.postgres.embedded, true);
  assert.equal(config.postgres.port, 5433);
  assert.equal(config.s3.bucket, 'lake');
});

test('malformed values fail with the variable named and no secret echoed', () => {
  assert.throws(() => loadConfig({ SLUICE_PG_PORT: 'fivefourthreethree' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /SLUICE_PG_PORT: must be a TCP port/);
    return true;
  });
  assert.throws(
    () => loadConfig({ DATABASE_URL: 'mysql://etl:hunter2@db/warehouse', TEMPORAL_PORT: '70000', S3_BUCKET: 'Not_A_Bucket' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /DATABASE_URL: must be a postgres:\/\/ URL/);
      assert.match(err.message, /TEMPORAL_PORT: must be a TCP port \(1-65535\)/);
      assert.match(err.message, /S3_BUCKET: must be a valid S3 bucket name/);
      assert.doesNotMatch(err.message, /hunter2/);
      return true;
    },
  );
  assert.throws(() => loadConfig({ TEMPORAL_ADDRESS: 'http://temporal:7233' }), /TEMPORAL_ADDRESS: must be host:port/);
});

test('SLUICE_POOLS declares pools as name=slots; a bad entry is named', () => {
  assert.deepEqual(loadConfig({}).pools, []);
  assert.deepEqual(loadConfig({ SLUICE_POOLS: 'warehouse=4, api.v2=0,' }).pools, [
    { name: 'warehouse', slots: 4 },
    { name: 'api.v2', slots: 0 },
  ]);
  assert.throws(() => loadConfig({ SLUICE_POOLS: 'warehouse=4,bad pool=2' }), /SLUICE_POOLS: 'bad pool=2' must be name=slots/);
  assert.throws(() => loadConfig({ SLUICE_POOLS: 'big=20000' }), /SLUICE_POOLS: 'big=20000' must be name=slots/);
  assert.equal(loadConfig({}).worker.gateCheckIntervalMs, 30_000);
  assert.throws(() => loadConfig({ SLUICE_GATE_CHECK_INTERVAL_MS: '10' }), /SLUICE_GATE_CHECK_INTERVAL_MS: must be at least 1000/);
});

test('redactedConfig masks secrets and URL passwords, keeps the rest', () => {
  const config = loadConfig({
    DATABASE_URL: 'postgres://etl:hunter2@db.internal:5432/warehouse',
    AWS_SECRET_ACCESS_KEY: 'very-secret',
    SLUICE_CONSOLE_TOKEN: 'tok-123',
  });
  const redacted = redactedConfig(config);
  const printed = JSON.stringify(redacted);
  for (const secret of ['hunter2', 'very-secret', 'tok-123']) assert.doesNotMatch(printed, new RegExp(secret));
  assert.equal(redacted.postgres.databaseUrl, 'postgres://etl:***@db.internal:5432/warehouse');
  assert.equal(redacted.postgres.password, '***');
  assert.equal(redacted.s3.secretAccessKey, '***');
  assert.equal(redacted.console.token, '***');
  assert.equal(redacted.s3.accessKeyId, 'sluice');
  assert.equal(redacted.temporal.address, config.temporal.address);
  // The original is untouched.
  assert.equal(config.s3.secretAccessKey, 'very-secret');
});
