/**
 * `sluice up` while DAGs are being written: a new DAG with new task code runs without a restart
 * (it used to fail with "Activity function ... is not registered"), a broken edit takes nothing
 * down, and a worker process that dies is restarted. `sluice up` runs on a DAG folder of its own,
 * whose modules import the repository's SDK by absolute path, against the test stack.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli';
import { testTemporal } from '../support/env';
import { startSluiceUp } from '../support/sluice-up';

const SDK = JSON.stringify(path.resolve(__dirname, '../../dags/sdk'));
const TOKEN = 'reload-console-token';

test('sluice up reloads edited DAGs and task code, survives a broken edit, and restarts a killed worker', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-reload-dags-'));
  const write = (file: string, code: string) => writeFileSync(path.join(dir, file), code);
  mkdirSync(path.join(dir, 'tasks'));
  write('tasks/greet.ts', `import { defineTask } from ${SDK};
export const greet = defineTask('greet', async (input: { name: string }) => ({ greeting: 'hello ' + input.name }));
`);
  write('greet.ts', `import { dag } from ${SDK};
import { greet } from './tasks/greet';
export default dag('reload_greet', ({ task }) => void task(greet, { name: 'sluice' }));
`);
  const env = { ...process.env, SLUICE_DAGS_DIR: dir };
  const up = await startSluiceUp([], { SLUICE_DAGS_DIR: dir, SLUICE_CONSOLE_TOKEN: TOKEN, LOG_LEVEL: 'info' });
  const { client, connection } = await testTemporal();
  try {
    const [, firstPid] = await up.waitFor(/worker ready \(pid (\d+)\)/);

    // A new DAG using a new task module, added while `sluice up` runs.
    write('tasks/shout.ts', `import { defineTask } from ${SDK};
export const shout = defineTask('shout', async (input: { text: string }) => ({ shouted: input.text.toUpperCase() }));
`);
    write('shout.ts', `import { dag } from ${SDK};
import { shout } from './tasks/shout';
export default dag('reload_shout', { schedule: '0 3 * * *', timezone: 'UTC' }, ({ task }) => void task(shout, { text: 'hi' }));
`);
    const [, reloadedPid] = await up.waitFor(/reloaded [^\n]*shout\.ts: 2 DAGs \(reload_shout added\); worker restarted \(pid (\d+)\)/);
    assert.notEqual(reloadedPid, firstPid);
    await assertRunSucceeds('reload_shout', env);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const scheduled = async () =>
      ((await (await fetch(`${up.consoleUrl}/api/schedules`, { headers: auth })).json()) as { schedules: Array<{ dagId: string; exists: boolean }> }).schedules;
    const known = (await scheduled()).map((s) => [s.dagId, s.exists]);
    assert.deepEqual(known, [['reload_shout', true]], 'the console and the Temporal Schedules know the new DAG');

    // A worker process that dies is restarted, and runs go on.
    process.kill(Number(reloadedPid), 'SIGKILL');
    await up.waitFor(new RegExp(`worker \\(pid ${Number(reloadedPid)}\\) exited unexpectedly \\(signal SIGKILL\\); restarting it in 1 s`));
    await assertRunSucceeds('reload_greet', env);
    await up.waitFor(/exited unexpectedly[^\n]*\n[\s\S]*worker ready \(pid \d+\)/);

    // A broken edit is reported, and the last good DAGs stay in service on the same worker.
    write('shout.ts', `import { dag } from ${SDK};\nexport default dag('reload_shout', ({ task }) => { task(`);
    await up.waitFor(/not reloaded: [^\n]*shout\.ts has a problem \(above\); still serving the last good DAGs \(2\); worker not restarted/);
    assert.match(up.stderr(), /shout\.ts: failed to import/);
    assert.deepEqual((await scheduled()).map((s) => s.dagId), ['reload_shout'], 'the console keeps the last good DAGs');
    assert.equal(up.stderr().match(/worker process started/g)?.length, 3, 'no restart for the broken edit');
  } finally {
    const code = await up.interrupt();
    await client.schedule.getHandle('reload_shout').delete().catch(() => undefined);
    await connection.close();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(code, 0, `sluice up should exit 0 on Ctrl-C; stderr:\n${up.stderr()}`);
  }
});

async function assertRunSucceeds(dagId: string, env: NodeJS.ProcessEnv): Promise<void> {
  const run = await runCli(['trigger', dagId, '--wait', '--json'], env);
  assert.equal(run.code, 0, `${dagId}: ${run.stdout}\n${run.stderr}`);
  assert.equal((JSON.parse(run.stdout) as { state: string }).state, 'success');
}
