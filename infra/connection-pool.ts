/**
 * `ctx.conn`: the worker's named connections, each opened on first use and kept for the
 * worker's life, so tasks share pools instead of opening their own per attempt.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import type { Knex } from 'knex';
import type { ConnectionKind, Connections, HttpConnection, S3Connection } from '../dags/sdk/connections';
import type { Config } from './config';
import type { ConnectionEntry, ConnectionSpec } from './connections';
import { createKnex } from './db/knex';
import { createHttpConnection } from './http-connection';
import { createS3Client } from './s3';

/** The clients the worker already holds; the built-ins and plain `s3://bucket` connections reuse them. */
export interface SharedClients {
  warehouse: Knex;
  source: Knex;
  lake: S3Client;
}

interface Opened {
  pg: Knex;
  s3: S3Connection;
  http: HttpConnection;
}
type SpecOf<K extends ConnectionKind> = Extract<ConnectionSpec, { kind: K }>;

export class ConnectionPool implements Connections {
  private readonly byName: ReadonlyMap<string, ConnectionEntry>;
  private readonly opened = new Map<string, Opened[ConnectionKind]>();
  private readonly closers: Array<() => Promise<void> | void> = [];

  constructor(
    readonly entries: readonly ConnectionEntry[],
    private readonly shared: SharedClients,
    private readonly lake: Config['s3'],
  ) {
    this.byName = new Map(entries.map((e) => [e.name, e]));
    this.opened.set('warehouse', shared.warehouse);
    this.opened.set('source', shared.source);
    this.opened.set('lake', { client: shared.lake, bucket: lake.bucket, prefix: '' });
  }

  pg(name: string): Knex {
    return this.open(name, 'pg', (spec) => {
      const db = createKnex(spec.url, { maxConnections: 5 });
      this.closers.push(() => db.destroy());
      return db;
    });
  }

  s3(name: string): S3Connection {
    return this.open(name, 's3', (spec) => {
      const { bucket, prefix, endpoint, region, credentials } = spec;
      if (!endpoint && !region && !credentials) return { client: this.shared.lake, bucket, prefix };
      const client = createS3Client({
        s3: {
          ...this.lake,
          // A connection with its own endpoint is an S3-compatible server, whatever the lake is.
          ...(endpoint ? { mode: 'compatible' as const, endpoint, forcePathStyle: true } : {}),
          region: region ?? this.lake.region,
          accessKeyId: credentials?.accessKeyId ?? this.lake.accessKeyId,
          secretAccessKey: credentials?.secretAccessKey ?? this.lake.secretAccessKey,
        },
      });
      this.closers.push(() => client.destroy());
      return { client, bucket, prefix };
    });
  }

  http(name: string): HttpConnection {
    return this.open(name, 'http', (spec) => createHttpConnection(name, spec));
  }

  /** The entry named `name`, or an error listing every connection. */
  entry(name: string): ConnectionEntry {
    const entry = this.byName.get(name);
    if (entry) return entry;
    const all = [...this.byName.values()].map((e) => `${e.name} (${e.spec.kind})`).sort();
    throw ApplicationFailure.nonRetryable(`unknown connection '${name}'; connections: ${all.join(', ')}`, 'UnknownConnection');
  }

  /** Closes what this pool opened; the shared clients are closed by their owner. */
  async close(): Promise<void> {
    const closers = this.closers.splice(0);
    this.opened.clear();
    await Promise.all(closers.map((close) => close()));
  }

  private open<K extends ConnectionKind>(name: string, kind: K, create: (spec: SpecOf<K>) => Opened[K]): Opened[K] {
    const entry = this.entry(name);
    if (entry.spec.kind !== kind) {
      const ofKind = [...this.byName.values()].filter((e) => e.spec.kind === kind).map((e) => e.name).sort();
      throw ApplicationFailure.nonRetryable(
        `connection '${name}' is ${entry.spec.kind}, not ${kind}; ${kind} connections: ${ofKind.join(', ') || 'none'}`,
        'WrongConnectionKind',
      );
    }
    const existing = this.opened.get(name);
    if (existing) return existing as Opened[K];
    const opened = create(entry.spec as SpecOf<K>);
    this.opened.set(name, opened);
    return opened;
  }
}
