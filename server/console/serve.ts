/**
 * The console as a running HTTP server: the token, the Express app and the listening socket. Used
 * by `sluice up` (beside the stack and a worker) and by `sluice console` (alone, in a deployment).
 */
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Server } from 'node:http';
import type { Config } from '../../infra/config';
import type { Logger } from '../../infra/logger';
import type { DagSpec } from '../../workflows/spec';
import { createConsoleApp } from './app';
import { consoleToken } from './token';

export interface ServedConsole {
  /** The console's address as this machine reaches it. */
  url: string;
  token: string;
  close(): Promise<void>;
}

export interface ServeConsoleOptions {
  config: Config;
  temporal: Client;
  db: Knex;
  log: Logger;
  dags: () => DagSpec[];
  temporalUiUrl?: string;
}

export async function serveConsole(opts: ServeConsoleOptions): Promise<ServedConsole> {
  const { host, port } = opts.config.console;
  const token = await consoleToken(opts.config.home, opts.config.console.token);
  const app = createConsoleApp({ temporal: opts.temporal, db: opts.db, token, logger: opts.log, temporalUiUrl: opts.temporalUiUrl, dags: opts.dags });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, host, () => resolve(listening));
    listening.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} for the console is in use; set SLUICE_CONSOLE_PORT`) : err),
    );
  });
  // A wildcard address is not one a browser can open; the loopback one reaches it from here.
  const reachableHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${reachableHost}:${port}`,
    token,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
