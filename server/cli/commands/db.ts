import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import type { Command } from 'commander';
import pg from 'pg';
import type { Config } from '../../../infra/config';
import { runMigrations } from '../../../infra/db/migrate';
import { pgConnectionString } from '../../../infra/db/knex';
import { fromPostgres, PostgresUnreachableError } from '../../client/server-failures';
import { CliError, EXIT } from '../errors';
import { table, type Output } from '../output';
import type { Session } from '../session';

interface DbFlags {
  source?: boolean;
}

/** `sluice db query|shell`: SQL against the warehouse, or with --source the source database (like `airflow db shell`). */
export function registerDbCommands(program: Command, output: () => Output, session: () => Session): void {
  const db = program.command('db').description('SQL against the warehouse database (or the source with --source)');

  db.command('query <sql>')
    .description('run one SQL statement and print its rows (--json: { rows, rowCount, command })')
    .option('--source', 'the source (OLTP) database instead of the warehouse')
    .action(async (sql: string, flags: DbFlags) => {
      const target = database(session().config, flags);
      const client = await connect(target);
      try {
        const result = await run(client, sql);
        output().result({ rows: result.rows, rowCount: result.rowCount, command: result.command }, () => formatResult(result));
      } catch (err) {
        throw sqlError(err);
      } finally {
        await client.end();
      }
    });

  db.command('migrate')
    .description('apply pending warehouse schema migrations (idempotent; concurrent callers wait for each other)')
    .action(async () => {
      const target = database(session().config, {});
      // Reaching the server first turns "not running" into exit 3 with the setting to check.
      await (await connect(target)).end();
      let applied: string[];
      try {
        applied = await runMigrations(target.url);
      } catch (err) {
        throw sqlError(err);
      }
      output().result({ applied }, () => (applied.length === 0 ? 'the warehouse schema is up to date' : `applied ${applied.length} migration${applied.length === 1 ? '' : 's'}: ${applied.join(', ')}`));
    });

  db.command('shell')
    .description('an interactive SQL shell: psql when it is on PATH, else a small built-in one')
    .option('--source', 'the source (OLTP) database instead of the warehouse')
    .action(async (flags: DbFlags) => {
      const target = database(session().config, flags);
      const psql = onPath('psql');
      process.exitCode = psql ? await runPsql(psql, target.url) : await repl(target);
    });
}

interface Target {
  url: string;
  /** Which setting names the database, for error messages. */
  setting: 'DATABASE_URL' | 'SOURCE_DATABASE_URL';
}

function database(config: Config, flags: DbFlags): Target {
  return flags.source
    ? { url: config.postgres.sourceDatabaseUrl, setting: 'SOURCE_DATABASE_URL' }
    : { url: config.postgres.databaseUrl, setting: 'DATABASE_URL' };
}

// Dates and times as Postgres prints them: JavaScript Dates would drop microseconds and shift
// `date` values into the local time zone.
const TEXT_TYPES = new Set([
  pg.types.builtins.DATE,
  pg.types.builtins.TIME,
  pg.types.builtins.TIMETZ,
  pg.types.builtins.TIMESTAMP,
  pg.types.builtins.TIMESTAMPTZ,
  pg.types.builtins.INTERVAL,
]);
const asText = (value: string) => value;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    TEXT_TYPES.has(oid) ? asText : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

async function connect(target: Target): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: pgConnectionString(target.url), types, connectionTimeoutMillis: 10_000 });
  // A server that goes away mid-query is reported by the query; without a listener it would crash us.
  client.on('error', () => undefined);
  try {
    await fromPostgres(client.connect());
  } catch (err) {
    if (err instanceof PostgresUnreachableError) {
      const cause = err.cause instanceof Error ? err.cause.message : err.message;
      throw new CliError(`cannot reach Postgres (${cause}); is \`sluice up\` running, or is ${target.setting} right?`, EXIT.unreachable);
    }
    throw sqlError(err);
  }
  return client;
}

/** The statement's result; several statements in one string answer the last one's. */
async function run(client: pg.Client, sql: string): Promise<pg.QueryResult> {
  const result = (await client.query(sql)) as pg.QueryResult | pg.QueryResult[];
  return Array.isArray(result) ? (result.at(-1) as pg.QueryResult) : result;
}

/** Postgres' own message (and its detail and hint), exit 1. */
function sqlError(err: unknown): Error {
  if (err instanceof CliError || !(err instanceof Error)) return err as Error;
  const { detail, hint } = err as { detail?: string; hint?: string };
  return new CliError([err.message, detail, hint && `hint: ${hint}`].filter(Boolean).join('; '), EXIT.failed);
}

/** Rows as an aligned table with a row count, like psql; a statement without rows as its tag (`INSERT 0 1`). */
function formatResult(result: pg.QueryResult): string {
  if (!result.fields || result.fields.length === 0) return `${result.command ?? 'OK'}${result.rowCount === null ? '' : ` ${result.rowCount}`}`;
  const headers = result.fields.map((f) => f.name);
  const rows = (result.rows as Array<Record<string, unknown>>).map((r) => headers.map((h) => cell(r[h])));
  return `${table(headers, rows)}\n(${result.rows.length} ${result.rows.length === 1 ? 'row' : 'rows'})`;
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return Buffer.isBuffer(value) ? `\\x${value.toString('hex')}` : JSON.stringify(value);
  return String(value as string | number | boolean);
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** psql with the terminal; the password goes in its environment, not on its command line (visible in `ps`). */
function runPsql(psql: string, url: string): Promise<number> {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  const env = password ? { ...process.env, PGPASSWORD: password } : process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(psql, [u.toString()], { stdio: 'inherit', env });
    // Ctrl-C belongs to psql (it cancels the running query), not to us.
    const ignore = () => undefined;
    process.on('SIGINT', ignore);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolve(code ?? (signal ? 128 : EXIT.failed));
    });
  });
}

/**
 * The built-in shell: statements end with `;` (and may span lines), `\q` or end of input quits.
 * An SQL error is printed and the shell goes on, as psql does.
 */
async function repl(target: Target): Promise<number> {
  const client = await connect(target);
  const name = new URL(target.url).pathname.slice(1) || 'postgres';
  const interactive = Boolean(process.stdin.isTTY);
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: interactive });
  process.stderr.write(`connected to ${name} (built-in shell: psql is not on PATH). End statements with ';', \\q quits.\n`);
  let pending = '';
  // Like psql, prompts only for a person at a terminal, not for piped input.
  const prompt = () => {
    if (!interactive) return;
    rl.setPrompt(pending ? `${name}-> ` : `${name}=> `);
    rl.prompt();
  };
  // Ctrl-C drops a half-typed statement, or quits at an empty prompt.
  rl.on('SIGINT', () => {
    if (!pending) return rl.close();
    pending = '';
    process.stdout.write('\n');
    prompt();
  });
  try {
    prompt();
    for await (const line of rl) {
      if (!pending && line.trim() === '\\q') break;
      pending += `${line}\n`;
      if (line.trimEnd().endsWith(';')) {
        const sql = pending;
        pending = '';
        try {
          process.stdout.write(`${formatResult(await run(client, sql))}\n`);
        } catch (err) {
          process.stderr.write(`ERROR: ${sqlError(err).message}\n`);
        }
      } else if (!pending.trim()) {
        pending = '';
      }
      prompt();
    }
    return EXIT.ok;
  } finally {
    rl.close();
    await client.end();
  }
}
