import { NativeConnection, type Worker } from '@temporalio/worker';
import type { AnyTaskDef } from '../dags/sdk/task-def';
import type { Config } from '../infra/config';
import type { Logger } from '../infra/logger';
import { taskQueuesOf, type LoadedDag } from '../server/dag-registry';
import { backfillQueue } from '../workflows/backfill';
import type { DagSpec } from '../workflows/spec';
import { findFreePorts } from '../infra/dev-stack/ports';
import { bundleWorkflows } from './bundle';
import { createWorker } from './create-worker';
import { closeResources, openResources } from './resources';
import { installRuntime } from './runtime';
import { temporalConnectionOptions } from '../infra/temporal-connection';

export interface WorkerPlan {
  /** The task definitions to register, on every queue. */
  tasks: readonly AnyTaskDef[];
  /** The DAG specs loaded with the tasks: asset-scheduled DAGs among them are started by asset updates. */
  dags?: readonly DagSpec[];
  /** One worker per queue; `-backfill` queues get fewer activity slots. */
  taskQueues: readonly string[];
  /** Most activities running at once on each worker (the SDK default is 100). */
  maxConcurrentActivities?: number;
  /** A workflow bundle built beforehand (`writeWorkflowBundle`); without it, bundled here. */
  workflowBundlePath?: string;
}

export interface RunningWorkers {
  workers: Worker[];
  /** host:port of the Temporal SDK's Prometheus exporter; undefined when it exports none. */
  sdkMetricsAddress: string | undefined;
  /** Resolves when every worker has stopped. */
  done: Promise<void>;
  /**
   * Stops polling before it returns its promise, which resolves once the tasks already running
   * have finished and the connections are closed.
   */
  stop(): Promise<void>;
}

/** Activity slots of a backfill worker: enough to make progress, few enough to leave room. */
const BACKFILL_ACTIVITY_SLOTS = 8;

/**
 * The queues a worker serves unless told otherwise: each DAG's queue (and any task's own), the
 * default `sluice`, and for each its `-backfill` queue, so a large backfill can never take the
 * slots scheduled runs need.
 */
export function defaultTaskQueues(dags: readonly LoadedDag[]): string[] {
  return taskQueuesOf(dags).flatMap((queue) => [queue, backfillQueue(queue)]);
}

/**
 * Starts one worker per task queue, each registering every task of the plan. They share one
 * connection, one workflow bundle and the task resources (connection pools, S3 client).
 */
export async function startWorkers(config: Config, plan: WorkerPlan, logger: Logger): Promise<RunningWorkers> {
  // With SLUICE_WORKER_HTTP alone, the SDK exports on a loopback port of its own and the health
  // server's /metrics relays it.
  const sdkMetricsAddress = installRuntime(logger, {
    metricsAddress: config.worker.metricsAddress ?? (config.worker.httpAddress ? `127.0.0.1:${String((await findFreePorts(1))[0])}` : undefined),
  });
  const workflowBundle = plan.workflowBundlePath ? { codePath: plan.workflowBundlePath } : { code: await bundleWorkflows(logger) };
  const resources = openResources(config);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const common = { connection, namespace: config.temporal.namespace, resources, tasks: plan.tasks, dags: plan.dags, logger, workflowBundle,
    // How long a stopping worker lets running tasks finish before it asks them to cancel
    // (SLUICE_WORKER_SHUTDOWN_GRACE; by default the default task execution timeout, so a deploy
    // or a reload never fails a task that would end).
    shutdownGraceTime: config.worker.shutdownGraceSeconds * 1000 };
  const cap = plan.maxConcurrentActivities;
  const workers = await Promise.all(
    [...new Set(plan.taskQueues)].map((taskQueue) =>
      createWorker({
        ...common,
        taskQueue,
        gateCheckIntervalMs: config.worker.gateCheckIntervalMs,
        // Named by `backfillQueue()`: the `backfill` workflow runs its dates there.
        maxConcurrentActivities: taskQueue.endsWith(backfillQueue('')) ? Math.min(cap ?? BACKFILL_ACTIVITY_SLOTS, BACKFILL_ACTIVITY_SLOTS) : cap,
      }),
    ),
  ).catch(async (err: unknown) => {
    await connection.close();
    await closeResources(resources);
    throw err;
  });
  const done = Promise.all(workers.map((w) => w.run())).then(() => undefined);
  let stopping: Promise<void> | undefined;
  return {
    workers,
    sdkMetricsAddress,
    done,
    stop: () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      return (stopping ??= (async () => {
        await done;
        await connection.close();
        await closeResources(resources);
      })());
    },
  };
}
