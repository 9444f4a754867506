/**
 * Runs a real Sluice worker against the test stack for one test file: real Temporal, Postgres and
 * S3, each test file on its own task queue so files never steal each other's tasks. The workflow
 * bundle is built once per test run by the runner (SLUICE_WORKFLOW_BUNDLE) instead of per file.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import pino from 'pino';
import type { Resources } from '../../activities/resources';
import type { AnyTaskDef } from '../../dags/sdk/task-def';
import { createWorker } from '../../workers/create-worker';
import { closeResources, openResources } from '../../workers/resources';
import { installRuntime } from '../../workers/runtime';
import { testConfig } from './env';

export interface TestWorker {
  client: Client;
  resources: Resources;
  taskQueue: string;
  worker: Worker;
  /** Whether an object exists in the lake: how tests see what tasks and callbacks wrote. */
  objectExists(key: string): Promise<boolean>;
  stop(): Promise<void>;
}

export async function startTestWorker(tasks: readonly AnyTaskDef[], taskQueue: string): Promise<TestWorker> {
  const config = testConfig();
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  installRuntime(logger);
  const resources = openResources(config);
  const nativeConnection = await NativeConnection.connect({ address: config.temporal.address });
  const connection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const bundlePath = process.env.SLUICE_WORKFLOW_BUNDLE;
  const worker = await createWorker({
    connection: nativeConnection,
    namespace: config.temporal.namespace,
    taskQueue,
    resources,
    tasks,
    logger,
    gateCheckIntervalMs: config.worker.gateCheckIntervalMs,
    ...(bundlePath ? { workflowBundle: { codePath: bundlePath } } : {}),
  });
  const running = worker.run();
  return {
    client,
    resources,
    taskQueue,
    worker,
    objectExists: (key) =>
      resources.s3.send(new HeadObjectCommand({ Bucket: resources.bucket, Key: key })).then(
        () => true,
        () => false,
      ),
    async stop() {
      worker.shutdown();
      await running;
      await nativeConnection.close();
      await connection.close();
      await closeResources(resources);
    },
  };
}
