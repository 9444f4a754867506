/**
 * What tasks get as `ctx.conn` and `ctx.vars`: named connections and variables, Airflow-style.
 * Types only; the worker builds them from `SLUICE_CONN_<NAME>` / `SLUICE_VAR_<NAME>` and the
 * secrets file (see README, "Connections and variables").
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { Knex } from 'knex';

/** The kind of a connection, from its URI scheme: postgres(ql)://, s3://, http(s)://. */
export type ConnectionKind = 'pg' | 's3' | 'http';

/** An S3 location: a client, its bucket, and a key prefix ('' or ending in '/') to put before keys. */
export interface S3Connection {
  client: S3Client;
  bucket: string;
  prefix: string;
}

/** An HTTP API: its base URL, and `fetch` for paths under it (Basic auth from the URI added). */
export interface HttpConnection {
  /** The connection's URL without credentials, e.g. `https://api.example.com/v1`. */
  readonly baseUrl: string;
  /**
   * Fetches `path` relative to the base URL (`fetch('orders?since=2026-11-21')`). An absolute
   * URL is refused, so the connection's credentials never go to another host.
   */
  fetch(path: string, init?: RequestInit): Promise<Response>;
}

/**
 * Named connections, opened once per worker on first use. `warehouse` and `source` (pg) and
 * `lake` (s3) always exist. An unknown name or the wrong kind throws an error listing what exists.
 */
export interface Connections {
  /** A knex instance on a Postgres connection, e.g. `ctx.conn.pg('crm')`. */
  pg(name: string): Knex;
  /** A client, bucket and prefix for an S3 connection, e.g. `ctx.conn.s3('raw')`. */
  s3(name: string): S3Connection;
  /** A small client for an HTTP connection, e.g. `ctx.conn.http('api').fetch('orders')`. */
  http(name: string): HttpConnection;
}

/** Variables: plain settings (not secrets) from `SLUICE_VAR_<NAME>` or the secrets file. */
export interface Variables {
  /** The variable's value; without a fallback, a missing variable throws an error naming it. */
  get(name: string, fallback?: string): string;
  /** The variable parsed as JSON; throws when it is missing (and no fallback is given) or not JSON. */
  json<T = unknown>(name: string, fallback?: T): T;
}
