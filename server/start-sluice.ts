/**
 * Everything `sluice up` runs, in order: the stack (embedded servers only where no external one
 * is configured), migrations, one worker per task queue, and the console. Returns the URLs and
 * one `stop()` that takes it all down in reverse order.
 */
import { Client, Connection } from '@temporalio/client';
import type { Server } from 'node:http';
import type { Config } from '../infra/config';
import { createKnex } from '../infra/db/knex';
import { runMigrations } from '../infra/db/migrate';
import { startStack } from '../infra/dev-stack/stack';
import type { Logger } from '../infra/logger';
import { startWorkers } from '../workers/start-workers';
import { createConsoleApp } from './console/app';
import { consoleToken } from './console/token';
import { loadDags } from './dag-registry';
import { syncSchedules } from './schedules/sync';

export interface RunningSluice {
  consoleUrl: string;
  /** The console URL with the token, which logs a browser in. */
  consoleLoginUrl: string;
  temporalUiUrl: string | undefined;
  client: Client;
  dags: ReturnType<typeof loadDags>;
  stop(): Promise<void>;
}

export async function startSluice(config: Config, log: Logger): Promise<RunningSluice> {
  const dags = loadDags();
  for (const error of dags.errors) log.error(error);
  const stack = await startStack(config, { log });
  const stops: Array<() => Promise<unknown>> = [() => stack.stop()];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err) => log.error({ err }, 'error while stopping'));
  };
  try {
    await runMigrations(config.postgres.databaseUrl);
    const workers = await startWorkers(config, dags, log);
    stops.push(() => workers.stop());
    const connection = await Connection.connect({ address: config.temporal.address });
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const synced = await syncSchedules(client, dags.dags.map((d) => d.spec));
    log.info(synced, 'schedules synced');
    const db = createKnex(config.postgres.databaseUrl, { maxConnections: 5 });
    stops.push(() => db.destroy());
    const token = await consoleToken(config.home, config.console.token);
    const app = createConsoleApp({ temporal: client, db, token, logger: log, temporalUiUrl: stack.temporalUiUrl, dags: () => dags.dags.map((d) => d.spec) });
    const server = await listen(app, config.console.port);
    stops.push(() => new Promise((resolve) => server.close(resolve)));
    const consoleUrl = `http://127.0.0.1:${config.console.port}`;
    return { consoleUrl, consoleLoginUrl: `${consoleUrl}/?token=${token}`, temporalUiUrl: stack.temporalUiUrl, client, dags, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function listen(app: ReturnType<typeof createConsoleApp>, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, '127.0.0.1', () => resolve(server));
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} for the console is in use; set SLUICE_CONSOLE_PORT`) : err),
    );
  });
}
