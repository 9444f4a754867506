/**
 * Production entry point: one worker process for the configured servers (no embedded stack).
 * `sluice up` runs the same workers in-process for local use.
 */
import { Connection } from '@temporalio/client';
import { loadConfig } from '../infra/config';
import { ensureSearchAttributes } from '../infra/dev-stack/temporal-server';
import { createLogger } from '../infra/logger';
import { loadDags, taskQueuesOf } from '../server/dag-registry';
import { startWorkers } from './start-workers';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger('worker');
  const loaded = loadDags();
  for (const error of loaded.errors) log.error(error);
  const connection = await Connection.connect({ address: config.temporal.address });
  await ensureSearchAttributes(connection, config.temporal.namespace);
  await connection.close();
  const running = await startWorkers(config, loaded, log);
  log.info({ taskQueues: taskQueuesOf(loaded.dags), tasks: loaded.tasks.map((t) => t.name) }, 'worker running');
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void running.stop());
  await running.done;
}

main().catch((err) => {
  createLogger('worker').fatal({ err }, 'worker failed');
  process.exit(1);
});
