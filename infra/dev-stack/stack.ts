/**
 * Brings up everything Sluice needs: each server is started locally when the config says it is
 * embedded and only prepared (search attributes, bucket) when it is external. Embedded servers
 * are supervised: one that dies is restarted (supervise.ts) until the stack is stopped.
 */
import { Connection } from '@temporalio/client';
import type { Config } from '../config';
import { createLogger, type Logger } from '../logger';
import { createS3Client, ensureBucket } from '../s3';
import { startPostgres } from './postgres';
import { reapOrphans } from './process';
import { startS3Server } from './s3-server';
import { superviseServer } from './supervise';
import { ensureSearchAttributes, startTemporalServer } from './temporal-server';
import { temporalConnectionOptions } from '../temporal-connection';

export interface StackOptions {
  /** Start the Temporal dev server without its Web UI. */
  headless?: boolean;
  /** False for throw-away data (test runs): Postgres skips fsync. Default true. */
  durable?: boolean;
  log?: Logger;
}

export interface Stack {
  temporalAddress: string;
  /** The embedded dev server's Web UI; undefined when headless or external. */
  temporalUiUrl: string | undefined;
  databaseUrl: string;
  sourceDatabaseUrl: string;
  s3Endpoint: string;
  /** Stops the embedded servers and their supervision. Stop whatever uses them (workers) first. */
  stop(): Promise<void>;
}

interface Running {
  stop(): Promise<void>;
}

const nothingToStop: Running = { stop: async () => undefined };

/**
 * Starts the servers in parallel and resolves when all are ready. Ports come from the config, so
 * a test run picks free ones by setting TEMPORAL_PORT, SLUICE_PG_PORT and SLUICE_S3_PORT. If one
 * server fails, the others are stopped and the error lists every failure.
 */
export async function startStack(config: Config, options: StackOptions = {}): Promise<Stack> {
  const log = options.log ?? createLogger('stack');
  const started = Date.now();
  // Servers left running by a previous owner that was SIGKILLed still hold our ports and files.
  const orphans = await reapOrphans(config.home);
  if (orphans.length > 0) log.warn({ servers: orphans }, 'stopped servers left running by a killed Sluice process');
  const timed = async <T>(server: string, embedded: boolean, bringUp: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const result = await bringUp();
    log.info({ server, embedded, ms: Date.now() - t0 }, `${server} ready`);
    return result;
  };

  const results = await Promise.allSettled([
    timed('temporal', config.temporal.embedded, () => bringUpTemporal(config, options.headless ?? false, log)),
    timed('postgres', config.postgres.embedded, () => bringUpPostgres(config, options.durable ?? true, log)),
    timed('s3', config.s3.embedded, () => bringUpS3(config, log)),
  ]);
  const [temporal, postgres, s3] = results;
  const stopAll = () =>
    Promise.all(results.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined))).then(() => undefined);

  if (temporal.status === 'rejected' || postgres.status === 'rejected' || s3.status === 'rejected') {
    await stopAll();
    const failures = (['temporal', 'postgres', 's3'] as const).flatMap((name, i) => {
      const r = results[i];
      return r?.status === 'rejected' ? [`- ${name}: ${(r.reason as Error).message ?? String(r.reason)}`] : [];
    });
    throw new Error(`Could not start the Sluice stack:\n${failures.join('\n')}`);
  }
  log.info({ ms: Date.now() - started }, 'stack ready');

  let stopping: Promise<void> | undefined;
  return {
    temporalAddress: config.temporal.address,
    temporalUiUrl: temporal.value.uiUrl,
    databaseUrl: config.postgres.databaseUrl,
    sourceDatabaseUrl: config.postgres.sourceDatabaseUrl,
    s3Endpoint: config.s3.endpoint,
    stop: () => (stopping ??= stopAll()),
  };
}

async function bringUpTemporal(
  config: Config,
  headless: boolean,
  log: Logger,
): Promise<Running & { uiUrl: string | undefined }> {
  if (config.temporal.embedded) {
    const server = await superviseServer('temporal', (signal) => startTemporalServer(config, { headless, log, signal }), log);
    return { uiUrl: headless ? undefined : `http://127.0.0.1:${config.temporal.uiPort}`, stop: server.stop };
  }
  const connection = await Connection.connect({ ...temporalConnectionOptions(config.temporal), connectTimeout: 10_000 });
  try {
    await ensureSearchAttributes(connection, config.temporal.namespace);
  } finally {
    await connection.close();
  }
  return { ...nothingToStop, uiUrl: undefined };
}

async function bringUpPostgres(config: Config, durable: boolean, log: Logger): Promise<Running> {
  // Databases on an external server are its operator's to create; migrations report if missing.
  if (!config.postgres.embedded) return nothingToStop;
  return superviseServer('postgres', (signal) => startPostgres(config, { durable, log, signal }), log);
}

async function bringUpS3(config: Config, log: Logger): Promise<Running> {
  const server = config.s3.embedded
    ? await superviseServer('s3', (signal) => startS3Server(config, { log, signal }), log)
    : nothingToStop;
  const s3 = createS3Client(config);
  try {
    await ensureBucket(s3, config.s3.bucket);
  } catch (err) {
    await server.stop();
    throw err;
  } finally {
    s3.destroy();
  }
  return server;
}
