/**
 * Streaming bulk I/O with Postgres: `COPY ... TO STDOUT` and `COPY ... FROM STDIN` through
 * pg-copy-streams. This is the fastest way rows move in and out of Postgres from Node (see
 * BENCHMARKS.md): no per-row round trip, no whole table in memory. One dialect throughout: CSV
 * as Postgres writes it (no header; an unquoted empty field is NULL, `""` an empty string), which
 * `writeParquetParts` reads too, so bytes from one flow into the other untouched.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Knex } from 'knex';
import type { PoolClient } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

/** SQL text, or a knex query/raw whose bindings knex inlines with its own escaping (COPY takes no parameters). */
export type SqlSource = string | Knex.Raw | Knex.QueryBuilder;

function sqlText(sql: SqlSource): string {
  return typeof sql === 'string' ? sql : sql.toQuery();
}

/**
 * A raw pg connection from knex's pool. Inside a knex transaction this is the transaction's own
 * connection, so a COPY joins the transaction (and its rollback).
 */
async function withConnection<T>(db: Knex, use: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = (await db.client.acquireConnection()) as PoolClient;
  try {
    return await use(client);
  } finally {
    await db.client.releaseConnection(client);
  }
}

/**
 * `COPY (<sql>) TO STDOUT`: the query's rows as a CSV byte stream. Pipe it into {@link copyIn}
 * on another database, or into `writeParquetParts`. The pooled connection is held until the
 * stream ends. A stream closed early (its task failed) cancels the query, which Postgres would
 * otherwise run on until its next write, and takes the connection with it: it is mid-COPY, unfit
 * for reuse.
 */
export async function copyOut(db: Knex, sql: SqlSource): Promise<Readable> {
  const client = (await db.client.acquireConnection()) as PoolClient & { __knex__disposed?: string };
  const stream = client.query(copyTo(`COPY (${sqlText(sql)}) TO STDOUT WITH (FORMAT csv)`));
  let released = false;
  const release = (finished: boolean) => {
    if (released) return;
    released = true;
    if (!finished) {
      client.__knex__disposed = 'COPY TO STDOUT abandoned';
      const backend = (client as PoolClient & { processID?: number }).processID;
      if (backend !== undefined) void db.raw('select pg_cancel_backend(?)', [backend]).catch(() => undefined);
      void client.end().catch(() => undefined);
    }
    void db.client.releaseConnection(client);
  };
  stream.once('end', () => release(true));
  stream.once('error', () => release(false));
  stream.once('close', () => release(stream.readableEnded));
  return stream;
}

/**
 * `COPY <table> (<columns>) FROM STDIN` from CSV bytes or lines (see {@link csvLine}).
 * Pass a knex transaction to make the load part of it. Returns the number of rows Postgres stored.
 */
export async function copyIn(
  db: Knex,
  table: string,
  columns: readonly string[],
  rows: Readable | AsyncIterable<string | Buffer>,
): Promise<number> {
  const target = `${quoteQualified(table)} (${columns.map(quoteIdent).join(', ')})`;
  return withConnection(db, async (client) => {
    const sink = client.query(copyFrom(`COPY ${target} FROM STDIN WITH (FORMAT csv)`));
    await pipeline(rows instanceof Readable ? rows : Readable.from(rows), sink);
    return sink.rowCount;
  });
}

/** `"schema"."table"` from `schema.table`; names are quoted, so any identifier is safe. */
export function quoteQualified(name: string): string {
  return name.split('.').map(quoteIdent).join('.');
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

// Quotes, separators, line breaks, edge spaces, and a lone `\.` (Postgres's end-of-data marker).
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$|^\\\.$/;

/** One row as a CSV line in the COPY dialect, newline included: `null`/`undefined` become NULL. */
export function csvLine(values: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += ',';
    line += csvField(values[i]);
  }
  return `${line}\n`;
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = value instanceof Date ? value.toISOString() : typeof value === 'object' ? JSON.stringify(value) : String(value);
  // An empty string must be quoted, or it would read back as NULL.
  return text === '' || NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
