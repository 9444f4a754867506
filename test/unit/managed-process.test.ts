import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { pollUntil, startProcess } from '../../infra/dev-stack/process';

const homes: string[] = [];
after(() => Promise.all(homes.map((h) => fsp.rm(h, { recursive: true, force: true }))));

async function tempHome(): Promise<string> {
  const home = await fsp.mkdtemp(path.join(os.tmpdir(), 'sluice-process-test-'));
  homes.push(home);
  return home;
}

test('readiness fails at once, with the log tail, when the process exits early', async () => {
  const home = await tempHome();
  const proc = await startProcess({ name: 'crasher', command: 'sh', args: ['-c', 'echo "port taken" >&2; exit 3'], home });
  const started = Date.now();
  await assert.rejects(
    proc.waitUntil(() => Promise.reject(new Error('not listening')), { what: 'Crasher', timeoutMs: 30_000 }),
    (err: Error) => {
      assert.match(err.message, /Crasher failed: crasher exited \(code 3\) before it was ready/);
      assert.match(err.message, /port taken/);
      return true;
    },
  );
  assert.ok(Date.now() - started < 5_000, 'did not wait for the deadline');
  await proc.stop();
});

test('readiness times out with the last error and the log file', async () => {
  const home = await tempHome();
  const proc = await startProcess({ name: 'sleeper', command: 'sleep', args: ['60'], home });
  try {
    await assert.rejects(
      proc.waitUntil(() => Promise.reject(new Error('connection refused')), { what: 'Sleeper', timeoutMs: 300, intervalMs: 50 }),
      new RegExp(`^Error: Sleeper not ready after 0\\.\\ds: connection refused; see ${proc.logFile}$`),
    );
  } finally {
    await proc.stop();
  }
});

test('stop() ends the whole process group, escalating to SIGKILL after the deadline', async () => {
  const home = await tempHome();
  // A shell that ignores SIGTERM, with a child of its own in the same group.
  const proc = await startProcess({
    name: 'stubborn',
    command: 'sh',
    args: ['-c', `trap '' TERM; sleep 60 & echo $! > ${home}/child.pid; wait`],
    home,
    stopTimeoutMs: 300,
  });
  const childPid = Number(
    await pollUntil(() => fsp.readFile(path.join(home, 'child.pid'), 'utf8'), { what: 'child pid', timeoutMs: 5_000 }),
  );
  await proc.stop();
  assert.deepEqual(await proc.exited, { code: null, signal: 'SIGKILL' });
  // The grandchild was killed with the group. Its new parent (init) reaps it when it gets to it,
  // which in a busy container can take seconds: until then it is a zombie, dead all the same.
  await pollUntil(async () => assert.ok(!isRunning(childPid), `pid ${childPid} still runs`), { what: 'grandchild gone', timeoutMs: 5_000 });
  await assert.rejects(fsp.access(path.join(home, 'run', 'stubborn.json')), 'pid file removed');
});

test('a second start on the same home is refused while the first owner runs', async () => {
  const home = await tempHome();
  const proc = await startProcess({ name: 'single', command: 'sleep', args: ['60'], home });
  try {
    await assert.rejects(
      startProcess({ name: 'single', command: 'sleep', args: ['60'], home }),
      /single is already running for this SLUICE_HOME/,
    );
  } finally {
    await proc.stop();
  }
});

/** False once `pid` is gone or a zombie (killed, not yet reaped). */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
