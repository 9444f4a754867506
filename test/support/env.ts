/**
 * The test stack as tests see it: `npm test` (test/support/run-tests.ts) starts the servers and
 * passes their URLs in the environment, so to tests every server is external.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { loadConfig, type Config } from '../../infra/config';
import { createS3Client } from '../../infra/s3';

/** The config of the test stack the runner started (its URLs are in this process's env). */
export function testConfig(): Config {
  return loadConfig(process.env);
}

/** A pool on the warehouse (default) or source database; `end()` it when done. */
export function testPgPool(database: 'warehouse' | 'source' = 'warehouse'): pg.Pool {
  const { databaseUrl, sourceDatabaseUrl } = testConfig().postgres;
  return new pg.Pool({ connectionString: database === 'warehouse' ? databaseUrl : sourceDatabaseUrl, max: 4 });
}

/** An S3 client for the test bucket (`testConfig().s3.bucket`); `destroy()` it when done. */
export function testS3Client(): S3Client {
  return createS3Client(testConfig());
}

/**
 * A Temporal client on the test namespace, and its connection (for operatorService calls);
 * `connection.close()` when done.
 */
export async function testTemporal(): Promise<{ client: Client; connection: Connection }> {
  const { address, namespace } = testConfig().temporal;
  const connection = await Connection.connect({ address });
  return { client: new Client({ connection, namespace }), connection };
}
