/**
 * The console: the DAG list, grid, run pages, backfills, schedules and the data and report pages,
 * over one JSON API. Built here and started by `listen()` elsewhere, so tests drive the app
 * without a port.
 */
import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';
import type { DagSpec } from '../../workflows/spec';
import { dagsApi } from './api/dags-api';
import { dataApi } from './api/data-api';
import { poolsApi } from './api/pools-api';
import { reportsApi } from './api/reports-api';
import { requireToken } from './auth';
import { guardWrites } from './csrf';
import { errorHandler, errorPage, wantsPage } from './errors';
import { assets } from './html/assets';
import { createConsoleMetrics } from './metrics';
import { backfillPages } from './pages/backfills';
import { dagPages } from './pages/dags';
import { dataPages } from './pages/data';
import { reportsPages } from './pages/reports';
import { runPages } from './pages/runs';
import { poolPages } from './pages/pools';
import { schedulePages } from './pages/schedules';
import { requestLogSerializers } from './request-log';
import { runsApi } from './api/runs-api';
import { LiveStatusCache, ScheduleCache } from './temporal-caches';
import { schedulesApi } from './api/schedules-api';
import { securityHeaders } from './security';

/**
 * How long all the Temporal calls of one request may take. Temporal's client retries a server it
 * cannot reach for about 20 s per call before it gives up; a page should say sooner that Temporal
 * is down (a 503). Queries and Updates keep their own deadline (workers.ts).
 */
const TEMPORAL_DEADLINE_MS = 5_000;

export interface ConsoleDeps {
  temporal: Client;
  db: Knex;
  token: string;
  logger: Logger;
  temporalUiUrl?: string;
  /** The DAG specs, for the DAG list, triggers, schedules and backfills. */
  dags: () => readonly DagSpec[];
}

/** What every page and API router gets. */
export interface ConsoleContext extends ConsoleDeps {
  schedules: ScheduleCache;
  liveStatus: LiveStatusCache;
}

export function createConsoleApp(deps: ConsoleDeps): Express {
  const ctx: ConsoleContext = { ...deps, schedules: new ScheduleCache(deps.temporal), liveStatus: new LiveStatusCache(deps.temporal) };
  const metrics = createConsoleMetrics(deps.db, deps.temporal);
  const app = express();
  app.disable('x-powered-by');
  app.use(
    pinoHttp({
      logger: deps.logger,
      serializers: requestLogSerializers,
      genReqId: (req, res) => {
        const id = req.headers['x-request-id']?.toString() ?? crypto.randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
    }),
  );
  app.use(securityHeaders());
  app.use(metrics.middleware);
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  // The stylesheet and script hold no data; the login page (a 401) needs them too.
  app.use(assets());
  app.use(requireToken(deps.token));
  app.use(guardWrites(deps.token));
  app.use(express.json({ limit: '64kb' }));
  // After the body is read: the deadline lives in the async context the handlers run in, and the
  // body arrives in the socket's.
  app.use((_req, _res, next) => {
    void deps.temporal.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, async () => next());
  });
  app.get('/metrics', metrics.handler);
  app.use('/api', dagsApi(ctx));
  app.use('/api', runsApi(deps.temporal, deps.db));
  app.use('/api', schedulesApi(ctx));
  app.use('/api', dataApi(deps.db));
  app.use('/api', reportsApi(deps.db));
  app.use('/api', poolsApi(ctx));
  app.use(dagPages(ctx));
  app.use(runPages(ctx));
  app.use(backfillPages(ctx));
  app.use(schedulePages(ctx));
  app.use(poolPages(ctx));
  app.use(dataPages(deps.db));
  app.use(reportsPages(deps.db));
  app.use((req, res) => {
    if (wantsPage(req)) res.status(404).type('html').send(errorPage(res, 404, `no page at ${req.path}`));
    else res.status(404).json({ error: 'not found' });
  });
  app.use(errorHandler);
  return app;
}
