/**
 * A Postgres outage under running DAGs (issue 8, items 1-3): a `sluice worker` process on a
 * Postgres of this test's own is in the middle of runs when that Postgres stops for 10 s and
 * starts again. The worker must not exit, every run must succeed, every task's side effect (a
 * non-idempotent counter in S3) must happen exactly once, and once the database is back its
 * history must be whole: every attempt closed, every run `success`.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import pino from 'pino';
import { loadConfig } from '../../infra/config';
import { createKnex } from '../../infra/db/knex';
import { runMigrations } from '../../infra/db/migrate';
import { findFreePorts } from '../../infra/dev-stack/ports';
import { startPostgres, type EmbeddedPostgres } from '../../infra/dev-stack/postgres';
import { loadDags } from '../../server/dag-registry';
import { startDagRun } from '../../server/client/start-run';
import { uniqueLogicalDate } from '../support/dag-runs';
import { testConfig, testS3Client, testTemporal } from '../support/env';

const SLUICE = path.resolve(__dirname, '../../server/cli/sluice.js');
const SDK = JSON.stringify(path.resolve(__dirname, '../../dags/sdk'));
const QUEUE = 'test-postgres-outage';
const COUNTERS = '_test/postgres-outage';
const RUNS = 3;
const TASKS = ['a', 'b', 'c', 'd'];

/** A DAG whose tasks take 2-5 s and count their successful executions, one S3 object each. */
function writeDagFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-outage-dags-'));
  fs.mkdirSync(path.join(dir, 'tasks'));
  fs.writeFileSync(
    path.join(dir, 'tasks/counted.ts'),
    `import { PutObjectCommand } from ${JSON.stringify(require.resolve('@aws-sdk/client-s3'))};
import { randomUUID } from 'node:crypto';
import { defineTask } from ${SDK};
export const countedStep = defineTask('countedStep', async (input: { ms: number }, ctx) => {
  await new Promise((resolve) => setTimeout(resolve, input.ms));
  ctx.log.info('slept');
  const { client, bucket } = ctx.conn.s3('lake');
  await client.send(new PutObjectCommand({ Bucket: bucket, Key: \`${COUNTERS}/\${ctx.runId}/\${ctx.taskId}/\${randomUUID()}\`, Body: '1' }));
  return { slept: input.ms };
});
`,
  );
  fs.writeFileSync(
    path.join(dir, 'pg_outage.ts'),
    `import { dag } from ${SDK};
import { countedStep } from './tasks/counted';
// Retried soon, as tasks are: a retry would run its side effect again. No operator window: a
// task that fails for good fails its run at once.
export default dag('pg_outage', { taskQueue: '${QUEUE}', retries: 2, retryDelay: '1s', operatorWindow: 0 }, ({ task }) => {
  const a = task(countedStep, { ms: 2000 }, { id: 'a' });
  const b = task(countedStep, { ms: 5000 }, { id: 'b' }).after(a);
  const c = task(countedStep, { ms: 3000 }, { id: 'c' }).after(a);
  task(countedStep, { ms: 2000 }, { id: 'd' }).after(b, c);
});
`,
  );
  return dir;
}

async function until<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await sleep(250);
  }
}

test('a worker rides out a Postgres outage mid-run: no exit, every run succeeds, side effects once, history whole', { timeout: 150_000 }, async (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-outage-pg-'));
  // Postgres runs as its own OS user when we are root.
  fs.chmodSync(home, 0o755);
  const [port] = await findFreePorts(1);
  const pgConfig = loadConfig({ SLUICE_HOME: home, SLUICE_PG_PORT: String(port) });
  const pgLog = pino({ level: 'warn' });
  let postgres: EmbeddedPostgres | undefined = await startPostgres(pgConfig, { log: pgLog, durable: false });
  await runMigrations(pgConfig.postgres.databaseUrl);
  const dir = writeDagFolder();
  const env = {
    ...process.env,
    DATABASE_URL: pgConfig.postgres.databaseUrl,
    SOURCE_DATABASE_URL: pgConfig.postgres.sourceDatabaseUrl,
    SLUICE_DAGS_DIR: dir,
    LOG_LEVEL: 'info',
  };
  const worker = spawn(process.execPath, [SLUICE, 'worker', '--queues', QUEUE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  worker.stdout.on('data', (d) => (output += d));
  worker.stderr.on('data', (d) => (output += d));
  let exit: string | undefined;
  const exited = new Promise<number | null>((resolve) =>
    worker.on('exit', (code, signal) => {
      exit = `code ${String(code)}, signal ${String(signal)}`;
      resolve(code);
    }),
  );
  const { client, connection } = await testTemporal();
  const s3 = testS3Client();
  const db = createKnex(pgConfig.postgres.databaseUrl, { maxConnections: 2 });
  const runIds: string[] = [];
  try {
    await until(async () => output.includes(`serving ${QUEUE}`), 'the worker to serve its queue', 30_000).catch((err: Error) => {
      throw new Error(`${err.message}; its output:\n${output}`);
    });
    const dag = loadDags(dir).dags.find((d) => d.spec.dagId === 'pg_outage');
    assert.ok(dag, 'the DAG loads');
    const runs = await Promise.all(
      Array.from({ length: RUNS }, () => startDagRun(client, dag.spec, { logicalDate: uniqueLogicalDate(), params: {}, trigger: 'manual' })),
    );
    runIds.push(...runs.map((r) => r.runId));

    // Down 3 s in (the first tasks are mid-sleep), for 10 s, then up again on the same port and data.
    await sleep(3_000);
    await postgres.stop();
    postgres = undefined;
    await sleep(10_000);
    assert.equal(exit, undefined, `the worker exited during the outage (${String(exit)}); its output:\n${output}`);
    postgres = await startPostgres(pgConfig, { log: pgLog, durable: false });
    const back = Date.now();

    const results = await Promise.all(runs.map((r) => r.handle.result()));
    const runsDone = Date.now();
    assert.deepEqual(
      results.map((r) => r.state),
      runs.map(() => 'success'),
    );

    // Exactly once: one counter object per task per run.
    for (const runId of runIds) {
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: testConfig().s3.bucket, Prefix: `${COUNTERS}/${runId}/` }));
      const counts: Record<string, number> = {};
      for (const o of listed.Contents ?? []) {
        const task = (o.Key ?? '').split('/').at(-2) ?? '';
        counts[task] = (counts[task] ?? 0) + 1;
      }
      assert.deepEqual(counts, Object.fromEntries(TASKS.map((t) => [t, 1])), `side effects of ${runId}`);
    }

    // The history catches up: each attempt once, closed by this worker (with its log lines).
    const attempts = await until(
      async () => {
        const rows = await db.withSchema('sluice').table('task_attempts').whereIn('run_id', runIds).orderBy(['run_id', 'task_id', 'attempt']);
        return rows.length === RUNS * TASKS.length && rows.every((r) => r.state !== 'running' && r.logs.length > 0) && rows;
      },
      'every attempt to be closed in sluice.task_attempts',
      30_000,
    );
    assert.deepEqual(
      attempts.map((r) => [r.run_id, r.task_id, r.attempt, r.state, r.worker.endsWith(`:${String(worker.pid)}`), r.logs.map((l: { msg: string }) => l.msg)]),
      [...runIds].sort().flatMap((runId) => TASKS.map((t) => [runId, t, 1, 'success', true, ['slept']])),
    );
    const dagRuns = await until(
      async () => {
        const rows = await db.withSchema('sluice').table('dag_runs').whereIn('run_id', runIds);
        return rows.length === RUNS && rows.every((r) => r.state === 'success') && rows;
      },
      'every run to be recorded as success in sluice.dag_runs',
      30_000,
    );
    assert.equal(dagRuns.length, RUNS);
    t.diagnostic(`after Postgres was back: runs done in ${runsDone - back} ms, history whole in ${Date.now() - back} ms`);

    // The outage was noticed, said once, and its end too. The worker logs the end just after the
    // write that ended it, so its line may reach this pipe a moment after the rows reach the table.
    const said = (text: string) => output.split('\n').filter((line) => line.includes(text)).length;
    await until(async () => said('attempt history: the database is back') > 0, 'the worker to say the database is back', 10_000).catch((err: Error) => {
      throw new Error(`${err.message}; its output:\n${output}`);
    });
    assert.equal(said('attempt history: cannot write to the database'), 1, output);
    assert.equal(said('attempt history: the database is back'), 1, output);
    assert.equal(exit, undefined, `the worker exited (${String(exit)}); its output:\n${output}`);

    worker.kill('SIGTERM');
    assert.equal(await exited, 0, output);
  } finally {
    worker.kill('SIGKILL');
    for (const runId of runIds) await client.workflow.getHandle(runId).terminate('test over').catch(() => undefined);
    await connection.close();
    s3.destroy();
    await db.destroy();
    await postgres?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(home, { recursive: true, force: true });
  }
});
