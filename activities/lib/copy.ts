/**
 * Streaming bulk I/O with Postgres: `COPY ... TO STDOUT` and `COPY ... FROM STDIN` through
 * pg-copy-streams, in Postgres's text format. This is the fastest way rows move in and out of
 * Postgres from Node (see BENCHMARKS.md): no per-row round trip, no whole table in memory.
 */
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
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
 * `COPY (<sql>) TO STDOUT`: the query's rows as a byte stream in COPY text format (one row per
 * line, tab-separated, `\N` for null). Parse with {@link copyRows}, or pipe the bytes straight into
 * {@link copyIn} on another database. The pooled connection is held until the stream ends; a
 * stream closed early takes its connection with it (it is still mid-COPY, unfit for reuse).
 */
export async function copyOut(db: Knex, sql: SqlSource): Promise<Readable> {
  const client = (await db.client.acquireConnection()) as PoolClient & { __knex__disposed?: string };
  const stream = client.query(copyTo(`COPY (${sqlText(sql)}) TO STDOUT`));
  let released = false;
  const release = (finished: boolean) => {
    if (released) return;
    released = true;
    if (!finished) {
      client.__knex__disposed = 'COPY TO STDOUT abandoned';
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
 * `COPY <table> (<columns>) FROM STDIN` from COPY-text bytes or lines (see {@link copyTextLine}).
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
    const sink = client.query(copyFrom(`COPY ${target} FROM STDIN`));
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

// Backslash, newline, carriage return and tab are the characters COPY text format escapes.
const TEXT_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const NEEDS_ESCAPE = /[\\\n\r\t]/g;

/** One row in COPY text format, newline included; `null` and `undefined` become `\N`. */
export function copyTextLine(values: readonly unknown[]): string {
  let line = '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += '\t';
    line += copyTextValue(values[i]);
  }
  return `${line}\n`;
}

function copyTextValue(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value).replace(NEEDS_ESCAPE, (c) => TEXT_ESCAPES[c] ?? c);
  const text = String(value);
  return NEEDS_ESCAPE.test(text) ? text.replace(NEEDS_ESCAPE, (c) => TEXT_ESCAPES[c] ?? c) : text;
}

const UNESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', f: '\f', v: '\v', '\\': '\\' };

/** Decodes one field of COPY text output. */
function copyTextField(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(.)/g, (_m, c: string) => UNESCAPES[c] ?? c);
}

/** A COPY-text byte stream as rows of strings (null for SQL NULL), in batches to keep per-row overhead low. */
export function copyRows(bytes: Readable): AsyncIterable<(string | null)[][]> {
  return bytes.pipe(new CopyTextParser());
}

class CopyTextParser extends Transform {
  private rest = '';
  // A chunk can end inside a multi-byte character; the decoder carries it over to the next one.
  private readonly decoder = new StringDecoder('utf8');

  constructor() {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const text = this.rest + this.decoder.write(chunk);
    const last = text.lastIndexOf('\n');
    if (last < 0) {
      this.rest = text;
      return done();
    }
    this.rest = text.slice(last + 1);
    const batch = text.slice(0, last).split('\n').map((line) => line.split('\t').map(copyTextField));
    done(null, batch);
  }

  override _flush(done: TransformCallback): void {
    this.rest += this.decoder.end();
    if (this.rest.length > 0) this.push([this.rest.split('\t').map(copyTextField)]);
    done();
  }
}
