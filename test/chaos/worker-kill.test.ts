/**
 * Chaos: the production worker (`sluice worker`, in a process of its own, loading the real DAG
 * folder) SIGKILLed at random moments of daily_etl runs (mid-extract, mid-upload to the lake,
 * mid-COPY / commit of the fact load), a fresh worker started at once each time. Every run must
 * complete, and leave the warehouse and the lake exactly as clean runs of the same days left them:
 * table checksums, object listings with ETags and sizes, no extra (temporary or partial) objects,
 * no pending multipart uploads, conservation in ops.audit_log, no attempt row left 'running'.
 *
 * SHORT round (default, in `npm test`): 2 runs with 1 kill each. FULL round
 * (`SLUICE_CHAOS=full`, `npm run test:chaos`): 20 runs with 1-3 kills each, spread over the task
 * kinds, and a summary JSON printed at the end (see RELIABILITY.md).
 */
import { AbortMultipartUploadCommand, CreateMultipartUploadCommand } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { createKnex } from '../../infra/db/knex';
import { ensureBucket } from '../../infra/s3';
import { startDagRun } from '../../server/client/start-run';
import { waitForOutcome } from '../../server/client/wait';
import { seedDemo } from '../../server/demo';
import type { DagSpec } from '../../workflows/spec';
import { testConfig, testS3Client, testTemporal } from '../support/env';
import { etlSnapshot, forgetDailyEtlDays, pendingMultipartUploads, type EtlSnapshot } from './support/etl-exactness';
import { startProductionWorker, stopProductionWorker } from './support/production-worker';
import { dailyRunDate, shippedDags, tableFingerprint } from '../support/pipelines';

const FULL = process.env.SLUICE_CHAOS === 'full';
const TQ = 'test-chaos-worker-kill';
// Days no other test file seeds; a few hundred orders a day, a fixed seed.
const DAYS = FULL ? ['2026-06-08', '2026-06-09', '2026-06-10', '2026-06-11'] : ['2026-06-08'];
const SEED = { start: DAYS[0]!, days: DAYS.length, ordersPerDay: FULL ? 300 : 200, seed: 12 };
const RUNS = FULL ? 20 : 2;
const MAX_KILLS = FULL ? 3 : 1;

/**
 * Where a kill is aimed: the moment sluice.task_attempts shows the task running (the attempt row
 * is written as the task starts, so the kill lands in it or just after it), or a plain delay
 * after the run started. What was really running when the process died is recorded separately.
 */
const TARGETS = ['extractOrderItems', 'extractPartnerSales', 'loadDimCustomer', 'writeSilverOrderItems', 'writeSilverPartnerSales', 'loadFactSales', 'auditDay', 'delay'] as const;
type Target = (typeof TARGETS)[number];

const config = testConfig();
const s3 = testS3Client();
const source = createKnex(config.postgres.sourceDatabaseUrl, { maxConnections: 4 });
const warehouse = createKnex(config.postgres.databaseUrl, { maxConnections: 4 });
let client: Client;
let connection: { close: () => Promise<void> } | undefined;
let worker: ChildProcess | undefined;
/** How long the clean runs took, on average: the range of the purely random kill delays. */
let cleanRunMs = 2000;

const spec: DagSpec = (() => {
  const found = shippedDags(TQ).specs.get('daily_etl');
  if (!found) throw new Error('no daily_etl');
  // daily_etl's tasks set no heartbeatTimeout of their own, so they have the 30 s default: a lost
  // attempt is noticed 30 s after the kill. The chaos runs use 5 s. This changes only how soon
  // Temporal notices the dead worker (the tasks heartbeat at a third of it), not the code paths:
  // the killed attempt is timed out and retried exactly as with 30 s.
  return { ...found, tasks: found.tasks.map((t) => ({ ...t, heartbeatTimeoutMs: 5000 })) };
})();

/** mulberry32: the kill schedule is reproducible from SLUICE_CHAOS_SEED. */
const SEED_NUMBER = Number(process.env.SLUICE_CHAOS_SEED ?? 20261130);
let prngState = SEED_NUMBER >>> 0;
function random(): number {
  prngState = (prngState + 0x6d2b79f5) >>> 0;
  let t = prngState;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

before(async () => {
  await ensureBucket(s3, config.s3.bucket);
  await seedDemo({ source, s3, bucket: config.s3.bucket, ...SEED });
  ({ client, connection } = await testTemporal());
});
after(async () => {
  if (worker) await stopProductionWorker(worker);
  await forgetDailyEtlDays(warehouse, DAYS);
  await connection?.close();
  await source.destroy();
  await warehouse.destroy();
  s3.destroy();
});

async function killWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * What a run of `day` leaves behind (see ./support/etl-exactness.ts for the columns compared and
 * why), plus every day's facts: a rerun of one day must not touch another's.
 */
async function snapshot(day: string): Promise<EtlSnapshot> {
  return {
    ...(await etlSnapshot(warehouse, s3, config.s3.bucket, day)),
    allFacts: await tableFingerprint(warehouse, 'warehouse.fact_sales', 'load_date, source, line_id'),
  };
}

/**
 * Proves the S3 server lists a pending multipart upload (rclone serve s3 keeps them in memory):
 * begins one, lists it, aborts it. Without that, an empty listing would prove nothing.
 */
async function probeMultipartListing(): Promise<void> {
  const Key = 'chaos-probe/multipart.bin';
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: config.s3.bucket, Key }));
  try {
    const pending = await pendingMultipartUploads(s3, config.s3.bucket);
    assert.ok(pending.some((p) => p.startsWith(`${Key} `)), `the S3 server does not list a pending multipart upload: ${pending.join(', ')}`);
  } finally {
    await s3.send(new AbortMultipartUploadCommand({ Bucket: config.s3.bucket, Key, UploadId }));
  }
}

interface AttemptRow {
  task_id: string;
  attempt: number;
  state: string;
  started_at: Date;
  ended_at: Date | null;
  error: string | null;
}

const attemptsOf = (temporalRunId: string): Promise<AttemptRow[]> =>
  warehouse('sluice.task_attempts').where({ temporal_run_id: temporalRunId }).orderBy('started_at').select('task_id', 'attempt', 'state', 'started_at', 'ended_at', 'error');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface KillRecord {
  run: number;
  day: string;
  target: Target;
  /** Tasks with a 'running' attempt row when the process died. */
  running: string[];
  /** Kill to the first new attempt of a killed task (ms); null if nothing was running. */
  toRetryMs: number | null;
  killedAt: number;
  /** Kill to the run's success (ms). */
  toSuccessMs?: number;
}

/** One chaos rerun of `day`: up to `kills` SIGKILLs, a fresh worker after each; returns the kills. */
async function chaosRun(runIndex: number, day: string, kills: number): Promise<{ kills: KillRecord[]; temporalRunId: string; runId: string }> {
  const started = await startDagRun(client, spec, { logicalDate: dailyRunDate(day), params: {}, trigger: 'manual', rerun: true });
  assert.ok(started.started, `run ${runIndex}: a new execution of ${started.runId}`);
  const temporalRunId = (await started.handle.describe()).runId;
  const outcome = waitForOutcome(started.handle);
  let closed = false;
  void outcome.then(() => (closed = true), () => (closed = true));
  const records: KillRecord[] = [];
  for (let k = 0; k < kills && !closed; k += 1) {
    const target: Target = pick(TARGETS);
    if (target === 'delay') {
      // Anywhere in the run: a clean run of the day takes about `cleanRunMs`.
      await sleep(Math.floor(random() * 0.9 * cleanRunMs));
    } else {
      // The first attempt of the target task after the previous kill.
      const since = records.at(-1) ? Date.now() : 0;
      const deadline = Date.now() + 60_000;
      while (!closed && Date.now() < deadline) {
        const rows = await attemptsOf(temporalRunId);
        if (rows.some((r) => r.task_id === target && r.state === 'running' && r.started_at.getTime() >= since - 1000)) break;
        // Already done (an earlier kill landed later than it): aim at whatever runs next.
        if (rows.some((r) => r.task_id === target && r.state === 'success')) break;
        await sleep(5);
      }
      // 0-15 ms into the task, so kills land at different points of it (with a few hundred
      // orders a day, most tasks take tens of milliseconds).
      await sleep(Math.floor(random() * 16));
    }
    if (closed) break;
    await killWorker(worker!);
    const killedAt = Date.now();
    worker = undefined;
    const running = [...new Set((await attemptsOf(temporalRunId)).filter((r) => r.state === 'running').map((r) => r.task_id))].sort();
    worker = await startProductionWorker([TQ]);
    const record: KillRecord = { run: runIndex, day, target, running, killedAt, toRetryMs: null };
    records.push(record);
    if (running.length > 0) {
      // Wait for the first new attempt of a task that was running when the worker died.
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline && !closed) {
        const rows = await attemptsOf(temporalRunId);
        const retried = rows.filter((r) => running.includes(r.task_id) && r.started_at.getTime() > killedAt);
        if (retried.length > 0) {
          record.toRetryMs = Math.min(...retried.map((r) => r.started_at.getTime())) - killedAt;
          break;
        }
        await sleep(50);
      }
    }
  }
  const result = await outcome;
  const done = Date.now();
  // Kill to run success, measured from each kill (the run's close is seen here within a poll).
  for (const r of records) r.toSuccessMs = done - r.killedAt;
  assert.equal(result.state, 'success', `chaos run ${runIndex} of ${day}: ${result.tasks.filter((t) => t.state === 'failed').map((t) => `${t.id}: ${t.error ?? ''}`).join('; ')}`);
  return { kills: records, temporalRunId, runId: started.runId };
}

test(`daily_etl with its worker SIGKILLed at random moments comes out exactly as clean runs (${FULL ? 'full' : 'short'} round)`, { timeout: FULL ? 3_600_000 : 300_000 }, async () => {
  worker = await startProductionWorker([TQ]);
  // CLEAN: each day once with an undisturbed worker (the same spec), then the baseline.
  const cleanStarted = Date.now();
  for (const day of DAYS) {
    const run = await startDagRun(client, spec, { logicalDate: dailyRunDate(day), params: {}, trigger: 'manual', rerun: true });
    const outcome = await waitForOutcome(run.handle);
    assert.equal(outcome.state, 'success', `clean run of ${day}`);
  }
  cleanRunMs = (Date.now() - cleanStarted) / DAYS.length;
  const baseline = new Map<string, EtlSnapshot>();
  for (const day of DAYS) baseline.set(day, await snapshot(day));
  assert.ok(!String(baseline.get(DAYS[0]!)!.facts).startsWith('0:'), 'the clean run loaded facts');
  await probeMultipartListing();
  assert.deepEqual(await pendingMultipartUploads(s3, config.s3.bucket), [], 'no multipart upload pending after the clean runs');

  const kills: KillRecord[] = [];
  const runs: Array<{ run: number; day: string; kills: number; ms: number }> = [];
  // A run that closed before its first kill landed proves nothing and does not count.
  for (let i = 0; runs.length < RUNS; i += 1) {
    assert.ok(i < RUNS * 2, `only ${runs.length} of ${i} runs were hit by a kill`);
    const day = DAYS[i % DAYS.length]!;
    const wanted = 1 + Math.floor(random() * MAX_KILLS);
    const t0 = Date.now();
    const { kills: done, temporalRunId, runId } = await chaosRun(i, day, wanted);
    const end = Date.now();
    for (const k of done) kills.push(k);
    if (done.length > 0) runs.push({ run: i, day, kills: done.length, ms: end - t0 });
    console.log(`run ${i} ${day}: ${JSON.stringify(done.map(({ target, running, toRetryMs, toSuccessMs }) => ({ target, running, toRetryMs, toSuccessMs })))}`);

    // Exactly what the clean run left: tables and the lake (extra objects would show here).
    assert.deepEqual(await snapshot(day), baseline.get(day), `run ${i} (${day}) differs from the clean run`);
    for (const other of DAYS.filter((d) => d !== day)) assert.deepEqual((await snapshot(other)).facts, baseline.get(other)!.facts, `run ${i} touched ${other}`);
    // No multipart upload left open by a killed upload.
    assert.deepEqual(await pendingMultipartUploads(s3, config.s3.bucket), [], `run ${i}: pending multipart uploads`);
    // Conservation: every source of the day, records in = loaded + quarantined.
    const audit = await warehouse('ops.audit_log').where({ dag_id: 'daily_etl', logical_date: day });
    assert.ok(audit.length >= 5, `audit rows of ${day}: ${audit.length}`);
    for (const row of audit) assert.equal(Number(row.records_in), Number(row.records_loaded) + Number(row.records_quarantined), `${day} ${String(row.source)}`);
    // Every attempt of the run is closed; a killed one as lost.
    const attempts = await attemptsOf(temporalRunId);
    assert.deepEqual(attempts.filter((a) => a.state === 'running').map((a) => a.task_id), [], `run ${i} (${runId}): attempts left running`);
  }

  const summary = {
    round: FULL ? 'full' : 'short',
    seed: SEED_NUMBER,
    days: DAYS,
    ordersPerDay: SEED.ordersPerDay,
    heartbeatTimeoutMs: 5000,
    runs: runs.length,
    kills: kills.length,
    killsPerRun: runs.map((r) => r.kills),
    killPoints: countBy(kills.map((k) => (k.running.length > 0 ? k.running.join('+') : 'between tasks'))),
    aimedAt: countBy(kills.map((k) => k.target)),
    recoveryToSuccessMs: stats(kills.map((k) => k.toSuccessMs ?? 0)),
    recoveryToRetryMs: stats(kills.flatMap((k) => (k.toRetryMs === null ? [] : [k.toRetryMs]))),
    runMs: stats(runs.map((r) => r.ms)),
    multipartUploadsChecked: true,
    // Reached only when every run's fact, dimension, exception and audit checksums equalled the
    // clean run's: not one row lost or duplicated.
    lostRows: 0,
    duplicateRows: 0,
  };
  console.log(`chaos summary ${JSON.stringify(summary, null, 2)}`);
});

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

function stats(values: number[]): { n: number; min: number; p50: number; max: number } | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, min: sorted[0]!, p50: sorted[Math.floor(sorted.length / 2)]!, max: sorted.at(-1)! };
}
