/**
 * Chaos: load. Many runs of a small DAG started at once on ONE production worker process
 * (`sluice worker --queues test-chaos-load`, a child loading a temporary DAG folder). Every run
 * must succeed, no run's history may come near Temporal's limits (51,200 events, 50 MB), and the
 * worker's resident memory (sampled from /proc every 250 ms) must stay under a generous bound
 * that only a leak would cross. The figures (peak RSS, start to all done) are printed for
 * RELIABILITY.md; nothing is asserted on speed.
 *
 * FULL round (`SLUICE_CHAOS=full`): 200 runs, the number the issue names, and every run's time to
 * done. SHORT round (`npm test`): 50 runs, the same checks.
 */
import type { Client } from '@temporalio/client';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { createKnex } from '../../infra/db/knex';
import { startDagRun, type StartedRun } from '../../server/client/start-run';
import { loadDags } from '../../server/dag-registry';
import { runSlotsId } from '../../workflows/run-slots';
import type { DagSpec } from '../../workflows/spec';
import { testConfig, testTemporal } from '../support/env';
import { SDK_PATH, startProductionWorker, stopProductionWorker, writeDagFolder } from './support/production-worker';
import { residentMb, sampleRss } from './support/rss-sampler';

const FULL = process.env.SLUICE_CHAOS === 'full';
const QUEUE = 'test-chaos-load';
/** FULL: the 200. SHORT: 50, since 200 take over a minute on 2 shared cores (RELIABILITY.md). */
const RUNS = FULL ? 200 : 50;
/** A leak, not a busy worker: the idle worker is about 380 MB. */
const RSS_BOUND_MB = 1536;
/** A three-task run takes a few dozen events; far above that means something loops. */
const HISTORY_EVENTS_BOUND = 500;

/** Three tasks in a chain, a few milliseconds each; up to RUNS runs at once (the default is 16). */
const LOAD_DAG = `import { dag, defineTask } from ${JSON.stringify(SDK_PATH)};

const step = defineTask('loadStep', async (input: { n: number }) => {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return input.n + 1;
});

export default dag('load_small', { taskQueue: '${QUEUE}', maxActiveRuns: ${RUNS} }, ({ task }) => {
  const a = task(step, { n: 0 }, { id: 'a' });
  const b = task(step, { n: a }, { id: 'b' });
  task(step, { n: b }, { id: 'c' });
});
`;

const warehouse = createKnex(testConfig().postgres.databaseUrl, { maxConnections: 2 });
let client: Client;
let connection: { close: () => Promise<void> } | undefined;
let dagsDir: string;
let spec: DagSpec;
let worker: ChildProcess | undefined;

before(async () => {
  dagsDir = await writeDagFolder('chaos-load-dags-', { 'load_small.ts': LOAD_DAG });
  const loaded = loadDags(dagsDir);
  assert.deepEqual(loaded.errors, [], 'the load DAG loads');
  spec = loaded.dags[0]!.spec;
  ({ client, connection } = await testTemporal());
});

after(async () => {
  if (worker) await stopProductionWorker(worker);
  await warehouse('sluice.task_attempts').where({ dag_id: 'load_small' }).delete();
  await warehouse('sluice.dag_runs').where({ dag_id: 'load_small' }).delete();
  await warehouse.destroy();
  await connection?.close();
  await rm(dagsDir, { recursive: true, force: true });
});

test(`${RUNS} concurrent runs of a small DAG on one worker: all succeed, small histories, bounded memory (${FULL ? 'full' : 'short'} round)`, { timeout: 600_000 }, async () => {
  worker = await startProductionWorker([QUEUE], { dagsDir });
  const pid = worker.pid!;
  const idleMb = residentMb(pid) ?? 0;
  const memory = sampleRss(pid);
  const t0 = Date.now();
  // Logical dates a second apart (the DAG has no schedule, so any instant is a date of its own).
  const base = Date.UTC(2031, 0, 1);
  const runs: StartedRun[] = await Promise.all(
    Array.from({ length: RUNS }, (_, i) => startDagRun(client, spec, { logicalDate: new Date(base + i * 1000), params: {}, trigger: 'manual', rerun: true })),
  );
  const startedMs = Date.now() - t0;
  const results = await Promise.all(runs.map((r) => r.handle.result().then((result) => ({ result, at: Date.now() - t0 }))));
  const allDoneMs = Date.now() - t0;
  const rss = memory.stop();

  const failed = results.filter(({ result }) => result.state !== 'success');
  assert.deepEqual(failed.map((f) => f.result), [], 'every run succeeds');
  const descriptions = await Promise.all(runs.map((r) => r.handle.describe()));
  const events = descriptions.map((d) => d.historyLength);
  const bytes = descriptions.map((d) => d.historySize ?? 0);
  const gate = await client.workflow.getHandle(runSlotsId('load_small', QUEUE)).describe();
  const summary = {
    round: FULL ? 'full' : 'short',
    runs: RUNS,
    tasks: RUNS * 3,
    startAllMs: startedMs,
    startToAllDoneMs: allDoneMs,
    runsPerSecond: Number(((RUNS * 1000) / allDoneMs).toFixed(1)),
    historyEvents: { min: Math.min(...events), max: Math.max(...events) },
    historyBytesMax: Math.max(...bytes),
    maxActiveRunsGate: { events: gate.historyLength, status: gate.status.name },
    workerRssMb: { idle: Math.round(idleMb), peak: Math.round(rss.peakMb), end: Math.round(rss.lastMb), samples: rss.samples },
    ...(FULL ? { runDoneMs: spread(results.map((r) => r.at)) } : {}),
  };
  console.log(`load summary ${JSON.stringify(summary, null, 2)}`);
  assert.ok(Math.max(...events) < HISTORY_EVENTS_BOUND, `a run's history has ${Math.max(...events)} events`);
  assert.ok(gate.historyLength < 51_200, `the maxActiveRuns gate's history has ${gate.historyLength} events`);
  assert.ok(rss.peakMb < RSS_BOUND_MB, `worker peak RSS ${rss.peakMb.toFixed(0)} MB is over ${RSS_BOUND_MB} MB`);
});

function spread(values: number[]): { min: number; p50: number; p90: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  return { min: sorted[0]!, p50: at(0.5), p90: at(0.9), max: sorted.at(-1)! };
}
