/**
 * Chaos: races and oversized payloads, on two production worker processes (`sluice worker
 * --queues test-chaos-races,test-chaos-races-backfill`, each a child process loading a temporary
 * DAG folder, see support/race-dags.ts). Real processes rather than in-process test workers: the
 * race is between two pollers of separate processes with their own sticky caches and connection
 * pools, as in production.
 *
 * - Two workers race on one run of `race_count`, started by four callers for one logical date
 *   at once: the Temporal Schedule (its own start path, a schedule backfill of that fire time:
 *   `ScheduleHandle.trigger()` stamps the current time, not a chosen date, so it cannot aim at
 *   one), `sluice trigger --date`, `sluice backfill --from --to` and the console's POST trigger
 *   API. Exactly one execution of the run id runs tasks, every task's side effect happens once per
 *   attempt that succeeded, the total is exact, and each caller gets an answer (not an error).
 *   The same four again after success (trigger and backfill now through the functions those
 *   commands call, to save two CLI start-ups) run no task again.
 * - A task returning about 5 MB (over Temporal's 2 MB payload limit) is offloaded to S3 and its
 *   downstream task reads it intact; the run's history stays small.
 * - A trigger or backfill whose params are over the limit (64 KB, dags/sdk/params.ts) is refused
 *   by the CLI and the console API with a clear error (exit 2, HTTP 413); no workflow starts. A
 *   run started past them (a bare Temporal client) fails with `invalid params` before any task.
 *
 * One round only (about 25 s): nothing here is random, so a FULL round would repeat it.
 */
import { ScheduleOverlapPolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { createKnex } from '../../infra/db/knex';
import { runIdFor } from '../../server/client/run-id';
import { startBackfill } from '../../server/client/backfill';
import { startDagRun } from '../../server/client/start-run';
import { waitForOutcome } from '../../server/client/wait';
import { createConsoleApp } from '../../server/console/app';
import { loadDags } from '../../server/dag-registry';
import { scheduleCreate } from '../../server/schedules/schedule-options';
import { backfillQueue } from '../../workflows/backfill';
import type { DagSpec } from '../../workflows/spec';
import { runCli } from '../support/cli';
import { testConfig, testS3Client, testTemporal } from '../support/env';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { startProductionWorker, stopProductionWorker, writeDagFolder } from './support/production-worker';
import { EFFECTS_TABLE, PARTS, PAYLOAD_ROWS, payloadRows, RACE_DAGS, RACE_QUEUE } from './support/race-dags';

const TOKEN = 'chaos-races-token';
/** A fire time of race_count's daily cron no other test uses. */
const DAY = '2026-05-04';
const LOGICAL = new Date(`${DAY}T00:00:00Z`);
const RUN_ID = runIdFor('race_count', LOGICAL);
const EXPECTED_TOTAL = (PARTS * (PARTS + 1)) / 2;

const config = testConfig();
const warehouse = createKnex(config.postgres.databaseUrl, { maxConnections: 4 });
const s3 = testS3Client();
let client: Client;
let connection: { close: () => Promise<void> } | undefined;
let dagsDir: string;
let specs: Map<string, DagSpec>;
const workers: ChildProcess[] = [];
let server: Server | undefined;
let api: string;

before(async () => {
  await warehouse.raw(`create table if not exists ${EFFECTS_TABLE} (run_id text not null, task_id text not null, attempt int not null, pid int not null, value bigint not null, note text not null)`);
  dagsDir = await writeDagFolder('chaos-race-dags-', RACE_DAGS);
  const loaded = loadDags(dagsDir);
  assert.deepEqual(loaded.errors, [], 'the race DAGs load');
  specs = new Map(loaded.dags.map((d) => [d.spec.dagId, d.spec]));
  ({ client, connection } = await testTemporal());
  // Two production workers on the same queues: they race for every task of every run.
  workers.push(...(await Promise.all([0, 1].map(() => startProductionWorker([RACE_QUEUE, backfillQueue(RACE_QUEUE)], { dagsDir })))));
  const app = createConsoleApp({ temporal: client, db: warehouse, token: TOKEN, logger: pino({ level: 'silent' }), dags: () => [...specs.values()] });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server!.once('listening', resolve));
  api = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

after(async () => {
  await client.schedule.getHandle('race_count').delete().catch(() => undefined);
  await Promise.all(workers.map((w) => stopProductionWorker(w)));
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  await warehouse.raw(`drop table if exists ${EFFECTS_TABLE}`);
  for (const table of ['sluice.task_attempts', 'sluice.dag_runs']) await warehouse(table).whereIn('dag_id', ['race_count', 'race_payload']).delete();
  await connection?.close();
  await warehouse.destroy();
  s3.destroy();
  await rm(dagsDir, { recursive: true, force: true });
});

const spec = (dagId: string): DagSpec => specs.get(dagId) ?? assert.fail(`no DAG ${dagId}`);
const cli = (...args: string[]) => runCli([...args, '--json'], { ...process.env, SLUICE_DAGS_DIR: dagsDir });

/**
 * The four ways one logical date gets started, at once; each caller's answer, by caller. With
 * `cli`, the trigger and the backfill are the `sluice` commands (child processes); without, the
 * functions those commands call (startDagRun, startBackfill), which saves two CLI start-ups.
 */
async function triggerFromEverywhere(via: 'cli' | 'client'): Promise<{ trigger: { started: boolean }; backfillId: string; console: { status: number; body: { started: boolean } } }> {
  const schedule = client.schedule.getHandle('race_count');
  const viaCli = async (args: string[]) => {
    const result = await cli(...args);
    assert.equal(result.code, 0, `sluice ${args.join(' ')}: ${result.stdout}${result.stderr}`);
    return JSON.parse(result.stdout) as Record<string, unknown>;
  };
  const [trigger, backfill, , fromConsole] = await Promise.all([
    via === 'cli'
      ? viaCli(['trigger', 'race_count', '--date', DAY]).then((r) => ({ started: r.started as boolean }))
      : startDagRun(client, spec('race_count'), { logicalDate: LOGICAL, params: {}, trigger: 'manual' }).then((r) => ({ started: r.started })),
    via === 'cli'
      ? viaCli(['backfill', 'race_count', '--from', DAY, '--to', DAY]).then((r) => r.backfillId as string)
      : startBackfill(client, spec('race_count'), { logicalDates: [LOGICAL], concurrency: 4, reprocess: 'none', params: {} }),
    // The schedule's own start of that fire time, as a catch-up of a missed fire would start it.
    schedule.backfill({ start: new Date(LOGICAL.getTime() - 1000), end: new Date(LOGICAL.getTime() + 1000), overlap: ScheduleOverlapPolicy.ALLOW_ALL }),
    fetch(`${api}/dags/race_count/trigger`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ logicalDate: DAY }),
    }).then(async (res) => ({ status: res.status, body: (await res.json()) as { started: boolean } })),
  ]);
  assert.ok([200, 201].includes(fromConsole.status), `console trigger: ${JSON.stringify(fromConsole)}`);
  return { trigger, backfillId: backfill, console: fromConsole };
}

/** Every execution of the run id Temporal has, oldest first (visibility lags: polled until `expected` show). */
async function executionsOf(workflowId: string, expected: number): Promise<Array<{ runId: string; status: string }>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const found: Array<{ runId: string; status: string; startTime: Date }> = [];
    for await (const w of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) found.push({ runId: w.runId, status: w.status.name, startTime: w.startTime });
    if (found.length >= expected || Date.now() > deadline) return found.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    await sleep(250);
  }
}

/**
 * Exactly one execution of the run id ran the DAG; any other is the schedule's start landing
 * after the run closed, which ends as `duplicate` at once (dagRun's resolveRun). Returns how many
 * executions there are, once at least `atLeast` are visible.
 */
async function oneExecutionRanTheDag(atLeast = 1): Promise<string> {
  const executions = await executionsOf(RUN_ID, atLeast);
  const states = await Promise.all(executions.map(async (e) => ((await client.workflow.getHandle(RUN_ID, e.runId).result()) as { state: string }).state));
  assert.deepEqual(states.filter((s) => s !== 'duplicate'), ['success'], `one execution ran the DAG, the others are duplicates: ${JSON.stringify(states)}`);
  return `${executions.length} (${states.join(', ')})`;
}

interface EffectRow {
  task_id: string;
  attempt: number;
  pid: number;
  value: string;
  note: string;
}
const effectsOf = (runId: string): Promise<EffectRow[]> => warehouse(EFFECTS_TABLE).where({ run_id: runId }).orderBy(['task_id', 'attempt']).select('task_id', 'attempt', 'pid', 'value', 'note');

/**
 * Each task's side effects equal its succeeded attempts on record: once per attempt that
 * succeeded. The worker's journal writes attempt rows in the background: polled for a while.
 */
async function assertOncePerSucceededAttempt(runId: string): Promise<void> {
  const effects = (await effectsOf(runId)).map((e) => `${e.task_id}#${e.attempt}`);
  const deadline = Date.now() + 10_000;
  let succeeded: string[] = [];
  while (Date.now() < deadline) {
    const rows = await warehouse('sluice.task_attempts').where({ run_id: runId, state: 'success' }).orderBy(['task_id', 'attempt']).select('task_id', 'attempt');
    succeeded = rows.map((a: { task_id: string; attempt: number }) => `${a.task_id}#${a.attempt}`);
    if (succeeded.length >= effects.length) break;
    await sleep(200);
  }
  assert.deepEqual(effects, succeeded, 'one side effect per succeeded attempt, none for any other');
}

test('two workers race on one run started four ways at once: one execution, one result', { timeout: 120_000 }, async () => {
  await client.schedule.create(scheduleCreate(spec('race_count') as DagSpec & { schedule: NonNullable<DagSpec['schedule']> }));
  const answers = await triggerFromEverywhere('cli');
  console.log(`callers: ${JSON.stringify(answers)}`);

  const outcome = await waitForOutcome(client.workflow.getHandle(RUN_ID), 250);
  assert.equal(outcome.state, 'success', JSON.stringify(outcome.failedTasks));
  const executions = await oneExecutionRanTheDag();
  console.log(`executions of ${RUN_ID}: ${executions}`);

  // Who started it: exactly one of the callers; the others were told it exists.
  const started = [answers.trigger.started, answers.console.body.started];
  const backfill = await waitForBackfill(answers.backfillId);
  assert.ok(started.filter(Boolean).length <= 1, `at most one of trigger and console started it: ${JSON.stringify(answers)}`);
  assert.ok(['success', 'skipped'].includes(backfill.outcome), `the backfill ran the date or saw it in flight: ${JSON.stringify(backfill)}`);

  // One result: every part once, the total exact, both worker processes took part.
  const effects = await effectsOf(RUN_ID);
  assert.deepEqual(effects.map((e) => e.task_id).sort(), [...Array.from({ length: PARTS }, (_, i) => `part_${i + 1}`), 'total'].sort(), 'each task once');
  assert.equal(Number(effects.find((e) => e.task_id === 'total')?.value), EXPECTED_TOTAL);
  await assertOncePerSucceededAttempt(RUN_ID);
  const pids = new Set(effects.map((e) => e.pid));
  console.log(`tasks by worker pid: ${JSON.stringify(countBy(effects.map((e) => String(e.pid))))}`);
  // Twelve tasks scheduled at once, both workers polling: each takes some (a race, not a hand-off).
  assert.deepEqual([...pids].sort(), workers.map((w) => w.pid).sort(), 'both worker processes ran tasks of the one run');
  const runs = await warehouse('sluice.dag_runs').where({ run_id: RUN_ID }).select('state', 'trigger');
  assert.equal(runs.length, 1, `one run on record: ${JSON.stringify(runs)}`);
});

test('the same four triggers after the run succeeded run nothing again', { timeout: 120_000 }, async () => {
  const answers = await triggerFromEverywhere('client');
  console.log(`callers after success: ${JSON.stringify(answers)}`);
  assert.equal(answers.trigger.started, false, 'trigger: exists, not started again');
  assert.equal(answers.console.status, 200, 'console: 200, not started again');
  const backfill = await waitForBackfill(answers.backfillId);
  assert.equal(backfill.outcome, 'skipped', `the backfill skips the succeeded date: ${JSON.stringify(backfill)}`);
  // Temporal's scheduler starts a new execution even after a success under the same id (its
  // reuse policy is fixed): the run sees the date already succeeded and ends as a duplicate.
  const executions = await oneExecutionRanTheDag(2);
  console.log(`executions of ${RUN_ID} after the second round: ${executions}`);
  assert.equal((await effectsOf(RUN_ID)).length, PARTS + 1, 'no task ran again');
});

test('a task returning about 5 MB is offloaded to S3 and its downstream reads it intact', { timeout: 120_000 }, async () => {
  const run = await startDagRun(client, spec('race_payload'), { logicalDate: new Date('2026-05-06T00:00:00Z'), params: {}, trigger: 'manual', rerun: true });
  const outcome = await waitForOutcome(run.handle, 250);
  assert.equal(outcome.state, 'success', JSON.stringify(outcome.tasks.map((t) => [t.id, t.state, t.error])));
  const json = JSON.stringify(payloadRows(PAYLOAD_ROWS));
  assert.ok(Buffer.byteLength(json) > 4 * 1024 * 1024, 'the output is over twice the payload limit');
  const [consumed] = await effectsOf(run.runId).then((rows) => rows.filter((r) => r.task_id === 'consume'));
  assert.deepEqual([Number(consumed?.value), consumed?.note], [PAYLOAD_ROWS, createHash('sha256').update(json).digest('hex')], 'consume got every row, byte for byte');
  const object = await s3.send(new HeadObjectCommand({ Bucket: config.s3.bucket, Key: `_sluice/outputs/race_payload/${run.runId}/produce.json` }));
  assert.equal(object.ContentLength, Buffer.byteLength(json), 'the offloaded object holds the whole output');
  const { historySize } = await run.handle.describe();
  console.log(`5 MB output: offloaded (${String(object.ContentLength)} bytes), run history ${String(historySize)} bytes`);
  assert.ok((historySize ?? 0) < 512 * 1024, `the history holds a reference, not the data: ${String(historySize)} bytes`);
});

test('a trigger or backfill with params over the limit is refused with a clear error and starts nothing', { timeout: 120_000 }, async () => {
  const date = '2026-05-05';
  const runId = runIdFor('race_count', new Date(`${date}T00:00:00Z`));
  // 1.5 MB: under Temporal's 2 MB payload limit, so Temporal would take the start; before the
  // params limit the run's first workflow task (12 tasks, each with the params in its context)
  // overflowed the 4 MB gRPC message and the server terminated the half-started run.
  const big = { note: 'x'.repeat(1536 * 1024) };
  const conf = path.join(os.tmpdir(), `chaos-race-conf-${process.pid}.json`);
  await writeFile(conf, JSON.stringify(big));
  try {
    const commands = [['trigger', 'race_count', '--date', date], ['backfill', 'race_count', '--from', date, '--to', date]];
    const results = await Promise.all(commands.map((args) => cli(...args, '--conf', `@${conf}`)));
    for (const [i, result] of results.entries()) {
      console.log(`sluice ${String(commands[i]?.[0])}, 1.5 MB conf: exit ${String(result.code)}, ${result.stderr.trim()}`);
      assert.equal(result.code, 2, `bad input: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, /invalid --conf for race_count: params are 1536 KB of JSON, over the limit of 64 KB/);
      assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    }
  } finally {
    await rm(conf, { force: true });
  }
  const res = await fetch(`${api}/dags/race_count/trigger`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ logicalDate: date, params: big }),
  });
  const body = await res.text();
  console.log(`console API, 1.5 MB body: ${res.status} ${body.slice(0, 200)}`);
  assert.equal(res.status, 413, body.slice(0, 500));
  await assert.rejects(client.workflow.getHandle(runId).describe(), WorkflowNotFoundError, 'no run started');
  const backfillId = `backfill-race_count-${date}T00:00:00Z-${date}T00:00:00Z-1`;
  await assert.rejects(client.workflow.getHandle(backfillId).describe(), WorkflowNotFoundError, 'no backfill started');

  // Started past the CLI and the console (a Temporal client, the Temporal UI): the run refuses
  // the params itself, before any task.
  const direct = await startDagRun(client, spec('race_count'), { logicalDate: new Date('2026-05-07T00:00:00Z'), params: { note: 'x'.repeat(100 * 1024) }, trigger: 'manual' });
  const outcome = await waitForOutcome(direct.handle, 250);
  assert.equal(outcome.state, 'failed');
  assert.match(outcome.reason ?? '', /^invalid params: params are 100 KB of JSON, over the limit of 64 KB/);
  assert.deepEqual(await effectsOf(direct.runId), [], 'no task ran');
});

/** Waits until the backfill settled its one date; returns that date's outcome. */
async function waitForBackfill(backfillId: string): Promise<{ outcome: string; note?: string }> {
  const outcome = (await client.workflow.getHandle(backfillId).result()) as { dates: Array<{ outcome: string; note?: string }> };
  return outcome.dates[0] ?? assert.fail('no date');
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
