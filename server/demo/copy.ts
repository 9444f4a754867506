/**
 * Streams rows into Postgres with COPY FROM STDIN, inside a transaction that may first delete the
 * rows being replaced: a million rows a second, where INSERTs manage a few tens of thousands.
 */
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Knex } from 'knex';
import type pg from 'pg';
import { from as copyFrom, type CopyStreamQuery } from 'pg-copy-streams';

export interface Statement {
  sql: string;
  params?: unknown[];
}

export interface CopyTarget {
  /** e.g. `orders (order_id, ...)` */
  into: string;
  /** Run in the transaction before the COPY (delete what is replaced, create a temp table). */
  before?: Statement[];
  /** Run in the transaction after the COPY (apply a temp table). */
  after?: Statement[];
}

/** Lines are gathered into chunks of this size: one stream write per chunk, not per row. */
const CHUNK_CHARS = 256 * 1024;

/**
 * One COPY in its own transaction on a connection of its own, so several tables load at once.
 * `write` lines, `await ready()` now and then (backpressure), then `finish()` commits; on any
 * failure `abort()` rolls back.
 */
export class CopyIn {
  private chunk = '';
  private needsDrain = false;
  private done = false;

  private constructor(
    private readonly knex: Knex,
    private readonly conn: pg.Client,
    private readonly stream: CopyStreamQuery,
    private readonly target: CopyTarget,
  ) {
    // An error while nobody awaits the stream is seen by the next ready() or finish().
    stream.on('error', () => undefined);
  }

  static async open(knex: Knex, target: CopyTarget): Promise<CopyIn> {
    const conn = (await knex.client.acquireConnection()) as pg.Client;
    try {
      await conn.query('begin');
      for (const s of target.before ?? []) await conn.query(s.sql, s.params);
      const stream = conn.query(copyFrom(`copy ${target.into} from stdin`));
      return new CopyIn(knex, conn, stream, target);
    } catch (err) {
      await conn.query('rollback').catch(() => undefined);
      await knex.client.releaseConnection(conn);
      throw err;
    }
  }

  write(line: string): void {
    this.chunk += line;
    if (this.chunk.length >= CHUNK_CHARS) this.flush();
  }

  /** Resolves once Postgres has taken what was written so far (rejects if the COPY failed). */
  async ready(): Promise<void> {
    if (this.stream.errored) throw this.stream.errored;
    if (!this.needsDrain) return;
    await once(this.stream, 'drain');
    this.needsDrain = false;
  }

  /** Ends the COPY, runs `after` and commits; answers the rows copied. */
  async finish(): Promise<number> {
    this.flush();
    this.stream.end();
    await finished(this.stream);
    for (const s of this.target.after ?? []) await this.conn.query(s.sql, s.params);
    await this.conn.query('commit');
    this.done = true;
    await this.knex.client.releaseConnection(this.conn);
    return this.stream.rowCount;
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.done = true;
    if (!this.stream.writableFinished) {
      this.stream.destroy();
      await finished(this.stream).catch(() => undefined);
    }
    await this.conn.query('rollback').catch(() => undefined);
    await this.knex.client.releaseConnection(this.conn);
  }

  private flush(): void {
    if (!this.chunk) return;
    if (!this.stream.write(this.chunk)) this.needsDrain = true;
    this.chunk = '';
  }
}

/**
 * Several COPYs at once, one per table: `run` writes to them, then each commits. When writing
 * fails, all roll back.
 */
export async function copyAll<T extends Record<string, CopyTarget>>(
  knex: Knex,
  targets: T,
  run: (copies: { [K in keyof T]: CopyIn }) => Promise<void>,
): Promise<{ [K in keyof T]: number }> {
  const opened: Array<[keyof T, CopyIn]> = [];
  try {
    for (const [name, target] of Object.entries(targets)) opened.push([name, await CopyIn.open(knex, target)]);
    const copies = Object.fromEntries(opened) as { [K in keyof T]: CopyIn };
    await run(copies);
    const counts = await Promise.all(opened.map(async ([name, copy]) => [name, await copy.finish()] as const));
    return Object.fromEntries(counts) as { [K in keyof T]: number };
  } catch (err) {
    await Promise.all(opened.map(([, copy]) => copy.abort()));
    throw err;
  }
}

// COPY's text format: tab-separated, \N for null, backslash escapes.
const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export function copyText(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] as string) : value;
}

export const COPY_NULL = '\\N';

/** An instant as Postgres reads it for timestamptz. */
export function copyTime(ms: number): string {
  return new Date(ms).toISOString();
}
