import { bundleWorkflowCode, NativeConnection, type Worker } from '@temporalio/worker';
import type { Config } from '../infra/config';
import type { Logger } from '../infra/logger';
import { taskQueuesOf, type LoadedDags } from '../server/dag-registry';
import { backfillQueue } from '../workflows/backfill';
import { createWorker } from './create-worker';
import { closeResources, openResources } from './resources';
import { installRuntimeLogger } from './runtime-logger';

export interface RunningWorkers {
  workers: Worker[];
  /** Resolves when every worker has stopped. */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** Activity slots of a backfill worker: enough to make progress, few enough to leave room. */
const BACKFILL_ACTIVITY_SLOTS = 8;

/**
 * Starts two workers per task queue (the DAGs' queues, `sluice` by default), each registering the
 * whole task catalog: one for live runs and one, with fewer slots, for the `-backfill` queue, so
 * a large backfill can never take the slots scheduled runs need. They share the resources
 * (connection pools, S3 client).
 */
export async function startWorkers(config: Config, dags: LoadedDags, logger: Logger): Promise<RunningWorkers> {
  const taskQueues = taskQueuesOf(dags.dags);
  installRuntimeLogger(logger);
  const resources = openResources(config);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  // One bundle for all workers: bundling takes seconds and every worker runs the same code.
  const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietBundler(logger) });
  const common = { connection, namespace: config.temporal.namespace, resources, tasks: dags.tasks, logger, workflowBundle };
  const workers = await Promise.all(
    [...new Set(taskQueues)].flatMap((taskQueue) => [
      createWorker({ ...common, taskQueue }),
      createWorker({ ...common, taskQueue: backfillQueue(taskQueue), maxConcurrentActivities: BACKFILL_ACTIVITY_SLOTS }),
    ]),
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
        await closeResources(resources);
      })()),
  };
}

/** webpack's per-module report is noise in a terminal; its warnings and errors still show. */
function quietBundler(logger: Logger) {
  const ignore = () => undefined;
  return {
    log: ignore,
    trace: ignore,
    debug: ignore,
    info: ignore,
    warn: (message: string, meta?: object) => logger.warn(meta ?? {}, message),
    error: (message: string, meta?: object) => logger.error(meta ?? {}, message),
  };
}
