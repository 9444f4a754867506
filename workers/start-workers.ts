import { NativeConnection, type Worker } from '@temporalio/worker';
import knex from 'knex';
import { taskCatalog } from '../activities';
import type { Resources } from '../activities/resources';
import type { Config } from '../infra/config';
import { createS3Client } from '../infra/s3';
import type { Logger } from '../infra/logger';
import { createWorker } from './create-worker';
import { installRuntimeLogger } from './runtime-logger';

export interface RunningWorkers {
  workers: Worker[];
  /** Resolves when every worker has stopped. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts one worker per task queue (the DAGs' queues, `sluice` by default), each registering the
 * whole task catalog, and the shared resources (connection pools, S3 client) they use.
 */
export async function startWorkers(config: Config, taskQueues: readonly string[], logger: Logger): Promise<RunningWorkers> {
  installRuntimeLogger(logger);
  const resources: Resources = {
    warehouse: knex({ client: 'pg', connection: config.postgres.databaseUrl, pool: { min: 0, max: 10 } }),
    source: knex({ client: 'pg', connection: config.postgres.sourceDatabaseUrl, pool: { min: 0, max: 5 } }),
    s3: createS3Client(config),
    bucket: config.s3.bucket,
  };
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const workers = await Promise.all(
    [...new Set(taskQueues)].map((taskQueue) =>
      createWorker({ connection, namespace: config.temporal.namespace, taskQueue, resources, tasks: taskCatalog, logger }),
    ),
  );
  const done = Promise.all(workers.map((w) => w.run())).then(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    workers,
    done,
    stop: () =>
      (stopping ??= (async () => {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await done;
        await connection.close();
        await resources.warehouse.destroy();
        await resources.source.destroy();
        resources.s3.destroy();
      })()),
  };
}
