/**
 * Temporal over mutual TLS, with certificates from a private CA made here by openssl. The dev
 * server has no TLS options (`temporal server start-dev --help`), so a TLS terminator in front of
 * it does the server's part of the handshake: it presents a certificate for `temporal.test`,
 * demands a client certificate signed by the CA, and passes the HTTP/2 stream through to the dev
 * server. The settings are read by loadConfig from the TEMPORAL_TLS_* variables, as in production,
 * for the client's Connection (the CLI) and the worker's NativeConnection (Rust core) alike.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../infra/config';
import { temporalConnectionOptions } from '../../infra/temporal-connection';
import { runCli } from '../support/cli';
import { testConfig } from '../support/env';

const SERVER_NAME = 'temporal.test';
const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-tls-'));
const pem = (name: string) => path.join(dir, name);
let terminator: tls.Server;
let address: string;

before(async () => {
  makeCertificates();
  const upstream = testConfig().temporal.address.split(':');
  terminator = tls.createServer(
    { key: readFileSync(pem('server.key')), cert: readFileSync(pem('server.crt')), ca: readFileSync(pem('ca.crt')), requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] },
    (client) => {
      const server = net.connect(Number(upstream[1]), upstream[0]);
      client.pipe(server).pipe(client);
      client.on('error', () => server.destroy());
      server.on('error', () => client.destroy());
    },
  );
  // Handshakes the terminator refuses (the point of two of the tests) end here.
  terminator.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve));
  address = `127.0.0.1:${String((terminator.address() as net.AddressInfo).port)}`;
});

after(async () => {
  await new Promise<void>((resolve) => terminator.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** The environment of a deployment on this server: mTLS with the private CA. */
const mtlsEnv = () => ({
  ...process.env,
  TEMPORAL_ADDRESS: address,
  TEMPORAL_TLS_CERT: pem('client.crt'),
  TEMPORAL_TLS_KEY: pem('client.key'),
  TEMPORAL_TLS_CA: pem('ca.crt'),
  TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
});

test('the CLI and a worker connection reach Temporal over mTLS with a private CA', { timeout: 30_000 }, async () => {
  const schedules = await runCli(['schedules', 'list', '--json'], mtlsEnv());
  assert.equal(schedules.code, 0, schedules.stderr);

  const native = await NativeConnection.connect(temporalConnectionOptions(loadConfig(mtlsEnv()).temporal));
  try {
    const info = await native.workflowService.getSystemInfo({});
    assert.ok(info.serverVersion, 'the worker connection answered through TLS');
  } finally {
    await native.close();
  }
});

test('without the client certificate, or without the private CA, no connection is made', { timeout: 30_000 }, async () => {
  const { TEMPORAL_TLS_CERT: _cert, TEMPORAL_TLS_KEY: _key, ...noClientCert } = mtlsEnv();
  const { TEMPORAL_TLS_CA: _ca, ...noCa } = mtlsEnv();
  // Side by side: each waits out its connect timeout.
  await Promise.all(
    [noClientCert, noCa].map((env) => assert.rejects(Connection.connect({ ...temporalConnectionOptions(loadConfig(env).temporal), connectTimeout: '2s' }))),
  );
});

/** A CA, a server certificate for SERVER_NAME and a client certificate, all EC P-256. */
function makeCertificates(): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name);
  key('ca.key');
  openssl('req', '-x509', '-new', '-key', 'ca.key', '-subj', '/CN=Sluice test CA', '-days', '1', '-out', 'ca.crt');
  for (const [name, subject, extension] of [
    ['server', SERVER_NAME, `subjectAltName=DNS:${SERVER_NAME}\nextendedKeyUsage=serverAuth`],
    ['client', 'sluice-worker', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    key(`${name}.key`);
    openssl('req', '-new', '-key', `${name}.key`, '-subj', `/CN=${subject}`, '-out', `${name}.csr`);
    writeFileSync(pem(`${name}.ext`), `${extension}\n`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', `${name}.ext`, '-out', `${name}.crt`);
  }
}
