/**
 * The body of `sluice worker`, the production worker process: loads the DAG folder, registers the
 * tasks its DAGs use and serves task queues until SIGTERM or SIGINT, then stops polling, lets
 * running tasks finish and returns.
 *
 * Started by `sluice up` (server/dev/worker-supervisor.ts), it also talks to its parent over the
 * IPC channel: it reports when it is ready and when it has stopped polling, and it stops as on
 * SIGTERM when the channel closes, so a SIGKILLed `sluice up` leaves no worker behind.
 *
 * It also runs the bookkeeper (runs closed outside Sluice, see ./bookkeeper.ts), and it outlives
 * its own bugs: a promise rejection nobody handled is logged and the process keeps serving, since
 * ending it would kill the tasks of every other run it is running.
 */
import { Connection } from '@temporalio/client';
import { existsSync } from 'node:fs';
import { ConfigError, type Config } from '../infra/config';
import { ensureSearchAttributes } from '../infra/dev-stack/temporal-server';
import type { Logger } from '../infra/logger';
import { declarePools } from '../server/client/pools';
import { loadDags } from '../server/dag-registry';
import { createKnex } from '../infra/db/knex';
import { startBookkeeper } from './bookkeeper';
import { startHealthServer } from './health-server';
import { defaultTaskQueues, startWorkers, type RunningWorkers } from './start-workers';
import { temporalConnectionOptions } from '../infra/temporal-connection';

export interface WorkerProcessOptions {
  /** The queues to serve (`--queues`); default SLUICE_WORKER_QUEUES, else `defaultTaskQueues` of the DAG folder. */
  taskQueues?: string[];
  /** Most activities running at once on each queue's worker (`--concurrency`); default SLUICE_WORKER_CONCURRENCY. */
  concurrency?: number;
  /** A pre-built workflow bundle (SLUICE_WORKFLOW_BUNDLE); without it the process bundles. */
  workflowBundlePath?: string;
}

/** What a worker process tells the `sluice up` that started it. */
export type WorkerMessage = { type: 'ready'; taskQueues: string[]; tasks: string[] } | { type: 'draining' };

/** Thrown when Temporal cannot be reached at start (the CLI exits 3 for it). */
export class TemporalUnreachableError extends Error {}

export async function runWorkerProcess(config: Config, options: WorkerProcessOptions, log: Logger): Promise<void> {
  const { workflowBundlePath } = options;
  if (workflowBundlePath && !existsSync(workflowBundlePath)) {
    throw new ConfigError(`SLUICE_WORKFLOW_BUNDLE: ${workflowBundlePath} does not exist; build it with \`npm run build\` (dist/workflow-bundle.js), or unset it to bundle at start`);
  }
  // Up first, so a liveness probe answers while the worker starts; not ready until every queue polls.
  let running: RunningWorkers | undefined;
  let draining = false;
  const health = config.worker.httpAddress
    ? await startHealthServer({
        address: config.worker.httpAddress,
        ready: () => !draining && !!running && running.workers.every((w) => w.getState() === 'RUNNING'),
        sdkMetricsAddress: () => running?.sdkMetricsAddress,
        log,
      })
    : undefined;
  try {
    await serve(config, options, log, (r) => (running = r), () => (draining = true));
  } finally {
    await health?.close();
  }
}

async function serve(
  config: Config,
  options: WorkerProcessOptions,
  log: Logger,
  started: (running: RunningWorkers) => void,
  draining: () => void,
): Promise<void> {
  const loaded = loadDags(config.dagsDir);
  for (const error of loaded.errors) log.error(error);
  const taskQueues = options.taskQueues ?? config.worker.queues ?? defaultTaskQueues(loaded.dags);
  const concurrency = options.concurrency ?? config.worker.concurrency;
  await registerSearchAttributes(config);
  await declareConfiguredPools(config);
  const running = await startWorkers(
    config,
    { tasks: loaded.tasks, dags: loaded.dags.map((d) => d.spec), taskQueues, maxConcurrentActivities: concurrency, workflowBundlePath: options.workflowBundlePath },
    log,
  );
  started(running);
  const tasks = loaded.tasks.map((t) => t.name);
  log.info(
    { taskQueues, tasks, concurrency },
    `serving ${taskQueues.join(', ')} with ${tasks.length} task${tasks.length === 1 ? '' : 's'}: ${tasks.join(', ') || 'none'}`,
  );

  const bookkeeper = startBookkeeper({ databaseUrl: config.postgres.databaseUrl, temporal: config.temporal, log });

  // Handlers go in only now: a signal during start-up has nothing to drain and ends the process.
  const stop = (reason: string) => {
    log.info(`${reason}: stopped polling; waiting for running tasks to finish`);
    draining();
    void running.stop();
    void bookkeeper.stop();
    send({ type: 'draining' });
  };
  const unhandledRejection = (reason: unknown) =>
    log.error({ err: reason }, 'a promise rejection nobody handled (a bug); the worker keeps serving');
  // Whatever threw left its own state unknown: take no new tasks, let the running ones finish, and
  // exit non-zero (`sluice up` starts a new worker process).
  const uncaughtException = (err: Error) => {
    log.fatal({ err }, 'an uncaught exception (a bug)');
    process.exitCode = 1;
    stop('uncaught exception');
  };
  process.on('unhandledRejection', unhandledRejection);
  process.on('uncaughtException', uncaughtException);
  // `once`: a second Ctrl-C gets Node's default and ends the process without waiting.
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (process.send) {
    if (process.connected) process.once('disconnect', () => stop('sluice up is gone'));
    else stop('sluice up is gone');
  }
  send({ type: 'ready', taskQueues, tasks });
  await running.done;
  await running.stop();
  await bookkeeper.stop();
  process.off('unhandledRejection', unhandledRejection);
  process.off('uncaughtException', uncaughtException);
  log.info('worker stopped');
}

function send(message: WorkerMessage): void {
  if (process.connected) process.send?.(message);
}

/** The run workflow sets Sluice's search attributes; a namespace without them fails every run. */
async function registerSearchAttributes(config: Config): Promise<void> {
  const { address, namespace } = config.temporal;
  let connection: Connection;
  try {
    connection = await Connection.connect({ ...temporalConnectionOptions(config.temporal), connectTimeout: '10s' });
  } catch (err) {
    throw new TemporalUnreachableError(`cannot reach Temporal at ${address} (${(err as Error).message}); is TEMPORAL_ADDRESS right?`);
  }
  try {
    await ensureSearchAttributes(connection, namespace);
  } finally {
    await connection.close();
  }
}

/** The pools `SLUICE_POOLS` declares, created if missing (a worker may be the first process of a deployment to start). */
async function declareConfiguredPools(config: Config): Promise<void> {
  if (config.pools.length === 0) return;
  const db = createKnex(config.postgres.databaseUrl, { maxConnections: 1 });
  try {
    await declarePools(db, config.pools);
  } finally {
    await db.destroy();
  }
}
