import { S3ServiceException } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import type { Knex } from 'knex';
import pg from 'pg';
import type { Config } from '../../../infra/config';
import { createKnex, pgConnectionString } from '../../../infra/db/knex';
import { createS3Client, ensureBucket } from '../../../infra/s3';
import { fromPostgres, PostgresUnreachableError } from '../../client/server-failures';
import { DEMO_LIMITS, EXCEPTION_CATEGORIES, recentDaysStart, seedDemo, type SeedManifest } from '../../demo';
import { badInput, CliError, EXIT } from '../errors';
import { table, type Output } from '../output';
import type { Session } from '../session';

interface SeedFlags {
  days: string;
  start?: string;
  ordersPerDay: string;
  seed: string;
  sessionsPerOrder: string;
}

const SOURCE_DB = 'shop';

/** `sluice demo seed`: deterministic demo data in the source database and the S3 landing zone. */
export function registerDemoCommands(program: Command, output: () => Output, session: () => Session): void {
  program
    .command('demo')
    .description('demo data for the pipelines')
    .command('seed')
    .description('fill the source database `shop` and the landing zone with deterministic demo data (same flags, same data)')
    .option('--days <n>', `days to seed (1-${DEMO_LIMITS.days})`, '7')
    .option('--start <date>', 'first day, YYYY-MM-DD (UTC; default: so that the last day is yesterday)')
    .option('--orders-per-day <n>', `orders on an average day (1-${DEMO_LIMITS.ordersPerDay})`, '300')
    .option('--seed <n>', 'random seed (0-4294967295)', '42')
    .option('--sessions-per-order <x>', `clickstream sessions per order (0-${DEMO_LIMITS.sessionsPerOrder}, 0 = no events)`, '3')
    .action(async (flags: SeedFlags) => {
      const options = seedOptions(flags);
      const config = session().config;
      const out = output();
      const started = Date.now();
      const s3 = createS3Client(config);
      const source = createKnex(config.postgres.sourceDatabaseUrl, { maxConnections: 4 });
      try {
        await ensureSourceDatabase(config, source);
        await reachS3(config, () => ensureBucket(s3, config.s3.bucket));
        out.info(`seeding ${options.days} day(s) from ${options.start}, ~${options.ordersPerDay} orders a day...`);
        const manifest = await reachS3(config, () => seedDemo({ source, s3, bucket: config.s3.bucket, ...options }));
        const seconds = (Date.now() - started) / 1000;
        out.result(manifest, () => summary(manifest, seconds));
      } finally {
        await source.destroy();
        s3.destroy();
      }
    });
}

function seedOptions(flags: SeedFlags) {
  const days = wholeNumber('--days', flags.days, 1, DEMO_LIMITS.days);
  const start = flags.start === undefined ? recentDaysStart(days) : dateFlag('--start', flags.start);
  const ordersPerDay = wholeNumber('--orders-per-day', flags.ordersPerDay, 1, DEMO_LIMITS.ordersPerDay);
  const seed = wholeNumber('--seed', flags.seed, 0, 0xffff_ffff);
  const sessionsPerOrder = Number(flags.sessionsPerOrder);
  if (!/^\d+(\.\d+)?$/.test(flags.sessionsPerOrder) || sessionsPerOrder > DEMO_LIMITS.sessionsPerOrder) {
    throw badInput(`--sessions-per-order must be a number from 0 to ${DEMO_LIMITS.sessionsPerOrder}, not '${flags.sessionsPerOrder}'`);
  }
  return { days, start, ordersPerDay, seed, sessionsPerOrder };
}

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) throw badInput(`${flag} must be a whole number from ${min} to ${max}, not '${text}'`);
  return n;
}

function dateFlag(flag: string, text: string): string {
  const ms = Date.parse(`${text}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text) {
    throw badInput(`${flag} must be a date YYYY-MM-DD, not '${text}'`);
  }
  if (text < '2000-01-01' || text > '2099-12-31') throw badInput(`${flag} must be between 2000-01-01 and 2099-12-31`);
  return text;
}

/**
 * The source database must exist. `sluice up` creates `shop` on its embedded server; when the
 * source is the default `shop` database on an external warehouse server, it is created here.
 * A SOURCE_DATABASE_URL naming another database is the operator's to create.
 */
async function ensureSourceDatabase(config: Config, source: Knex): Promise<void> {
  const reach = () => sourceQuery(config, source.raw('select 1'));
  try {
    await reach();
  } catch (err) {
    const missing = (err as { code?: string }).code === '3D000';
    if (!missing || config.postgres.sourceDatabaseUrl !== withDatabase(config.postgres.databaseUrl, SOURCE_DB)) throw err;
    const admin = new pg.Client({ connectionString: pgConnectionString(config.postgres.databaseUrl) });
    await sourceQuery(config, admin.connect());
    try {
      await admin.query(`create database ${pg.escapeIdentifier(SOURCE_DB)}`);
    } catch (createErr) {
      // Another seed may have created it in the meantime.
      if ((createErr as { code?: string }).code !== '42P04') throw createErr;
    } finally {
      await admin.end();
    }
    await reach();
  }
}

async function sourceQuery<T>(config: Config, query: PromiseLike<T>): Promise<T> {
  try {
    return await fromPostgres(query);
  } catch (err) {
    if (err instanceof PostgresUnreachableError) {
      const cause = err.cause instanceof Error ? err.cause.message : err.message;
      throw new CliError(
        `cannot reach the source database (${cause}); is \`sluice up\` running, or are SOURCE_DATABASE_URL and DATABASE_URL right?`,
        EXIT.unreachable,
      );
    }
    throw err;
  }
}

/** S3 calls, with "no server there" said as such (exit 3) rather than as a socket error. */
async function reachS3<T>(config: Config, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (!(err instanceof S3ServiceException) && typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH)$/.test(code)) {
      throw new CliError(`cannot reach S3 at ${config.s3.endpoint} (${code}); is \`sluice up\` running, or is S3_ENDPOINT right?`, EXIT.unreachable);
    }
    throw err;
  }
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

function summary(m: SeedManifest, seconds: number): string {
  const sum = (pick: (d: SeedManifest['perDay'][number]) => number) => m.perDay.reduce((s, d) => s + pick(d), 0);
  const files = sum((d) => d.files.length);
  const lines = [
    `seeded ${m.days} day(s) ${m.start} .. ${m.perDay.at(-1)?.day ?? m.start} (seed ${m.seed}) in ${seconds.toFixed(1)} s`,
    `shop: ${sum((d) => d.orders)} orders, ${sum((d) => d.orderItems)} order items, ${sum((d) => d.events)} events, ` +
      `${sum((d) => d.customersNew)} new customers, ${sum((d) => d.customersChanged)} customer changes, ${sum((d) => d.productsChanged)} price changes`,
    `s3://${m.bucket}/landing/partner_sales/: ${files} files, ${sum((d) => d.partnerRows)} readable rows`,
    '',
    `injected problems: ${m.totals.problems}`,
    table(['CATEGORY', 'COUNT'], EXCEPTION_CATEGORIES.map((c) => [c, m.totals.byCategory[c]])),
    '',
    '--json prints the manifest: every problem with its source row, or file and line',
  ];
  return lines.join('\n');
}
