/**
 * Chaos: the servers under a running daily_etl go away, on a `sluice up` of this test's own (so
 * the shared stack is untouched), and the result must be exactly what a clean run of the day left.
 *
 * - Temporal dev server SIGKILLed mid-run; `sluice up`'s supervisor restarts it on the same SQLite
 *   file. The run resumes and finishes, and the schedule of a DAG firing every 5 s fires again.
 * - Postgres (the embedded warehouse) SIGKILLed mid-load and restarted by the supervisor.
 * - S3 unavailable for 15 s (SHORT) or 60 s (FULL): the stack reaches S3 through a proxy of this
 *   test's (test/support/tcp-proxy.ts) that refuses connections for that long, in front of the
 *   shared test S3 server, on a bucket of this test's own. A proxy rather than a stop: a killed
 *   embedded rclone is restarted by the supervisor within a second, and a SIGSTOPped one leaves
 *   requests hanging with no error. Tasks must retry with backoff (daily_etl's own: 3 retries,
 *   10 s doubling) and come out exact. During the outage a DAG whose task needs S3 and whose
 *   retries run out long before S3 returns ends in `awaiting_operator` with the error in its
 *   state, and its failure callback fires once, when the (4 s) operator window ends.
 *
 * Exact means: the day's facts, the dimensions, exceptions and audit rows (table checksums), the
 * lake's bronze and silver objects with ETags and sizes, no pending multipart upload, conservation
 * in ops.audit_log, and the attempt history whole (every task's success on record, none left
 * 'running'). After each fault every process but the killed one is still the same process.
 * SHORT round by default (the S3 outage begins 7 s before the run: one retry per task); FULL
 * (`SLUICE_CHAOS=full`) kills Temporal and Postgres at two points each, starts the 60 s S3 outage
 * as the first extract runs (every retry daily_etl has is used) and prints a summary JSON (see
 * RELIABILITY.md). This replaces test/integration/server-faults.test.ts (rclone and Temporal
 * killed under a toy DAG); a standalone `sluice worker` through a Postgres outage is still
 * test/integration/postgres-outage.test.ts, and the rclone restart itself stack-supervision.test.ts.
 */
import { DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import type { Knex } from 'knex';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { loadDagFolder } from '../../dags/sdk';
import { loadConfig } from '../../infra/config';
import { createKnex } from '../../infra/db/knex';
import { createS3Client, ensureBucket } from '../../infra/s3';
import { startDagRun } from '../../server/client/start-run';
import { waitForOutcome } from '../../server/client/wait';
import { seedDemo } from '../../server/demo';
import { stateQuery } from '../../workflows/messages';
import type { DagSpec } from '../../workflows/spec';
import { dailyRunDate } from '../support/pipelines';
import { embeddedStackEnv, isAlive, serverPidFile, startSluiceUp } from '../support/sluice-up';
import { conservationBreaks, etlSnapshot, pendingMultipartUploads } from './support/etl-exactness';
import { startTcpProxy } from '../support/tcp-proxy';

const FULL = process.env.SLUICE_CHAOS === 'full';
// A day no other test seeds (its own stack besides, but the shared S3 server holds its bucket).
const DAY = '2026-07-06';
const BUCKET = 'chaos-outages';
const S3_DOWN_MS = FULL ? 60_000 : 15_000;
const OPERATOR_WINDOW = '4s';
/**
 * When S3 goes: SHORT, 7 s before the run starts, so its first attempts fail and the first retry
 * (daily_etl: 10 s later) finds S3 back; FULL, as the first extract runs, so the 60 s outage meets
 * every retry daily_etl has (10, 20 and 40 s after each failure) and the last one succeeds.
 */
const S3_DOWN_AT: FaultPoint = FULL ? { task: 'extractOrderItems' } : { leadMs: 7_000 };
const RETRY_DELAY_MS = 10_000;
/** Where each kill lands: the moment the task's attempt row shows it running. */
const TEMPORAL_KILL_AT = FULL ? ['extractOrderItems', 'loadFactSales'] : ['loadFactSales'];
const POSTGRES_KILL_AT = FULL ? ['loadDimCustomer', 'loadFactSales'] : ['loadFactSales'];

const REPO = path.resolve(__dirname, '../..');
const SDK = JSON.stringify(path.join(REPO, 'dags/sdk'));
const AWS = JSON.stringify(require.resolve('@aws-sdk/client-s3'));

/** The stack's DAG folder: the shipped daily_etl as it is, a DAG scheduled every 5 s, and a DAG that needs S3. */
const DAG_FILES: Record<string, string> = {
  'daily_etl.ts': `export { default } from ${JSON.stringify(path.join(REPO, 'dags/daily_etl'))};\n`,
  'outage_tick.ts': `import { dag, defineTask } from ${SDK};
const tick = defineTask('outageTick', async () => 'tick');
export default dag('outage_tick', { schedule: '*/5 * * * * *' }, ({ task }) => {
  task(tick, {});
});
`,
  'outage_victim.ts': `import { HeadBucketCommand } from ${AWS};
import { callback, dag, defineTask } from ${SDK};
const needsLake = defineTask('needsLake', async (_input: Record<string, never>, ctx) => {
  const { client, bucket } = ctx.conn.s3('lake');
  await client.send(new HeadBucketCommand({ Bucket: bucket }));
  return 'reached';
});
// A plain insert, no upsert: a callback that fired twice shows as two rows.
const recordFailure = defineTask('recordOutageFailure', async (_input: Record<string, never>, ctx) => {
  await ctx.conn.pg('warehouse').raw('insert into public.outage_failure_callbacks (run_id, outcome) values (?, ?)', [ctx.runId, JSON.stringify(ctx.outcome)]);
});
export default dag('outage_victim', { retries: 2, retryDelay: '1s', retryBackoff: 1, operatorWindow: '${OPERATOR_WINDOW}', onFailure: callback(recordFailure, {}) }, ({ task }) => {
  task(needsLake, {});
});
`,
};

type FaultPoint = { task: string } | { leadMs: number };

interface FaultRecord {
  fault: string;
  at: string;
  /** Fault start to the run's success, as this test saw it (waitForOutcome polls every 250 ms). */
  recoveryMs: number;
  /** Fault start to the server being back (its supervisor's restart, or the proxy's end). */
  downMs: number;
  /** Attempts per task of the run, where more than one. */
  retried: Record<string, number>;
}

test(`daily_etl comes out exact across Temporal, Postgres and S3 outages (${FULL ? 'full' : 'short'} round)`, { timeout: FULL ? 900_000 : 240_000 }, async () => {
  const dagsDir = await mkdtemp(path.join(os.tmpdir(), 'chaos-outage-dags-'));
  for (const [name, text] of Object.entries(DAG_FILES)) await writeFile(path.join(dagsDir, name), text);
  const shared = loadConfig(process.env);
  const proxy = await startTcpProxy(new URL(shared.s3.endpoint ?? '').host);
  const directS3 = createS3Client(shared);
  await ensureBucket(directS3, BUCKET);

  const embedded = await embeddedStackEnv();
  const env: NodeJS.ProcessEnv = { ...embedded.env, S3_ENDPOINT: `http://${proxy.address}`, S3_BUCKET: BUCKET, SLUICE_DAGS_DIR: dagsDir };
  const up = await startSluiceUp(['--no-watch'], env);
  const config = loadConfig({ ...process.env, ...env, SLUICE_HOME: up.home });
  const source = createKnex(config.postgres.sourceDatabaseUrl, { maxConnections: 4 });
  // Replaced after each Postgres kill: its pooled connections die with the server.
  let warehouse = createKnex(config.postgres.databaseUrl, { maxConnections: 2 });
  let connection: Connection | undefined;
  const faults: FaultRecord[] = [];
  const t0 = Date.now();
  // Progress on stdout: the test file's log shows how far a failed round got, and when.
  const progress = (line: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)} s] ${line}`);
  try {
    const [, workerPid] = await up.waitFor(/worker ready \(pid (\d+)\)/, 90_000);
    progress('sluice up ready');
    connection = await Connection.connect({ address: config.temporal.address });
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const loaded = loadDagFolder(dagsDir);
    assert.deepEqual(loaded.errors, [], 'the DAG folder loads');
    const specs = new Map(loaded.dags.map((d) => [d.spec.dagId, d.spec]));
    const etl = specs.get('daily_etl')!;
    await warehouse.raw('create table if not exists public.outage_failure_callbacks (run_id text not null, outcome jsonb, fired_at timestamptz not null default now())');
    await seedDemo({ source, s3: directS3, bucket: BUCKET, start: DAY, days: 1, ordersPerDay: 200, seed: 7 });

    // CLEAN: the day once, undisturbed: the baseline every faulty run must equal.
    const clean = await runEtl(client, etl);
    assert.equal(clean.state, 'success', `clean run: ${clean.failed}`);
    const baseline = await etlSnapshot(warehouse, directS3, BUCKET, DAY);
    assert.ok(!String(baseline.facts).startsWith('0:'), 'the clean run loaded facts');
    progress('clean run done');

    const processes = (): StackPids => ({
      sluiceUp: up.pid,
      worker: Number(workerPid),
      temporal: serverPidFile(up, 'temporal').pid,
      postgres: serverPidFile(up, 'postgres').pid,
    });
    const assertExact = async (what: string, temporalRunId: string) => {
      assert.deepEqual(await etlSnapshot(warehouse, directS3, BUCKET, DAY), baseline, `${what}: the warehouse or the lake differs from the clean run`);
      assert.deepEqual(await pendingMultipartUploads(directS3, BUCKET), [], `${what}: pending multipart uploads`);
      const { rows, broken } = await conservationBreaks(warehouse, DAY);
      assert.ok(rows >= 5, `${what}: audit rows of ${DAY}: ${rows}`);
      assert.deepEqual(broken, [], `${what}: conservation`);
      // The attempt history is whole once the worker has caught up: every task's success on
      // record, no attempt left 'running' (a lost one is closed as such).
      const history = async () => {
        const rows = await warehouse('sluice.task_attempts').where({ temporal_run_id: temporalRunId }).select('task_id', 'state');
        return { running: rows.filter((r) => r.state === 'running').map((r) => r.task_id as string), succeeded: new Set(rows.filter((r) => r.state === 'success').map((r) => r.task_id)).size };
      };
      const whole = await until(async () => {
        const h = await history();
        return h.running.length === 0 && h.succeeded === etl.tasks.length ? h : undefined;
      }, 20_000).catch(history);
      assert.deepEqual(whole, { running: [], succeeded: etl.tasks.length }, `${what}: the attempt history`);
    };

    // TEMPORAL: SIGKILLed while a task runs; the supervisor restarts it on the same SQLite file.
    for (const target of TEMPORAL_KILL_AT) {
      const before = processes();
      const record = await faultyRun(client, etl, `temporal@${target}`, { task: target }, async () => {
        process.kill(before.temporal, 'SIGKILL');
        await up.waitFor(new RegExp(`temporal \\(pid ${before.temporal}\\) exited unexpectedly`));
        await up.waitFor(new RegExp(`temporal is back after [^(]+\\(pid (?!${before.temporal}\\))`), 60_000);
      });
      faults.push(record.fault);
      progress(`fault ${JSON.stringify(record.fault)}`);
      await assertExact(`Temporal kill at ${target}`, record.temporalRunId);
      assertSurvivors(before, processes(), 'temporal');
    }

    // The schedule fires again after the restart: a run of outage_tick scheduled after it, succeeded.
    const backAt = Date.now();
    const scheduled = await until(async () => {
      const described = await client.schedule.getHandle('outage_tick').describe();
      return described.info.recentActions.find((a) => a.scheduledAt.getTime() > backAt);
    }, 30_000);
    const tickOutcome = await waitForOutcome(client.workflow.getHandle(scheduled.action.workflow.workflowId), 250);
    assert.equal(tickOutcome.state, 'success', `the scheduled run ${scheduled.action.workflow.workflowId} after the restart`);
    const firstFireAfterRestartMs = scheduled.takenAt.getTime() - backAt;
    progress(`scheduled run ${scheduled.action.workflow.workflowId} succeeded after the restart`);

    // POSTGRES: SIGKILLed mid-load; the supervisor restarts it on the same data directory.
    for (const target of POSTGRES_KILL_AT) {
      const before = processes();
      const record = await faultyRun(client, etl, `postgres@${target}`, { task: target }, async () => {
        process.kill(before.postgres, 'SIGKILL');
        await up.waitFor(new RegExp(`postgres \\(pid ${before.postgres}\\) exited unexpectedly`));
        await up.waitFor(new RegExp(`postgres is back after [^(]+\\(pid (?!${before.postgres}\\))`), 60_000);
        await warehouse.destroy();
        warehouse = createKnex(config.postgres.databaseUrl, { maxConnections: 2 });
      });
      faults.push(record.fault);
      progress(`fault ${JSON.stringify(record.fault)}`);
      await assertExact(`Postgres kill at ${target}`, record.temporalRunId);
      assertSurvivors(before, processes(), 'postgres');
    }

    // S3: unreachable for S3_DOWN_MS (see S3_DOWN_AT). Meanwhile a run whose
    // S3 task runs out of retries long before S3 returns waits for an operator, then fails.
    const before = processes();
    let victim: Promise<VictimReport> | undefined;
    const s3Record = await faultyRun(client, etl, 's3', S3_DOWN_AT, async () => {
      await proxy.cut();
      victim = watchVictim(client, specs.get('outage_victim')!, () => warehouse);
      // Awaited below, after the ETL run's checks; a failure must not go unhandled before then.
      victim.catch(() => undefined);
      await sleep(S3_DOWN_MS);
      await proxy.restore();
    });
    faults.push(s3Record.fault);
    progress(`fault ${JSON.stringify(s3Record.fault)}`);
    await assertExact('S3 outage', s3Record.temporalRunId);
    assertSurvivors(before, processes(), 'none');
    assert.ok(Object.keys(s3Record.fault.retried).length > 0, `tasks were retried across the S3 outage: ${JSON.stringify(s3Record.fault)}`);
    const backoff = await retryGaps(warehouse, s3Record.temporalRunId);
    for (const [task, gaps] of Object.entries(backoff)) {
      assert.ok(gaps[0]! >= RETRY_DELAY_MS * 0.9, `${task}: the first retry waits daily_etl's retry delay (${gaps.join(', ')} ms between attempts)`);
      for (let i = 1; i < gaps.length; i += 1) assert.ok(gaps[i]! > gaps[i - 1]!, `${task}: retries back off (${gaps.join(', ')} ms between attempts)`);
    }
    const victimReport = await victim!;

    if (FULL) {
      const summary = { round: 'full', day: DAY, s3DownMs: S3_DOWN_MS, operatorWindow: OPERATOR_WINDOW, faults, s3RetryGapsMs: backoff, firstFireAfterRestartMs, victim: victimReport, lostRows: 0, duplicateRows: 0 };
      console.log(`outage summary ${JSON.stringify(summary, null, 2)}`);
    } else {
      console.log(`outages: ${JSON.stringify({ faults, s3RetryGapsMs: backoff, firstFireAfterRestartMs, victim: victimReport })}`);
    }
  } catch (err) {
    progress(`FAILED: ${(err as Error).stack ?? String(err)}`);
    throw err;
  } finally {
    await connection?.close().catch(() => undefined);
    await source.destroy();
    await warehouse.destroy();
    const code = await up.interrupt();
    await proxy.cut();
    await deleteBucket(directS3, BUCKET);
    directS3.destroy();
    await rm(dagsDir, { recursive: true, force: true });
    assert.equal(code, 0, `sluice up exits 0 on Ctrl-C; stderr:\n${up.stderr().slice(-3000)}`);
  }

  /**
   * A fresh run of the day with a fault injected: once `at.task` runs (its attempt row is there),
   * or `at.leadMs` before the run starts. Waits for the run's success.
   */
  async function faultyRun(client: Client, spec: DagSpec, fault: string, at: FaultPoint, inject: () => Promise<void>): Promise<{ fault: FaultRecord; temporalRunId: string }> {
    const start = async () => {
      const started = await startDagRun(client, spec, { logicalDate: dailyRunDate(DAY), params: {}, trigger: 'manual', rerun: true });
      assert.ok(started.started, `${fault}: a new execution of ${started.runId}`);
      return { handle: started.handle, temporalRunId: (await started.handle.describe()).runId };
    };
    let run: Awaited<ReturnType<typeof start>>;
    let faultAt: number;
    let injected: Promise<void>;
    if ('task' in at) {
      run = await start();
      // Polled often: most tasks of a day of 200 orders take tens of milliseconds.
      await until(async () => (await warehouse('sluice.task_attempts').where({ temporal_run_id: run.temporalRunId, task_id: at.task }).first()) as unknown, 60_000, 10);
      faultAt = Date.now();
      injected = inject();
    } else {
      faultAt = Date.now();
      injected = inject();
      await sleep(at.leadMs);
      run = await start();
    }
    await injected;
    const downMs = Date.now() - faultAt;
    const outcome = await waitForOutcome(run.handle, 250);
    const recoveryMs = Date.now() - faultAt;
    assert.equal(outcome.state, 'success', `${fault}: ${outcome.tasks.filter((t) => t.state !== 'success').map((t) => `${t.id} ${t.state}: ${t.error ?? ''}`).join('; ')}`);
    const retried = Object.fromEntries(outcome.tasks.filter((t) => t.attempts > 1).map((t) => [t.id, t.attempts]));
    return { fault: { fault, at: 'task' in at ? at.task : `${at.leadMs} ms before the run`, downMs, recoveryMs, retried }, temporalRunId: run.temporalRunId };
  }
});

interface StackPids {
  sluiceUp: number;
  worker: number;
  temporal: number;
  postgres: number;
}

interface VictimReport {
  runId: string;
  error: string;
  callbacks: number;
}

/**
 * Starts outage_victim while S3 is down and follows it: its task fails every attempt, so the run
 * waits for an operator with the error in its state; no callback yet; when the window ends the run
 * fails and its failure callback has fired exactly once.
 */
async function watchVictim(client: Client, spec: DagSpec, warehouse: () => Knex): Promise<VictimReport> {
  const run = await startDagRun(client, spec, { logicalDate: new Date(), params: {}, trigger: 'manual' });
  const waiting = await waitForOutcome(run.handle, 250);
  assert.equal(waiting.state, 'awaiting_operator', `the victim waits for an operator: ${JSON.stringify(waiting)}`);
  const task = waiting.tasks.find((t) => t.id === 'needsLake');
  assert.equal(task?.state, 'failed');
  assert.equal(task.attempts, 3, 'one attempt and 2 retries');
  // The cause in words: the connection S3 refused, not a bare "failed".
  assert.match(task.error ?? '', /ECONNREFUSED/);
  const callbacks = () => warehouse()('public.outage_failure_callbacks').where({ run_id: run.runId }).select('outcome');
  assert.deepEqual(await callbacks(), [], 'no failure callback while the window is open');
  await assert.rejects(run.handle.result(), (err: Error) => {
    assert.ok(err instanceof WorkflowFailedError);
    assert.match(String(err.cause?.message), new RegExp(`no operator action within the ${OPERATOR_WINDOW} operator window`));
    return true;
  });
  const closed = await run.handle.query(stateQuery);
  assert.equal(closed.state, 'failed');
  const fired = await callbacks();
  assert.equal(fired.length, 1, 'the failure callback fired once, as the window ended');
  assert.deepEqual([fired[0].outcome.state, fired[0].outcome.failedTasks], ['failed', ['needsLake']], 'the callback was told how the run ended');
  return { runId: run.runId, error: task.error ?? '', callbacks: fired.length };
}

/** Milliseconds between consecutive attempts of each task that had several (start to start). */
async function retryGaps(warehouse: Knex, temporalRunId: string): Promise<Record<string, number[]>> {
  const rows = await warehouse('sluice.task_attempts').where({ temporal_run_id: temporalRunId }).orderBy(['task_id', 'attempt']).select('task_id', 'started_at', 'ended_at');
  const gaps: Record<string, number[]> = {};
  for (let i = 1; i < rows.length; i += 1) {
    const [prev, row] = [rows[i - 1]!, rows[i]!];
    if (prev.task_id !== row.task_id) continue;
    // From the failure to the next attempt: the retry delay itself, not the failed attempt's length.
    (gaps[row.task_id as string] ??= []).push(new Date(row.started_at).getTime() - new Date(prev.ended_at ?? prev.started_at).getTime());
  }
  return gaps;
}

/** Every process of the stack is the one it was before the fault, except the server killed. */
function assertSurvivors(before: StackPids, after: StackPids, killed: keyof StackPids | 'none'): void {
  for (const [name, pid] of Object.entries(before) as Array<[keyof StackPids, number]>) {
    if (name === killed) continue;
    assert.equal(after[name], pid, `${name} is the same process after the ${killed} fault`);
    assert.ok(isAlive(pid), `${name} (pid ${pid}) kept running`);
  }
}

async function until<T>(probe: () => Promise<T | undefined | null>, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined && value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

async function runEtl(client: Client, spec: DagSpec): Promise<{ state: string; failed: string }> {
  const run = await startDagRun(client, spec, { logicalDate: dailyRunDate(DAY), params: {}, trigger: 'manual', rerun: true });
  const outcome = await waitForOutcome(run.handle, 250);
  return { state: outcome.state, failed: outcome.tasks.filter((t) => t.state === 'failed').map((t) => `${t.id}: ${t.error ?? ''}`).join('; ') };
}

/** The bucket lives on the shared S3 server: leave nothing of it behind. */
async function deleteBucket(s3: ReturnType<typeof createS3Client>, bucket: string): Promise<void> {
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}
