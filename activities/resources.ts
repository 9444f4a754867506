import type { S3Client } from '@aws-sdk/client-s3';
import type { Knex } from 'knex';
import type { Variables } from '../dags/sdk/connections';
import type { ConnectionPool } from '../infra/connection-pool';

/**
 * The connections a task uses, created once per worker and handed to every task through its
 * context (`ctx.resources`, `ctx.conn`, `ctx.vars`), so task code never opens its own pools and
 * tests can pass real clients pointed at the test stack.
 */
export interface Resources {
  /** The warehouse database (`DATABASE_URL`): schemas warehouse, gold, features, ops, sluice. */
  warehouse: Knex;
  /** The source OLTP database (`SOURCE_DATABASE_URL`), read-only by convention. */
  source: Knex;
  /** The data lake. */
  s3: S3Client;
  bucket: string;
  /** Named connections (the built-ins above, `SLUICE_CONN_<NAME>`, the secrets file), opened on first use. */
  connections: ConnectionPool;
  /** Variables (`SLUICE_VAR_<NAME>`, the secrets file). */
  variables: Variables;
}
