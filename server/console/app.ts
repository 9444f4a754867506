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
import { errorHandler } from './errors';
import { pages } from './pages';
import { runsApi } from './runs-api';
import { schedulesApi } from './schedules-api';

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
  app.use(pinoHttp({ logger: deps.logger, genReqId: (req, res) => {
    const id = req.headers['x-request-id']?.toString() ?? crypto.randomUUID();
    res.setHeader('x-request-id', id);
    return id;
  } }));
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(requireToken(deps.token));
  app.use(express.json({ limit: '64kb' }));
  app.use('/api', runsApi(deps.temporal, deps.db));
  app.use('/api', schedulesApi(deps.temporal, deps.db, deps.dags));
  app.use(pages(deps.temporal, deps.db, deps.dags, deps.temporalUiUrl));
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use(errorHandler);
  return app;
}
