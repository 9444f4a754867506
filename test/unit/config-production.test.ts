/**
 * The production connection settings of issue 13, checked at start: Temporal TLS and API keys,
 * Amazon S3 or an S3-compatible server, Postgres SSL modes and pool sizes, and the worker's
 * queues, concurrency, stop grace and HTTP endpoint. Every error names its variable and never
 * shows a secret or a file's content.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, loadConfig, redactedConfig } from '../../infra/config';
import { pgConnectionString } from '../../infra/db/knex';
import { createS3Client } from '../../infra/s3';
import { temporalConnectionOptions } from '../../infra/temporal-connection';

const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// loadConfig checks the PEM armour, not the certificate itself (the TLS handshake does that).
const CERT = file('client.crt', '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n');
const KEY = file('client.key', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
const NOT_PEM = file('notes.txt', 'a key would be here\n');
const MISSING = path.join(dir, 'missing.pem');
const EXTERNAL = { TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233' };

function file(name: string, content: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** The ConfigError's message for `env`. */
function problems(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

test('Temporal: plain gRPC by default, TLS with system roots, mTLS, CA, server name and API key', () => {
  assert.equal(loadConfig(EXTERNAL).temporal.tls, undefined);
  assert.deepEqual(temporalConnectionOptions(loadConfig(EXTERNAL).temporal), { address: EXTERNAL.TEMPORAL_ADDRESS });
  assert.deepEqual(loadConfig({ ...EXTERNAL, TEMPORAL_TLS: 'true' }).temporal.tls, {});

  const mtls = loadConfig({ ...EXTERNAL, TEMPORAL_TLS_CERT: CERT, TEMPORAL_TLS_KEY: KEY, TEMPORAL_TLS_CA: CERT, TEMPORAL_TLS_SERVER_NAME: 'temporal.internal' });
  assert.deepEqual(mtls.temporal.tls, { clientCertPath: CERT, clientKeyPath: KEY, serverCaPath: CERT, serverName: 'temporal.internal' });
  const options = temporalConnectionOptions(mtls.temporal);
  assert.equal(options.tls?.serverNameOverride, 'temporal.internal');
  assert.match(Buffer.from(options.tls?.clientCertPair?.crt ?? []).toString(), /BEGIN CERTIFICATE/);
  assert.match(Buffer.from(options.tls?.clientCertPair?.key ?? []).toString(), /BEGIN PRIVATE KEY/);
  assert.match(Buffer.from(options.tls?.serverRootCACertificate ?? []).toString(), /BEGIN CERTIFICATE/);

  // An API key implies TLS, as Temporal Cloud takes keys over TLS only; it is a secret in `sluice config`.
  const cloud = loadConfig({ ...EXTERNAL, TEMPORAL_NAMESPACE: 'ns.acct', TEMPORAL_API_KEY: 'key-s3cr3t' });
  assert.deepEqual(temporalConnectionOptions(cloud.temporal), { address: EXTERNAL.TEMPORAL_ADDRESS, tls: {}, apiKey: 'key-s3cr3t' });
  assert.equal(cloud.temporal.namespace, 'ns.acct');
  assert.doesNotMatch(JSON.stringify(redactedConfig(cloud)), /key-s3cr3t/);
});

test('Temporal TLS settings that cannot work are refused, naming the variable', () => {
  assert.match(problems({ ...EXTERNAL, TEMPORAL_TLS_CERT: CERT }), /TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY: set both .* or neither/);
  assert.match(problems({ ...EXTERNAL, TEMPORAL_TLS_KEY: KEY }), /TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY: set both/);
  assert.match(problems({ ...EXTERNAL, TEMPORAL_TLS_CERT: MISSING, TEMPORAL_TLS_KEY: KEY }), /TEMPORAL_TLS_CERT: cannot read .*missing\.pem \(ENOENT\)/);
  assert.match(problems({ ...EXTERNAL, TEMPORAL_TLS_CERT: KEY, TEMPORAL_TLS_KEY: KEY }), /TEMPORAL_TLS_CERT: .* is not a PEM certificate/);
  // A certificate where the key belongs: named, and the file's content is never shown.
  const wrongKey = problems({ ...EXTERNAL, TEMPORAL_TLS_CERT: CERT, TEMPORAL_TLS_KEY: CERT });
  assert.match(wrongKey, /TEMPORAL_TLS_KEY: .* is not a PEM private key/);
  assert.doesNotMatch(wrongKey, /MIIBfake/);
  assert.match(problems({ ...EXTERNAL, TEMPORAL_TLS_CA: NOT_PEM }), /TEMPORAL_TLS_CA: .*notes\.txt is not a PEM certificate/);
  assert.match(problems({ ...EXTERNAL, TEMPORAL_TLS_SERVER_NAME: 'https://x' }), /TEMPORAL_TLS_SERVER_NAME: must be a host name/);
  assert.match(problems({ ...EXTERNAL, TEMPORAL_TLS: 'yes' }), /TEMPORAL_TLS: must be true or false/);
  const contradiction = problems({ ...EXTERNAL, TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'key-s3cr3t' });
  assert.match(contradiction, /TEMPORAL_TLS: is false, but TEMPORAL_API_KEY need TLS/);
  assert.doesNotMatch(contradiction, /key-s3cr3t/);
  assert.match(problems({ TEMPORAL_API_KEY: 'k' }), /TEMPORAL_API_KEY: need TEMPORAL_ADDRESS \(the embedded dev server speaks plain gRPC\)/);
  assert.match(problems({ TEMPORAL_API_KEY: '' + ' ' }), /TEMPORAL_API_KEY: must not be empty/);
});

test('S3: the embedded server, an S3-compatible endpoint, or Amazon S3 with the default credential chain', async () => {
  const embedded = loadConfig({});
  assert.equal(embedded.s3.mode, 'embedded');
  assert.equal(embedded.s3.forcePathStyle, true);

  const minio = loadConfig({ S3_ENDPOINT: 'https://minio.internal:9000', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' });
  assert.equal(minio.s3.mode, 'compatible');
  assert.equal(minio.s3.forcePathStyle, true);
  assert.equal(loadConfig({ S3_ENDPOINT: 'https://s3.example', S3_FORCE_PATH_STYLE: 'false' }).s3.forcePathStyle, false);
  const minioClient = createS3Client(minio);
  assert.equal(await minioClient.config.requestChecksumCalculation(), 'WHEN_REQUIRED');
  assert.equal((await minioClient.config.endpoint?.())?.hostname, 'minio.internal');

  const aws = loadConfig({ S3_ENDPOINT: 'aws', AWS_REGION: 'eu-west-1', S3_BUCKET: 'acme-lake' });
  assert.equal(aws.s3.mode, 'aws');
  assert.equal(aws.s3.forcePathStyle, false);
  assert.equal(aws.s3.endpoint, 'https://s3.eu-west-1.amazonaws.com');
  assert.equal(aws.s3.accessKeyId, undefined, 'no keys: the default chain (IAM role, profile, SSO)');
  const awsClient = createS3Client(aws);
  assert.equal(awsClient.config.endpoint, undefined, 'the SDK resolves the regional endpoint itself');
  assert.equal(awsClient.config.forcePathStyle, false);
  assert.equal(await awsClient.config.requestChecksumCalculation(), 'WHEN_SUPPORTED');
  assert.equal(await awsClient.config.region(), 'eu-west-1');
  const keyed = loadConfig({ S3_ENDPOINT: 'aws', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 'sec', AWS_SESSION_TOKEN: 'sess-tok' });
  const { accessKeyId, secretAccessKey, sessionToken } = await createS3Client(keyed).config.credentials();
  assert.deepEqual({ accessKeyId, secretAccessKey, sessionToken }, { accessKeyId: 'AKIA', secretAccessKey: 'sec', sessionToken: 'sess-tok' });
  assert.doesNotMatch(JSON.stringify(redactedConfig(keyed)), /sess-tok|"sec"/);
  for (const client of [minioClient, awsClient]) client.destroy();
});

test('S3 settings that cannot work are refused, naming the variable', () => {
  assert.match(problems({ S3_ENDPOINT: 'aws' }), /AWS_REGION: required with S3_ENDPOINT=aws/);
  assert.match(problems({ S3_ENDPOINT: 'aws', AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIA' }), /AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: set both, or neither/);
  const secretOnly = problems({ S3_ENDPOINT: 'aws', AWS_REGION: 'eu-west-1', AWS_SECRET_ACCESS_KEY: 'only-the-s3cret' });
  assert.match(secretOnly, /set both, or neither/);
  assert.doesNotMatch(secretOnly, /only-the-s3cret/);
  assert.match(problems({ S3_ENDPOINT: 'minio:9000' }), /S3_ENDPOINT: must be an http\(s\):\/\/ URL, or 'aws' for Amazon S3/);
  assert.match(problems({ S3_FORCE_PATH_STYLE: 'maybe' }), /S3_FORCE_PATH_STYLE: must be true or false/);
});

test('Postgres: SSL modes as libpq means them, CA files checked at start, pool sizes', () => {
  const url = (query: string) => `postgres://etl:hunter2@db.internal:5432/warehouse?${query}`;
  for (const mode of ['disable', 'require', 'verify-full', 'no-verify']) assert.equal(loadConfig({ DATABASE_URL: url(`sslmode=${mode}`) }).postgres.embedded, false);
  assert.equal(loadConfig({ DATABASE_URL: url(`sslmode=verify-ca&sslrootcert=${CERT}`) }).postgres.embedded, false);
  // node-postgres would check the host name for require and verify-ca; libpq (and psql) does not.
  assert.match(pgConnectionString(url('sslmode=require')), /uselibpqcompat=true/);
  assert.doesNotMatch(pgConnectionString(url('sslmode=verify-full')), /uselibpqcompat/);
  assert.equal(pgConnectionString(url('sslmode=require&uselibpqcompat=false')), url('sslmode=require&uselibpqcompat=false'));

  const bad = problems({ DATABASE_URL: url('sslmode=prefer'), SOURCE_DATABASE_URL: url('sslmode=strict') });
  assert.match(bad, /DATABASE_URL: sslmode=prefer is not supported .*use require or disable/);
  assert.match(bad, /SOURCE_DATABASE_URL: sslmode must be one of disable, require, verify-ca, verify-full, no-verify/);
  assert.doesNotMatch(bad, /hunter2/);
  assert.match(problems({ DATABASE_URL: url('sslmode=verify-ca') }), /DATABASE_URL: sslmode=verify-ca needs sslrootcert=/);
  assert.match(problems({ DATABASE_URL: url(`sslmode=verify-full&sslrootcert=${MISSING}`) }), /DATABASE_URL \(sslrootcert\): cannot read .*missing\.pem \(ENOENT\)/);
  assert.match(problems({ DATABASE_URL: url(`sslmode=verify-full&sslkey=${CERT}`) }), /DATABASE_URL \(sslkey\): .* is not a PEM private key/);

  assert.deepEqual([loadConfig({}).postgres.poolMax, loadConfig({}).postgres.sourcePoolMax], [10, 5]);
  assert.equal(loadConfig({ SLUICE_PG_POOL_MAX: '40' }).postgres.poolMax, 40);
  assert.match(problems({ SLUICE_PG_POOL_MAX: '0' }), /SLUICE_PG_POOL_MAX: must be at least 1/);
  assert.match(problems({ SLUICE_SOURCE_PG_POOL_MAX: '2.5' }), /SLUICE_SOURCE_PG_POOL_MAX: must be a whole number of connections/);
});

test('worker: queues, concurrency, stop grace and the HTTP endpoint', () => {
  const defaults = loadConfig({}).worker;
  assert.deepEqual(
    { queues: defaults.queues, concurrency: defaults.concurrency, grace: defaults.shutdownGraceSeconds, http: defaults.httpAddress },
    { queues: undefined, concurrency: undefined, grace: 3600, http: undefined },
  );
  const set = loadConfig({ SLUICE_WORKER_QUEUES: 'etl, etl-backfill,', SLUICE_WORKER_CONCURRENCY: '8', SLUICE_WORKER_SHUTDOWN_GRACE: '0', SLUICE_WORKER_HTTP: '0.0.0.0:9464' }).worker;
  assert.deepEqual(set.queues, ['etl', 'etl-backfill']);
  assert.equal(set.concurrency, 8);
  assert.equal(set.shutdownGraceSeconds, 0);
  assert.equal(set.httpAddress, '0.0.0.0:9464');

  assert.match(problems({ SLUICE_WORKER_QUEUES: ' , ' }), /SLUICE_WORKER_QUEUES: must name at least one task queue/);
  assert.match(problems({ SLUICE_WORKER_CONCURRENCY: '0' }), /SLUICE_WORKER_CONCURRENCY: must be at least 1/);
  assert.match(problems({ SLUICE_WORKER_CONCURRENCY: 'lots' }), /SLUICE_WORKER_CONCURRENCY: must be a number of tasks/);
  assert.match(problems({ SLUICE_WORKER_SHUTDOWN_GRACE: '-1' }), /SLUICE_WORKER_SHUTDOWN_GRACE: must be 0 or more seconds/);
  assert.match(problems({ SLUICE_WORKER_SHUTDOWN_GRACE: '90000' }), /SLUICE_WORKER_SHUTDOWN_GRACE: must be at most 86400/);
  assert.match(problems({ SLUICE_WORKER_HTTP: '9464' }), /SLUICE_WORKER_HTTP: must be host:port/);
});
