/**
 * Console benchmark: the DAG list, a grid, run history and two pages over 10,000 recorded runs of
 * 20 tasks each (10 DAGs x 1,000 daily dates), each endpoint under 50 concurrent keep-alive
 * clients for 10 s after a 2 s warm-up. Prints p50/p95/p99/max latency and requests per second
 * (and, for scale, one request's time alone) as a table and as one JSON line, then the Postgres
 * plan of every query one request of each endpoint ran, and the cost of one `/metrics` scrape.
 * Asserts nothing (target: p95 < 150 ms). Run with `npm run bench:console`;
 * `SLUICE_BENCH_CONSOLE_SECONDS` changes the measured 10 s.
 *
 * The runs are written straight into `sluice.dag_runs` and `sluice.task_attempts` with COPY, and
 * deleted again at the end (and at the start, after an interrupted run). The DAGs' schedules are
 * never synced to Temporal. The clients run in a worker thread, so the server's event loop
 * serves requests only; the request log is written (to /dev/null) as in production.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { Knex } from 'knex';
import type pg from 'pg';
import pino from 'pino';
import { copyIn, csvLine } from '../../activities/lib';
import { dag } from '../../dags/sdk';
import { createKnex } from '../../infra/db/knex';
import { runIdFor } from '../../server/client/run-id';
import { createConsoleApp } from '../../server/console/app';
import type { DagSpec } from '../../workflows/spec';
import { echo, testTasks } from '../fixtures/tasks';
import { compileOrThrow } from '../support/dag-runs';
import { testConfig, testPgPool, testTemporal } from '../support/env';

const DAG_COUNT = 10;
const DATES = 1_000;
const TASKS = 20;
const CLIENTS = 50;
const WARMUP_MS = 2_000;
const MEASURE_MS = Number(process.env.SLUICE_BENCH_CONSOLE_SECONDS ?? 10) * 1000;
const TARGET_P95_MS = 150;
const FIRST_DATE = Date.UTC(2023, 0, 1);
const DAY_MS = 86_400_000;
const TOKEN = 'bench-console-token';
/** The console's own pool size (server/start-sluice.ts). */
const POOL = 5;

const DAG_IDS = Array.from({ length: DAG_COUNT }, (_, i) => `bench_console_${String(i).padStart(2, '0')}`);
const TASK_IDS = Array.from({ length: TASKS }, (_, i) => `t${String(i).padStart(2, '0')}`);
const GRID_DAG = 'bench_console_03';
const ENDPOINTS = [
  { name: 'DAG list (JSON)', path: '/api/dags' },
  { name: 'grid, latest 25 runs (JSON)', path: `/api/dags/${GRID_DAG}/grid` },
  { name: 'run history, 50 runs (JSON)', path: `/api/runs?dagId=${GRID_DAG}&limit=50` },
  { name: 'DAG list page', path: '/' },
  { name: 'grid page', path: `/dags/${GRID_DAG}/grid` },
];

async function main(): Promise<void> {
  const config = testConfig();
  const db = createKnex(config.postgres.databaseUrl, { maxConnections: POOL });
  const pool = testPgPool();
  const { client, connection } = await testTemporal();
  let server: Server | undefined;
  try {
    const specs = DAG_IDS.map(chainDag);
    await deleteBenchRows(db);
    const seeded = await seed(db, specs);
    const app = createConsoleApp({
      temporal: client,
      db,
      token: TOKEN,
      logger: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false })),
      dags: () => specs,
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server!.once('listening', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    console.log(`seeded ${seeded.runs} runs and ${seeded.attempts} task attempts in ${seconds(seeded.ms)}; ${CLIENTS} clients, ${WARMUP_MS / 1000} s warm-up, ${MEASURE_MS / 1000} s measured per endpoint`);

    const results: Result[] = [];
    const plans: Array<{ endpoint: string; queries: Captured[] }> = [];
    for (const endpoint of ENDPOINTS) {
      const url = `${origin}${endpoint.path}`;
      // One request alone first: it shows whether the endpoint is there, and which queries it runs.
      const { status, queries } = await capturing(db, () => probe(url));
      if (status !== 200) {
        console.log(`${endpoint.path}: answers ${status}, not measured`);
        results.push({ endpoint: endpoint.path, status });
        continue;
      }
      plans.push({ endpoint: endpoint.path, queries });
      results.push({ endpoint: endpoint.path, status, aloneP50Ms: await alone(url), ...(await load(url)) });
    }
    printTable(results);
    console.log(JSON.stringify({ bench: 'console', runs: seeded.runs, taskAttempts: seeded.attempts, clients: CLIENTS, measuredSeconds: MEASURE_MS / 1000, targetP95Ms: TARGET_P95_MS, results }));

    for (const { endpoint, queries } of plans) await explain(pool, endpoint, queries);
    await scrapeCost(db, pool, `${origin}/metrics`);
  } finally {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await deleteBenchRows(db);
    await connection.close();
    await pool.end();
    await db.destroy();
  }
}

/** A daily DAG of 20 tasks in a chain, t00 -> t01 -> ... -> t19. */
function chainDag(dagId: string): DagSpec {
  return compileOrThrow(
    dag(dagId, { schedule: '0 0 * * *' }, ({ task }) => {
      let previous = task(echo, { label: TASK_IDS[0]! }, { id: TASK_IDS[0]! });
      for (const id of TASK_IDS.slice(1)) previous = task(echo, { label: id, from: previous }, { id });
    }),
    testTasks,
  );
}

/**
 * 1,000 daily runs per DAG: 94 % success, 4 % failed, 2 % awaiting an operator. A run that did
 * not succeed stopped at one task after two failed attempts (the tasks after it never started);
 * in 5 % of the others' tasks a first attempt failed and a second succeeded.
 */
async function seed(db: Knex, specs: DagSpec[]): Promise<{ runs: number; attempts: number; ms: number }> {
  const started = Date.now();
  const random = lcg(42);
  const runs: unknown[][] = [];
  const attempts: unknown[][] = [];
  for (const spec of specs) {
    for (let day = 0; day < DATES; day++) {
      const logical = new Date(FIRST_DATE + day * DAY_MS);
      const runId = runIdFor(spec.dagId, logical);
      const temporalRunId = randomUUID();
      const roll = random();
      const state = roll < 0.94 ? 'success' : roll < 0.98 ? 'failed' : 'awaiting_operator';
      const stopsAt = state === 'success' ? TASKS : Math.floor(random() * TASKS);
      let clock = logical.getTime() + DAY_MS + 5_000;
      const runStart = new Date(clock);
      for (let t = 0; t <= Math.min(stopsAt, TASKS - 1); t++) {
        const failing = t === stopsAt;
        const tries = failing || random() < 0.05 ? 2 : 1;
        for (let attempt = 1; attempt <= tries; attempt++) {
          const ok = !failing && attempt === tries;
          const begin = new Date(clock);
          clock += 200 + Math.floor(random() * 3_000);
          const logs = [{ at: begin.toISOString(), level: ok ? 'info' : 'error', msg: ok ? `processed ${Math.floor(random() * 10_000)} rows` : 'partner file is broken' }];
          attempts.push([temporalRunId, runId, spec.dagId, TASK_IDS[t], -1, attempt, ok ? 'success' : 'failed', begin, new Date(clock), ok ? null : 'Error: partner file is broken', 'bench-worker', logs]);
          clock += 20;
        }
      }
      const failed = state === 'success' ? '{}' : `{${TASK_IDS[stopsAt]!}}`;
      const ended = state === 'awaiting_operator' ? null : new Date(clock);
      runs.push([temporalRunId, runId, spec.dagId, spec.version, logical, logical, new Date(logical.getTime() + DAY_MS), state, 'scheduled', '{}', failed, runStart, ended, new Date(clock)]);
    }
  }
  const runColumns = ['temporal_run_id', 'run_id', 'dag_id', 'version', 'logical_date', 'data_interval_start', 'data_interval_end', 'state', 'trigger', 'params', 'failed_tasks', 'started_at', 'ended_at', 'updated_at'];
  const attemptColumns = ['temporal_run_id', 'run_id', 'dag_id', 'task_id', 'map_index', 'attempt', 'state', 'started_at', 'ended_at', 'error', 'worker', 'logs'];
  const runCount = await copyIn(db, 'sluice.dag_runs', runColumns, Readable.from(runs.map(csvLine)));
  const attemptCount = await copyIn(db, 'sluice.task_attempts', attemptColumns, Readable.from(attempts.map(csvLine)));
  // Fresh statistics, as autovacuum would gather them in time, so the plans below are the real ones.
  await db.raw('analyze sluice.dag_runs, sluice.task_attempts');
  return { runs: runCount, attempts: attemptCount, ms: Date.now() - started };
}

async function deleteBenchRows(db: Knex): Promise<void> {
  await db.withSchema('sluice').table('task_attempts').whereIn('dag_id', DAG_IDS).delete();
  await db.withSchema('sluice').table('dag_runs').whereIn('dag_id', DAG_IDS).delete();
}

async function probe(url: string): Promise<number> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } });
  await res.arrayBuffer();
  return res.status;
}

/** A statement as knex sent it to pg: `$1`-style placeholders and their values. */
interface Captured {
  sql: string;
  bindings: unknown[];
}

/** Runs `work`, collecting the SQL that knex sends meanwhile (nothing else queries this pool then). */
async function capturing<T>(db: Knex, work: () => Promise<T>): Promise<{ status: T; queries: Captured[] }> {
  const queries: Captured[] = [];
  const listener = (q: { sql: string; bindings?: unknown[] }) => queries.push({ sql: q.sql, bindings: q.bindings ?? [] });
  db.on('query', listener);
  try {
    return { status: await work(), queries };
  } finally {
    db.removeListener('query', listener);
  }
}

interface Measured {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Answers other than 200 during the measurement, by status. */
  errors: Record<string, number>;
}

type Result = { endpoint: string; status: number; aloneP50Ms?: number } & Partial<Measured>;

/**
 * The median of 20 requests one at a time: the time one request takes to serve. Under 50 clients
 * a request also waits for those ahead of it, so there the p50 is about 50 x this / the cores the
 * server can use (one: Node serves on one thread) unless Postgres or Temporal is the bottleneck.
 */
async function alone(url: string): Promise<number> {
  for (let i = 0; i < 5; i++) await probe(url);
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const started = performance.now();
    await probe(url);
    times.push(performance.now() - started);
  }
  return round(times.sort((a, b) => a - b)[10]!);
}

/**
 * 50 clients in a loop on one keep-alive connection each, in a worker thread. Latency counts
 * requests started in the measured window; throughput, those that finished in it.
 */
async function load(url: string): Promise<Measured> {
  const worker = new Worker(CLIENT_CODE, { eval: true, workerData: { url, token: TOKEN, clients: CLIENTS, warmupMs: WARMUP_MS, measureMs: MEASURE_MS } });
  const outcome = await new Promise<{ latencies: Float64Array; finished: number; statuses: Record<string, number>; error?: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  if (outcome.error) throw new Error(`load clients failed: ${outcome.error}`);
  const sorted = Array.from(outcome.latencies).sort((a, b) => a - b);
  const at = (q: number) => round(sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN);
  const errors = Object.fromEntries(Object.entries(outcome.statuses).filter(([status]) => status !== '200'));
  return {
    requests: sorted.length,
    requestsPerSecond: round(outcome.finished / (MEASURE_MS / 1000)),
    p50Ms: at(0.5),
    p95Ms: at(0.95),
    p99Ms: at(0.99),
    maxMs: round(sorted.at(-1) ?? NaN),
    errors,
  };
}

/** The load clients, as plain JavaScript for a worker thread (global fetch keeps connections alive). */
const CLIENT_CODE = `
const { workerData, parentPort } = require('node:worker_threads');
const { url, token, clients, warmupMs, measureMs } = workerData;
const from = performance.now() + warmupMs;
const until = from + measureMs;
const latencies = [];
const statuses = {};
let finished = 0;
async function client() {
  while (performance.now() < until) {
    const started = performance.now();
    const res = await fetch(url, { headers: { authorization: 'Bearer ' + token } });
    await res.arrayBuffer();
    const ended = performance.now();
    if (started >= from) {
      latencies.push(ended - started);
      statuses[res.status] = (statuses[res.status] || 0) + 1;
    }
    if (ended >= from && ended < until) finished++;
  }
}
Promise.all(Array.from({ length: clients }, client)).then(
  () => parentPort.postMessage({ latencies: Float64Array.from(latencies), finished, statuses }),
  (err) => parentPort.postMessage({ error: String((err && err.stack) || err) }),
);
`;

function printTable(results: Result[]): void {
  const header = ['endpoint', 'status', '1 client p50', 'requests', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', `p95 < ${TARGET_P95_MS}`];
  const rows = results.map((r) =>
    r.p95Ms === undefined
      ? [r.endpoint, String(r.status), 'not measured', '', '', '', '', '', '', '']
      : [
          r.endpoint,
          Object.keys(r.errors ?? {}).length === 0 ? '200' : `200, ${JSON.stringify(r.errors)}`,
          String(r.aloneP50Ms),
          String(r.requests),
          String(r.requestsPerSecond),
          String(r.p50Ms),
          String(r.p95Ms),
          String(r.p99Ms),
          String(r.maxMs),
          r.p95Ms < TARGET_P95_MS ? 'yes' : 'NO',
        ],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(['', line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''].join('\n'));
}

/**
 * `EXPLAIN ANALYZE` of each query an endpoint ran that reads Sluice's tables, with a warning for
 * a sequential scan of the two that grow with history.
 */
async function explain(pool: pg.Pool, endpoint: string, queries: Captured[]): Promise<void> {
  const reads = queries.filter((q) => /^\s*(select|with)\b/i.test(q.sql) && /\b(sluice|ops)\b/.test(q.sql));
  console.log(`\n=== query plans: GET ${endpoint} (${reads.length} of ${queries.length} queries read run history) ===`);
  for (const q of reads) {
    const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers) ${q.sql}`, q.bindings);
    const plan = rows.map((r) => r['QUERY PLAN']);
    const seqScans = plan.filter((l) => /Seq Scan on (dag_runs|task_attempts)\b/.test(l));
    console.log(`\n${q.sql}\n${plan.map((l) => `  ${l}`).join('\n')}`);
    if (seqScans.length > 0) console.log(`  !! sequential scan of run history: ${seqScans.map((l) => l.trim()).join('; ')}`);
  }
}

/** One `/metrics` scrape at a time, as Prometheus scrapes: its time, and its queries' plans. */
async function scrapeCost(db: Knex, pool: pg.Pool, url: string): Promise<void> {
  const { status, queries } = await capturing(db, () => probe(url));
  if (status !== 200) {
    console.log(`\n/metrics: answers ${status}, not measured`);
    return;
  }
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await probe(url);
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  console.log(`\n/metrics, one scrape at a time: median ${round(times[2]!)} ms, max ${round(times[4]!)} ms (5 scrapes)`);
  console.log(JSON.stringify({ bench: 'console-metrics-scrape', medianMs: round(times[2]!), maxMs: round(times[4]!) }));
  await explain(pool, '/metrics', queries);
}

/** A small deterministic generator, so every run seeds the same states. */
function lcg(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

const round = (n: number) => Math.round(n * 10) / 10;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
