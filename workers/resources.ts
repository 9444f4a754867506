import type { Resources } from '../activities/resources';
import type { Config } from '../infra/config';
import { createKnex } from '../infra/db/knex';
import { createS3Client } from '../infra/s3';

/** Opens the pools and clients tasks use; one set per worker process, closed with `closeResources`. */
export function openResources(config: Config): Resources {
  return {
    warehouse: createKnex(config.postgres.databaseUrl, { maxConnections: 10 }),
    source: createKnex(config.postgres.sourceDatabaseUrl, { maxConnections: 5 }),
    s3: createS3Client(config),
    bucket: config.s3.bucket,
  };
}

export async function closeResources(resources: Resources): Promise<void> {
  await resources.warehouse.destroy();
  await resources.source.destroy();
  resources.s3.destroy();
}
