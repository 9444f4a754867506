/**
 * Once up, only Ctrl-C stops `sluice up`. On a stack of its own (its own SLUICE_HOME and ports, no
 * external servers), Postgres, rclone (S3) and the Temporal dev server are SIGKILLed in turn: each
 * must be restarted and `stack_check` must succeed again, while `sluice up` and the other servers
 * keep running. Postgres's restart first finds its port taken and is retried on the backoff; a
 * Ctrl-C during a restart backoff stops everything, cleanly. And a demo run that fails leaves
 * `sluice up` running.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli';
import { embeddedStackEnv, isAlive, serverPidFile, startSluiceUp, type SluiceUp } from '../support/sluice-up';

const SERVERS = ['postgres', 's3', 'temporal'] as const;
type ServerName = (typeof SERVERS)[number];

test('sluice up restarts an embedded server that dies, and nothing else stops', { timeout: 120_000 }, async () => {
  const { env, pgPort } = await embeddedStackEnv();
  const up = await startSluiceUp([], env);
  const cliEnv = { ...process.env, ...env, SLUICE_HOME: up.home };
  const pids = {} as Record<ServerName, number>;
  let stopMs = 0;
  try {
    await up.waitFor(/worker ready \(pid \d+\)/, 60_000);
    for (const name of SERVERS) pids[name] = serverPidFile(up, name).pid;

    for (const name of SERVERS) {
      const killed = pids[name];
      process.kill(killed, 'SIGKILL');
      await up.waitFor(new RegExp(`${name} \\(pid ${killed}\\) exited unexpectedly \\(signal SIGKILL\\); restarting it in 1 s`));
      if (name === 'postgres') await holdPortDuringTwoRestarts(up, pgPort);
      const [, back] = await up.waitFor(new RegExp(`${name} is back after [\\d.]+ s \\(pid (\\d+)\\)`));
      pids[name] = Number(back);
      assert.notEqual(pids[name], killed);
      assert.ok(isAlive(up.pid), `sluice up runs after the ${name} kill`);
      for (const server of SERVERS) {
        assert.deepEqual(serverPidFile(up, server), { pid: pids[server], owner: up.pid }, `${server} after the ${name} kill`);
        assert.ok(isAlive(pids[server]), `${server} (pid ${pids[server]}) runs after the ${name} kill`);
      }
      await assertStackCheckSucceeds(cliEnv, `after the ${name} kill`);
    }

    // A second crash soon after a restart waits longer; Ctrl-C during that wait stops everything.
    process.kill(pids.temporal, 'SIGKILL');
    await up.waitFor(new RegExp(`temporal \\(pid ${pids.temporal}\\) exited unexpectedly \\(signal SIGKILL\\); restarting it in 2 s`));
  } finally {
    const interrupted = Date.now();
    const code = await up.interrupt();
    stopMs = Date.now() - interrupted;
    assert.equal(code, 0, `sluice up should exit 0 on Ctrl-C; stderr:\n${up.stderr()}`);
  }
  assert.ok(stopMs < 15_000, `Ctrl-C took ${stopMs} ms`);
  assert.equal(up.stderr().match(/temporal is back/g)?.length, 1, 'a stop cancels the pending restart');
  for (const name of SERVERS) assert.ok(!isAlive(pids[name]), `${name} (pid ${pids[name]}) was stopped`);
});

test('a demo run that fails leaves sluice up running', { timeout: 60_000 }, async () => {
  // A DAG folder without the demo DAG, against the test stack's servers.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-demo-dags-'));
  writeFileSync(
    path.join(dir, 'other.ts'),
    `import { dag, defineTask } from ${JSON.stringify(path.resolve(__dirname, '../../dags/sdk'))};
const noop = defineTask('noop', async () => ({}));
export default dag('other', ({ task }) => void task(noop, {}));
`,
  );
  const up = await startSluiceUp(['--demo'], { SLUICE_DAGS_DIR: dir, LOG_LEVEL: 'warn' });
  try {
    await up.waitFor(/demo run failed: unknown DAG 'daily_etl' \(known: other\); Sluice keeps running/);
    assert.equal((await fetch(`${up.consoleUrl}/api/runs`)).status, 401, 'the console still answers');
  } finally {
    const code = await up.interrupt();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, `sluice up should exit 0 on Ctrl-C; stderr:\n${up.stderr()}`);
  }
});

/** Takes the port while the restart backoff runs, until two restarts have failed on it. */
async function holdPortDuringTwoRestarts(up: SluiceUp, port: number): Promise<void> {
  const blocker = net.createServer();
  await new Promise<void>((resolve, reject) => {
    blocker.once('error', reject);
    blocker.listen({ port, host: '127.0.0.1', exclusive: true }, resolve);
  });
  try {
    for (const delay of [2, 4]) {
      await up.waitFor(new RegExp(`could not restart postgres: Port ${port} on 127\\.0\\.0\\.1, needed by the embedded Postgres, is already in use[^\\n]*; trying again in ${delay} s`));
    }
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
}

async function assertStackCheckSucceeds(env: NodeJS.ProcessEnv, when: string): Promise<void> {
  const run = await runCli(['trigger', 'stack_check', '--wait', '--json'], env);
  assert.equal(run.code, 0, `stack_check ${when}: ${run.stdout}\n${run.stderr}`);
  assert.equal((JSON.parse(run.stdout) as { state: string }).state, 'success', `stack_check ${when}`);
}
