import { Client, Connection } from '@temporalio/client';
import type { Knex } from 'knex';
import { createKnex } from '../../infra/db/knex';
import type { Config } from '../../infra/config';
import { CliError, EXIT } from './errors';
import { temporalConnectionOptions } from '../../infra/temporal-connection';

/**
 * The connections one CLI command needs, opened on first use and closed when it ends, so
 * `sluice dags list` never touches a server and `sluice runs` never waits for Temporal.
 */
export class Session {
  private client?: Client;
  private connection?: Connection;
  private db?: Knex;

  constructor(readonly config: Config) {}

  async temporal(): Promise<Client> {
    if (this.client) return this.client;
    const { address, namespace } = this.config.temporal;
    try {
      this.connection = await Connection.connect({ ...temporalConnectionOptions(this.config.temporal), connectTimeout: '5s' });
    } catch (err) {
      throw new CliError(
        `cannot reach Temporal at ${address} (${(err as Error).message}); is \`sluice up\` running, or is TEMPORAL_ADDRESS right?`,
        EXIT.unreachable,
      );
    }
    this.client = new Client({ connection: this.connection, namespace });
    return this.client;
  }

  warehouse(): Knex {
    this.db ??= createKnex(this.config.postgres.databaseUrl, { maxConnections: 2 });
    return this.db;
  }

  async close(): Promise<void> {
    await this.connection?.close();
    await this.db?.destroy();
  }
}
