/**
 * Chaos: hostile files in the partner landing zone, loaded by daily_etl on the production worker
 * (`sluice worker`, a process of its own with a capped heap).
 *
 * 1. A catalogue of hostile files (support/hostile-files.ts): quotes, invalid dates, non-numeric
 *    and overflowing numbers, missing columns, duplicates within and across files, bad bytes, a
 *    3 MB line, four kinds of empty file, wrong delimiters, CR-only line ends, an unclosed quote
 *    (at the end of a small file, and early in a 19 MB one, where it once exhausted the heap).
 *    Each record is checked against the catalogue's own answer key: loaded (a fact_sales row for
 *    its file and line) or quarantined under the expected category, and nothing else.
 * 2. One gzipped partner_sales file bigger than the worker's heap cap in the FULL round
 *    (`SLUICE_CHAOS=full`), a smaller one in the SHORT round, uploaded as a stream. The worker's
 *    RSS is sampled every 250 ms; the run must succeed with the worker alive and the counts exact.
 *    Peak RSS against file size is printed (RELIABILITY.md), not asserted: speed and memory
 *    figures vary with the machine, a crash or a lost record does not.
 */
import { DeleteObjectsCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { createKnex } from '../../infra/db/knex';
import { ensureBucket } from '../../infra/s3';
import { runIdFor } from '../../server/client/run-id';
import { startDagRun } from '../../server/client/start-run';
import { waitForOutcome } from '../../server/client/wait';
import { seedDemo } from '../../server/demo';
import type { DagSpec } from '../../workflows/spec';
import { testConfig, testS3Client, testTemporal } from '../support/env';
import { dailyRunDate, lakeListing, shippedDags } from '../support/pipelines';
import { uploadBigPartnerFile } from './support/big-landing-file';
import { hostileFiles, type ExpectedRecord } from './support/hostile-files';
import { forgetDailyEtlDays } from './support/etl-exactness';
import { startProductionWorker, stopProductionWorker } from './support/production-worker';
import { residentMb, sampleRss } from './support/rss-sampler';

const FULL = process.env.SLUICE_CHAOS === 'full';
const TQ = 'test-chaos-landing';
// Days no other test file uses. The hostile day is also seeded (a few shop orders), so the
// source has products and customers whichever test file ran first.
const HOSTILE_DAY = '2026-08-12';
const BIG_DAY = '2026-08-19';
const DAYS = [HOSTILE_DAY, BIG_DAY];
/** The worker's V8 heap cap; the FULL round's file is bigger than it, uncompressed. */
const HEAP_CAP_MB = Number(process.env.SLUICE_CHAOS_HEAP_MB ?? 192);
const BIG_FILE_MB = Number(process.env.SLUICE_CHAOS_BIG_MB ?? (FULL ? 2 * HEAP_CAP_MB : 12));

const config = testConfig();
const s3 = testS3Client();
const source = createKnex(config.postgres.sourceDatabaseUrl, { maxConnections: 4 });
const warehouse = createKnex(config.postgres.databaseUrl, { maxConnections: 4 });
const spec: DagSpec = (() => {
  const found = shippedDags(TQ).specs.get('daily_etl');
  if (!found) throw new Error('no daily_etl');
  return found;
})();
let client: Client;
let connection: { close: () => Promise<void> } | undefined;
let worker: ChildProcess | undefined;
let sku = '';

before(async () => {
  await ensureBucket(s3, config.s3.bucket);
  await seedDemo({ source, s3, bucket: config.s3.bucket, start: HOSTILE_DAY, days: 1, ordersPerDay: 20, seed: 17, sessionsPerOrder: 0 });
  sku = String((await source('products').orderBy('product_id').first<{ sku: string }>('sku'))!.sku);
  ({ client, connection } = await testTemporal());
  worker = await startProductionWorker([TQ], { env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${HEAP_CAP_MB}`.trim() } });
});
after(async () => {
  if (worker) await stopProductionWorker(worker);
  await forgetTheDays();
  await connection?.close();
  await source.destroy();
  await warehouse.destroy();
  s3.destroy();
});

/** What these days left in the shared warehouse, lake and staging schema goes. */
async function forgetTheDays(): Promise<void> {
  await forgetDailyEtlDays(warehouse, DAYS);
  for (const day of DAYS) {
    for (const layer of ['landing', 'bronze', 'silver']) await deletePrefix(`${layer}/partner_sales/dt=${day}/`);
  }
  // The runs' staging tables (named by day) hold every line of the big file: not kept for the rest of the suite.
  const suffixes = DAYS.map((day) => `%\\_${day.replaceAll('-', '')}`);
  const staged = await warehouse('information_schema.tables').where('table_schema', 'staging').andWhere((q) => suffixes.forEach((s) => q.orWhereLike('table_name', s))).pluck('table_name');
  for (const table of staged as string[]) await warehouse.raw('drop table if exists ??', [`staging.${table}`]);
}

async function deletePrefix(prefix: string): Promise<void> {
  const keys = (await lakeListing(s3, config.s3.bucket, prefix)).map((entry) => entry.split(' ')[0]!);
  if (keys.length > 0) await s3.send(new DeleteObjectsCommand({ Bucket: config.s3.bucket, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } }));
}

/** Runs daily_etl for `day` (again if it ran before) and fails with the failed tasks' errors. */
async function loadDay(day: string): Promise<void> {
  const run = await startDagRun(client, spec, { logicalDate: dailyRunDate(day), params: {}, trigger: 'manual', rerun: true });
  const outcome = await waitForOutcome(run.handle);
  const failed = outcome.tasks.filter((t) => t.state === 'failed').map((t) => `${t.id}: ${t.error ?? ''}`);
  assert.equal(outcome.state, 'success', `daily_etl ${day}: ${failed.join('; ')}`);
}

interface PartnerAudit {
  records_in: number;
  records_loaded: number;
  records_quarantined: number;
}

async function partnerAudit(day: string): Promise<PartnerAudit> {
  const row = await warehouse('ops.audit_log').where({ dag_id: 'daily_etl', logical_date: day, source: 'partner_sales' }).first();
  assert.ok(row, `an audit row for partner_sales on ${day}`);
  return { records_in: Number(row.records_in), records_loaded: Number(row.records_loaded), records_quarantined: Number(row.records_quarantined) };
}

/** `<file>:<line>` → loaded or category, from the warehouse. */
async function outcomes(day: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  const facts = await warehouse('warehouse.fact_sales').where({ load_date: day, source: 'partner_sales' }).pluck('line_id');
  for (const lineId of facts as string[]) found[lineId] = 'loaded';
  const quarantined = await warehouse('ops.exceptions')
    .where({ dag_id: 'daily_etl', logical_date: day, source: 'partner_sales' })
    .select<Array<{ source_file: string; source_line: number; category: string }>>('source_file', 'source_line', 'category');
  for (const q of quarantined) {
    const key = `${q.source_file}:${q.source_line}`;
    assert.equal(found[key], undefined, `${key} is both ${String(found[key])} and ${q.category}`);
    found[key] = q.category;
  }
  return found;
}

test('hostile landing files: each record loaded or quarantined under its category, as the answer key says', { timeout: 300_000 }, async () => {
  const prefix = `landing/partner_sales/dt=${HOSTILE_DAY}/`;
  await deletePrefix(prefix); // the seed's own partner files: this day holds only the catalogue
  const files = hostileFiles(HOSTILE_DAY, sku);
  for (const file of files) await s3.send(new PutObjectCommand({ Bucket: config.s3.bucket, Key: prefix + file.name, Body: file.body() }));
  const expected: ExpectedRecord[] = files.flatMap((f) => f.records);

  await loadDay(HOSTILE_DAY);

  const actual = await outcomes(HOSTILE_DAY);
  const wrong = expected
    .map((e) => ({ ...e, got: actual[`${prefix}${e.file}:${e.line}`] ?? 'nothing' }))
    .filter((e) => e.got !== e.outcome)
    .map((e) => `${e.file}:${e.line} (${e.case}): expected ${e.outcome}, got ${e.got}`);
  const unexpected = Object.keys(actual).filter((key) => !expected.some((e) => `${prefix}${e.file}:${e.line}` === key));
  assert.deepEqual({ wrong, unexpected }, { wrong: [], unexpected: [] });

  const loaded = expected.filter((e) => e.outcome === 'loaded').length;
  assert.deepEqual(await partnerAudit(HOSTILE_DAY), { records_in: expected.length, records_loaded: loaded, records_quarantined: expected.length - loaded });
  // The unclosed quote's record keeps every line it swallowed, so nothing the partner sent is gone.
  const swallowed = await warehouse('ops.exceptions').where({ logical_date: HOSTILE_DAY, source: 'partner_sales', source_file: `${prefix}o_unclosed_quote.csv` }).first<{ raw: { _raw: string } }>('raw');
  assert.match(String(swallowed?.raw._raw), /U-3/);
  console.log(`hostile files: ${files.length} files, ${expected.length} records, ${loaded} loaded, ${expected.length - loaded} quarantined, ${Object.keys(countBy(expected.map((e) => e.outcome))).length - 1} categories`);
});

test(`a partner file ${FULL ? 'bigger than' : 'smaller than'} the worker's heap cap loads exactly with the worker alive (${FULL ? 'full' : 'short'} round)`, { timeout: FULL ? 3_600_000 : 300_000 }, async () => {
  const uploadStarted = Date.now();
  const big = await uploadBigPartnerFile(s3, config.s3.bucket, BIG_DAY, sku, BIG_FILE_MB * 1024 * 1024);
  const uploadMs = Date.now() - uploadStarted;
  const pid = worker!.pid!;
  const idleRss = residentMb(pid);
  const sampler = sampleRss(pid);
  const started = Date.now();
  const loading = loadDay(BIG_DAY);
  await loading.then(() => undefined, () => undefined);
  const runMs = Date.now() - started;
  const memory = sampler.stop();
  await loading; // its failure, if any, once the sampler has stopped
  assert.equal(worker!.exitCode, null, 'the worker is still running');
  assert.equal(worker!.signalCode, null, 'the worker was not killed');

  assert.deepEqual(await partnerAudit(BIG_DAY), { records_in: big.records, records_loaded: big.records - big.bad, records_quarantined: big.bad });
  const [facts] = await warehouse('warehouse.fact_sales').where({ load_date: BIG_DAY, source: 'partner_sales' }).count<{ n: string }[]>('* as n');
  assert.equal(Number(facts!.n), big.records - big.bad, 'every good line loaded once');
  const categories = await warehouse('ops.exceptions').where({ logical_date: BIG_DAY, source: 'partner_sales' }).groupBy('category').select('category', warehouse.raw('count(*)::int as n'));
  assert.deepEqual(categories, big.bad > 0 ? [{ category: 'DATA_FORMAT_ERROR', n: big.bad }] : []);

  // Where the run's time went: each task's last successful attempt.
  const attempts = await warehouse('sluice.task_attempts')
    .where({ run_id: runIdFor('daily_etl', dailyRunDate(BIG_DAY)), state: 'success' })
    .andWhere('started_at', '>=', new Date(started))
    .select<Array<{ task_id: string; started_at: Date; ended_at: Date }>>('task_id', 'started_at', 'ended_at');
  const taskSeconds = Object.fromEntries(attempts.map((a) => [a.task_id, (a.ended_at.getTime() - a.started_at.getTime()) / 1000]).filter(([, s]) => Number(s) >= 0.5));
  const mb = (bytes: number) => Math.round(bytes / 1048576);
  console.log(
    `big partner file ${JSON.stringify({
      round: FULL ? 'full' : 'short',
      records: big.records,
      fileMB: mb(big.bytes),
      gzipMB: mb(big.storedBytes),
      heapCapMB: HEAP_CAP_MB,
      uploadS: uploadMs / 1000,
      runS: runMs / 1000,
      rowsPerS: Math.round(big.records / (runMs / 1000)),
      idleRssMB: idleRss === undefined ? null : Math.round(idleRss),
      peakRssMB: Math.round(memory.peakMb),
      rssSamples: memory.samples,
      taskSeconds,
    })}`,
  );
});

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}
