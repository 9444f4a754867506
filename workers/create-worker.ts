/**
 * Wires one Temporal worker: the `dagRun` interpreter, its system activities and one activity
 * per task definition in the catalog. Everything it needs arrives as arguments so the CLI,
 * the tests and production entry points build it the same way.
 */
import type { Duration } from '@temporalio/common';
import { NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createOutputStore } from '../activities/runtime/outputs';
import { taskActivity, type TaskActivity } from '../activities/runtime/task-activity';
import type { AnyTaskDef } from '../dags/sdk/task-def';
import type { Resources } from '../activities/resources';
import { createAssetActivities } from '../activities/assets';
import { createBackfillActivities } from '../activities/backfill';
import { createDeadlineActivities } from '../activities/deadline';
import { createDependsOnPastActivities } from '../activities/depends-on-past';
import { createMapOutputActivities } from '../activities/map-outputs';
import { createPoolActivities } from '../activities/pools';
import { createRunSlotActivities } from '../activities/run-slots';
import { createSystemActivities } from '../activities/system';
import type { DagSpec } from '../workflows/spec';
import { attemptJournal } from './resources';

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  resources: Resources;
  tasks: readonly AnyTaskDef[];
  /** The DAG specs this worker knows: the DAGs scheduled on assets among them are started when their assets are updated. */
  dags?: readonly DagSpec[];
  logger: Logger;
  /** A pre-built bundle (tests share one); without it the worker bundles `workflows/`. */
  workflowBundle?: WorkflowBundleOption;
  /** Most task activities running at once on this worker (the SDK default is 100). */
  maxConcurrentActivities?: number;
  /** How long running tasks may go on after `shutdown()` before they are asked to cancel (default 0). */
  shutdownGraceTime?: Duration;
  /** How often the maxActiveRuns and pool gates this worker starts check their holders (config `worker.gateCheckIntervalMs`). */
  gateCheckIntervalMs?: number;
}

export async function createWorker(options: WorkerOptions): Promise<Worker> {
  const { resources, logger } = options;
  const outputs = createOutputStore(resources.s3, resources.bucket);
  const journal = attemptJournal(resources, logger);
  const activities: Record<string, TaskActivity | ((...args: never[]) => unknown)> = {
    ...createSystemActivities({ db: resources.warehouse, outputs }),
    ...createBackfillActivities({ db: resources.warehouse }),
    ...createRunSlotActivities({ gateCheckIntervalMs: options.gateCheckIntervalMs }),
    ...createDependsOnPastActivities({ db: resources.warehouse }),
    ...createDeadlineActivities(),
    ...createPoolActivities({ db: resources.warehouse, gateCheckIntervalMs: options.gateCheckIntervalMs }),
    ...createAssetActivities({ db: resources.warehouse, dags: options.dags ?? [] }),
    ...createMapOutputActivities({ outputs }),
  };
  for (const task of options.tasks) {
    if (task.name in activities) throw new Error(`two activities are named '${task.name}'; task names must be unique`);
    activities[task.name] = taskActivity(task, { journal, outputs, logger, resources });
  }
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities,
    ...(options.maxConcurrentActivities ? { maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities } : {}),
    ...(options.shutdownGraceTime ? { shutdownGraceTime: options.shutdownGraceTime } : {}),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
  });
}
