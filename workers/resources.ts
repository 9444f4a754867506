import os from 'node:os';
import type { Logger } from 'pino';
import type { Resources } from '../activities/resources';
import { writeAttempts } from '../activities/runtime/attempt-history';
import { AttemptJournal } from '../activities/runtime/attempt-journal';
import type { Config } from '../infra/config';
import { ConnectionPool } from '../infra/connection-pool';
import { loadConnections } from '../infra/connections';
import { createKnex } from '../infra/db/knex';
import { createS3Client } from '../infra/s3';
import { createVariables } from '../infra/variables';

/**
 * Opens the pools and clients tasks use; one set per worker process, closed with
 * `closeResources`. Named connections and variables are read from `env` and the secrets file
 * here, so a bad one stops the worker at start, naming the variable.
 */
export function openResources(config: Config, env: NodeJS.ProcessEnv = process.env): Resources {
  const { connections, variables, file } = loadConnections(config, env);
  const warehouse = createKnex(config.postgres.databaseUrl, { maxConnections: config.postgres.poolMax });
  const source = createKnex(config.postgres.sourceDatabaseUrl, { maxConnections: config.postgres.sourcePoolMax });
  const s3 = createS3Client(config);
  return {
    warehouse,
    source,
    s3,
    bucket: config.s3.bucket,
    connections: new ConnectionPool(connections, { warehouse, source, lake: s3 }, config.s3),
    variables: createVariables(variables, file.path),
  };
}

/** How long a stopping worker keeps trying to write the attempt records it still holds. */
const JOURNAL_FLUSH_DEADLINE_MS = 10_000;

const journals = new WeakMap<Resources, AttemptJournal>();

/**
 * The attempt journal of the workers that share `resources` (one per worker process): it writes
 * to their warehouse, and `closeResources` flushes it before closing the pool.
 */
export function attemptJournal(resources: Resources, logger: Logger): AttemptJournal {
  let journal = journals.get(resources);
  if (!journal) {
    const worker = `${os.hostname()}:${process.pid}`;
    journal = new AttemptJournal({ write: (records) => writeAttempts(resources.warehouse, worker, records), logger });
    journals.set(resources, journal);
  }
  return journal;
}

export async function closeResources(resources: Resources): Promise<void> {
  await journals.get(resources)?.close(JOURNAL_FLUSH_DEADLINE_MS);
  await resources.connections.close();
  await resources.warehouse.destroy();
  await resources.source.destroy();
  resources.s3.destroy();
}
