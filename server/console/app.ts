/**
 * The console: run history, one run's tasks and logs, and the operator's buttons. Built here and
 * started by `listen()` elsewhere, so tests drive the app without a port.
 */
import type { Client } from '@temporalio/client';
import express, { type Express } from 'express';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { DagSpec } from '../../workflows/spec';
import { pinoHttp } from 'pino-http';
import { requireToken } from './auth';
import { guardWrites } from './csrf';
import { errorHandler } from './errors';
import { pages } from './pages';
import { requestLogSerializers } from './request-log';
import { runsApi } from './runs-api';
import { schedulesApi } from './schedules-api';

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
  /** The DAG specs, for schedules and backfills. */
  dags: () => readonly DagSpec[];
}

export function createConsoleApp(deps: ConsoleDeps): Express {
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
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(requireToken(deps.token));
  app.use(guardWrites(deps.token));
  app.use(express.json({ limit: '64kb' }));
  // After the body is read: the deadline lives in the async context the handlers run in, and the
  // body arrives in the socket's.
  app.use((_req, _res, next) => {
    void deps.temporal.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, async () => next());
  });
  app.use('/api', runsApi(deps.temporal, deps.db));
  app.use('/api', schedulesApi(deps.temporal, deps.db, deps.dags));
  app.use(pages(deps.temporal, deps.db, deps.dags, deps.temporalUiUrl));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use(errorHandler);
  return app;
}
