/**
 * The two commands a deployment runs besides `sluice worker` (see infra/deploy): `sluice db migrate`
 * as a one-shot job before the rest starts, and `sluice console` serving the console alone.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { findFreePorts } from '../../infra/dev-stack/ports';
import { runCli } from '../support/cli';

const SLUICE = path.resolve(__dirname, '../../server/cli/sluice.js');

test('sluice db migrate is idempotent and exits 3 when Postgres is not there', async () => {
  const first = await runCli(['db', 'migrate', '--json']);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), { applied: [] }, 'the test stack is migrated already: nothing to apply');
  const human = await runCli(['db', 'migrate']);
  assert.match(human.stdout, /the warehouse schema is up to date/);

  const [closedPort] = await findFreePorts(1);
  const down = await runCli(['db', 'migrate'], { ...process.env, DATABASE_URL: `postgres://sluice:secret@127.0.0.1:${String(closedPort)}/sluice` });
  assert.equal(down.code, 3, down.stderr);
  assert.match(down.stderr, /cannot reach Postgres .*DATABASE_URL/);
  assert.doesNotMatch(down.stderr + down.stdout, /secret/, 'the password is not printed');
});

test('sluice console serves the console alone on SLUICE_CONSOLE_HOST:PORT and stops on SIGTERM', { timeout: 60_000 }, async () => {
  const [port] = await findFreePorts(1);
  const token = 'deploy-commands-test-token';
  const env = { ...process.env, SLUICE_CONSOLE_PORT: String(port), SLUICE_CONSOLE_HOST: '127.0.0.1', SLUICE_CONSOLE_TOKEN: token };
  const child = spawn(process.execPath, [SLUICE, 'console', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    const deadline = Date.now() + 30_000;
    while (!stdout.includes('consoleUrl')) {
      assert.ok(Date.now() < deadline && child.exitCode === null, `the console did not start: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const base = `http://127.0.0.1:${String(port)}`;
    assert.deepEqual(JSON.parse(stdout), { consoleUrl: base });
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/api/dags`)).status, 401, 'the API wants the token');
    const dags = await fetch(`${base}/api/dags`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(dags.status, 200);
    const ids = ((await dags.json()) as { dags: Array<{ dagId: string }> }).dags.map((d) => d.dagId);
    assert.ok(ids.includes('daily_etl'), `the DAG folder is loaded: ${ids.join(', ')}`);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
  } finally {
    child.kill('SIGKILL');
  }
});
