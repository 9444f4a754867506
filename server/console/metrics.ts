/**
 * Prometheus metrics for the console's `/metrics`: how long its requests take, and what the run
 * history holds (runs by DAG and state, task attempts by state, quarantined records), counted in
 * Postgres when Prometheus scrapes. Beside them the process's default metrics; the worker exports
 * the Temporal SDK's own.
 */
import type { Client } from '@temporalio/client';
import type { Request, RequestHandler } from 'express';
import type { Knex } from 'knex';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MANAGED_MEMO } from '../schedules/schedule-options';

/**
 * How long the counts of one scrape may take. Prometheus gives up on a scrape after 10 s by
 * default; a scrape whose counts are late still answers in time, with the request metrics and one
 * more scrape error. The same limit is Postgres' statement timeout, so a count that is cut off
 * does not run on.
 */
const SCRAPE_TIMEOUT_MS = 5_000;

export interface ConsoleMetrics {
  /** Times every request; mount it before the routes (and before the token check, so 401s count too). */
  middleware: RequestHandler;
  /** Answers a scrape: counts the run history, then writes every metric in Prometheus' text format. */
  handler: RequestHandler;
}

/**
 * The console's metrics, in a registry of its own (not prom-client's global one), so two consoles
 * in one process (tests) do not share or clash over them.
 *
 * - `sluice_console_http_request_duration_seconds{method,route,status}`: `route` is the Express
 *   route pattern that answered (`/api/runs/:runId`), never the URL, so ids neither multiply the
 *   series nor end up in Prometheus; requests no route answered (401s, 404s, static files) are
 *   `unmatched`. The pattern is the router's mount path as requested plus the route's path, so
 *   routers must be mounted at fixed paths (`app.use('/api', router)`), not at paths with
 *   parameters.
 * - `sluice_runs{dag_id,state}`: rows of `sluice.dag_runs`, one per execution of a run (a rerun adds one).
 * - `sluice_task_attempts{state}`: rows of `sluice.task_attempts`, i.e. attempts by their own state,
 *   not tasks by their latest state: a task that failed once and then succeeded counts once in each.
 * - `sluice_quarantined_records{category,dag_id}`: rows of `ops.exceptions`.
 * - `sluice_quality_score{dag_id,table}`: each checked table's latest score in `ops.quality_scores`
 *   (0 to 100: the share of checks passed, blocking checks weighing double). No threshold is
 *   stored per table, so the alert rule carries it.
 * - `sluice_schedule_missed_catchup_window{dag_id}`: fires each Sluice schedule missed for good
 *   (Temporal's numActionsMissedCatchupWindow: the server was down or the schedule paused past
 *   the catch-up window). Asked of Temporal at each scrape, when the console has a client; a
 *   Temporal that does not answer in time leaves these out and counts a scrape error, without
 *   taking the Postgres counts with it.
 * - `sluice_console_scrape_errors_total`: scrapes whose counts failed or took longer than 5 s. Such
 *   a scrape still answers, without the counts that failed (no stale numbers passed off as new).
 * - `sluice_console_scrape_duration_seconds`: how long the last scrape's counts took, to see them
 *   grow with the history before they hit the limit.
 */
export function createConsoleMetrics(db: Knex, temporal?: Client): ConsoleMetrics {
  const register = new Registry();
  collectDefaultMetrics({ register });
  const registers = [register];

  const requestDuration = new Histogram({
    name: 'sluice_console_http_request_duration_seconds',
    help: 'Console HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const runs = new Gauge({ name: 'sluice_runs', help: 'Recorded runs (executions) by DAG and state', labelNames: ['dag_id', 'state'] as const, registers });
  const attempts = new Gauge({ name: 'sluice_task_attempts', help: 'Recorded task attempts by the state of the attempt', labelNames: ['state'] as const, registers });
  const quarantined = new Gauge({
    name: 'sluice_quarantined_records',
    help: 'Records quarantined in ops.exceptions by category and DAG',
    labelNames: ['category', 'dag_id'] as const,
    registers,
  });
  const quality = new Gauge({ name: 'sluice_quality_score', help: 'Latest data-quality score (0..100) per checked table', labelNames: ['dag_id', 'table'] as const, registers });
  const missed = new Gauge({
    name: 'sluice_schedule_missed_catchup_window',
    help: "Fires each DAG's schedule missed past its catch-up window (Temporal's numActionsMissedCatchupWindow)",
    labelNames: ['dag_id'] as const,
    registers,
  });
  const scrapeErrors = new Counter({ name: 'sluice_console_scrape_errors_total', help: 'Scrapes whose run-history counts failed or timed out', registers });
  const scrapeDuration = new Gauge({ name: 'sluice_console_scrape_duration_seconds', help: 'How long the last scrape took to count the run history', registers });

  const middleware: RequestHandler = (req, res, next) => {
    const end = requestDuration.startTimer();
    const route = trackRoute(req);
    res.once('finish', () => end({ method: req.method, route: route(), status: res.statusCode }));
    next();
  };

  const countPostgres = async (req: Request) => {
    try {
      const counts = await withTimeout(countHistory(db), SCRAPE_TIMEOUT_MS);
      // Replaced in one synchronous step, so a scrape running alongside never sees half of them.
      for (const gauge of [runs, attempts, quarantined, quality]) gauge.reset();
      for (const r of counts.runs) runs.set({ dag_id: r.dag_id, state: r.state }, Number(r.n));
      for (const r of counts.attempts) attempts.set({ state: r.state }, Number(r.n));
      for (const r of counts.quarantined) quarantined.set({ category: r.category, dag_id: r.dag_id }, Number(r.n));
      for (const r of counts.quality) quality.set({ dag_id: r.dag_id, table: r.table_name }, Number(r.score));
    } catch (err) {
      for (const gauge of [runs, attempts, quarantined, quality]) gauge.reset();
      scrapeErrors.inc();
      // `req.log` is pino-http's; an app without it still answers.
      (req.log as typeof req.log | undefined)?.warn({ err }, 'metrics: counting the run history failed');
    }
  };
  const countSchedules = async (req: Request, client: Client) => {
    try {
      const counts = await withTimeout(missedCatchups(client), SCRAPE_TIMEOUT_MS);
      missed.reset();
      for (const [dagId, n] of counts) missed.set({ dag_id: dagId }, n);
    } catch (err) {
      missed.reset();
      scrapeErrors.inc();
      (req.log as typeof req.log | undefined)?.warn({ err }, 'metrics: reading the schedules from Temporal failed');
    }
  };

  const handler: RequestHandler = async (req, res) => {
    const end = scrapeDuration.startTimer();
    try {
      await Promise.all([countPostgres(req), temporal && countSchedules(req, temporal)]);
    } finally {
      end();
    }
    res.set('content-type', register.contentType).send(await register.metrics());
  };

  return { middleware, handler };
}

/**
 * The pattern of the route that answers `req`, as `/api/runs/:runId`; `unmatched` when none does.
 * Read when the router sets `req.route`, because that is when `req.baseUrl` holds the router's
 * mount path: a route that throws is answered by the app's error handler, after the router has
 * put `baseUrl` back to the app's.
 */
function trackRoute(req: Request): () => string {
  let pattern = 'unmatched';
  let route: unknown;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(value: unknown) {
      route = value;
      const path = (value as { path?: unknown } | undefined)?.path;
      if (typeof path === 'string') pattern = `${req.baseUrl}${path}`;
    },
  });
  return () => pattern;
}

interface HistoryCounts {
  runs: Array<{ dag_id: string; state: string; n: string }>;
  attempts: Array<{ state: string; n: string }>;
  quarantined: Array<{ category: string; dag_id: string; n: string }>;
  quality: Array<{ dag_id: string; table_name: string; score: string }>;
}

/**
 * The three counts, in one transaction on one pooled connection (a scrape takes no more of the
 * console's pool than a page does), under a statement timeout. `count(*)` is a bigint, which pg
 * hands over as a string.
 */
function countHistory(db: Knex): Promise<HistoryCounts> {
  return db.transaction(async (trx) => {
    await trx.raw(`select set_config('statement_timeout', ?, true)`, [String(SCRAPE_TIMEOUT_MS)]);
    const runs = await trx.withSchema('sluice').table('dag_runs').select('dag_id', 'state').count({ n: '*' }).groupBy('dag_id', 'state');
    const attempts = await trx.withSchema('sluice').table('task_attempts').select('state').count({ n: '*' }).groupBy('state');
    const quarantined = await trx.withSchema('ops').table('exceptions').select('category', 'dag_id').count({ n: '*' }).groupBy('category', 'dag_id');
    // The latest day's score per table: one row each, by the primary key's order.
    const quality = await trx
      .withSchema('ops')
      .table('quality_scores')
      .distinctOn('dag_id', 'table_name')
      .select('dag_id', 'table_name', 'score')
      .orderBy([{ column: 'dag_id' }, { column: 'table_name' }, { column: 'logical_date', order: 'desc' }]);
    return { runs, attempts, quarantined, quality } as HistoryCounts;
  });
}

/** Each Sluice schedule's missed-catch-up count, by DAG (schedules carry their DAG in a memo). */
async function missedCatchups(client: Client): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const summary of client.schedule.list()) {
    const dagId = summary.memo?.[MANAGED_MEMO];
    if (typeof dagId !== 'string') continue;
    const description = await client.schedule.getHandle(summary.scheduleId).describe();
    counts.set(dagId, description.info.numActionsMissedCatchupWindow);
  }
  return counts;
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`counting took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}
