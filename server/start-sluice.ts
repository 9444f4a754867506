/**
 * Everything `sluice up` runs, in order: the stack (embedded servers only where no external one
 * is configured), migrations, the worker process (`sluice worker`, supervised), schedules, the
 * console and, when watching, hot reload of edited DAGs and task code. Returns the URLs and one
 * `stop()` that takes it all down: the worker first, then the rest in reverse order.
 */
import { Client, Connection } from '@temporalio/client';
import path from 'node:path';
import type { Config } from '../infra/config';
import { createKnex } from '../infra/db/knex';
import { runMigrations } from '../infra/db/migrate';
import { startStack } from '../infra/dev-stack/stack';
import type { Logger } from '../infra/logger';
import { writeWorkflowBundle } from '../workers/bundle';
import { declarePools } from './client/pools';
import { serveConsole } from './console/serve';
import { loadDags, type LoadedDags } from './dag-registry';
import { createReloader, type Reloader } from './dev/hot-reload';
import { watchCode, type CodeWatcher } from './dev/watch-code';
import { superviseWorker, type WorkerSupervisor } from './dev/worker-supervisor';
import { syncSchedules } from './schedules/sync';
import { temporalConnectionOptions } from '../infra/temporal-connection';

/** Task code outside the DAG folder: watched and re-imported with it. */
const ACTIVITIES_DIR = path.resolve(__dirname, '../activities');
/** The authoring SDK inside the repository's `dags/`: Sluice's code, which a reload keeps. */
const SDK_DIR = path.resolve(__dirname, '../dags/sdk');

export interface StartOptions {
  /** Reload DAGs and restart the worker when code under the DAG folder or `activities/` changes. */
  watch: boolean;
}

export interface RunningSluice {
  consoleUrl: string;
  /** The console URL with the token, which logs a browser in. */
  consoleLoginUrl: string;
  temporalUiUrl: string | undefined;
  client: Client;
  /** The DAGs in service; a reload replaces them. */
  dags(): LoadedDags;
  /** Resolves once a worker process is ready to take tasks. */
  workerReady(): Promise<void>;
  stop(): Promise<void>;
}

export async function startSluice(config: Config, log: Logger, options: StartOptions): Promise<RunningSluice> {
  let dags = loadDags(config.dagsDir);
  for (const error of dags.errors) log.error(error);
  // About a second of CPU, spent while the servers start.
  const bundling = writeWorkflowBundle(config.home, log);
  bundling.catch(() => undefined); // awaited below, unless the stack fails first
  const stack = await startStack(config, { log });
  const stops: Array<() => Promise<unknown>> = [() => stack.stop()];
  let worker: WorkerSupervisor | undefined;
  let watcher: CodeWatcher | undefined;
  let reloader: Reloader | undefined;
  const stop = async () => {
    watcher?.close();
    await reloader?.close();
    // The worker goes first: its running tasks finish against servers that are still up.
    await worker?.stop().catch((err) => log.error({ err }, 'error while stopping the worker'));
    for (const s of stops.reverse()) await s().catch((err) => log.error({ err }, 'error while stopping'));
  };
  try {
    await runMigrations(config.postgres.databaseUrl);
    worker = superviseWorker({ workflowBundlePath: await bundling, log });
    const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
    stops.push(() => connection.close());
    const client = new Client({ connection, namespace: config.temporal.namespace });
    const synced = await syncSchedules(client, dags.dags.map((d) => d.spec));
    log.info(synced, 'schedules synced');
    const db = createKnex(config.postgres.databaseUrl, { maxConnections: 5 });
    stops.push(() => db.destroy());
    await declarePools(db, config.pools);
    const served = await serveConsole({ config, temporal: client, db, log, temporalUiUrl: stack.temporalUiUrl, dags: () => dags.dags.map((d) => d.spec) });
    stops.push(() => served.close());
    if (options.watch) {
      const live = (reloader = createReloader({
        dagsDir: config.dagsDir,
        codeDirs: [ACTIVITIES_DIR],
        current: () => dags,
        replace: (next) => (dags = next),
        client,
        worker,
        log,
      }));
      watcher = watchCode([config.dagsDir, ACTIVITIES_DIR], (files) => live.reload(files), { ignore: [SDK_DIR], log });
    }
    const supervised = worker;
    return {
      consoleUrl: served.url,
      consoleLoginUrl: `${served.url}/?token=${served.token}`,
      temporalUiUrl: stack.temporalUiUrl,
      client,
      dags: () => dags,
      workerReady: () => supervised.ready(),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
