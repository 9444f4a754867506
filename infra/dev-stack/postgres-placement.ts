/**
 * Where the embedded Postgres runs from when Sluice runs as root.
 *
 * initdb refuses to run as root, so as root Postgres runs as the OS user `postgres`. That user must
 * be able to enter the directory of the PostgreSQL binaries (inside the checkout's node_modules)
 * and the parent of the data directory (SLUICE_HOME, `./.sluice` inside the checkout). A checkout
 * under a private directory such as `/root` gives it neither. We never loosen the permissions of
 * someone's directories; instead, for whatever that user cannot reach:
 *
 * - the binaries (bin, lib, share) are copied once to `<relocationDir>/postgres-<version>-<digest>`,
 *   named by the content of the `postgres` binary, so every checkout of the same build shares one
 *   copy. The copy is made in a scratch directory and renamed into place, so two starters at once
 *   never see a half-made copy;
 * - the data directory goes to `<relocationDir>/data/<digest of SLUICE_HOME's path>/postgres`, the
 *   same place on every start, and SLUICE_HOME gets a pointer file (`postgres.location`) naming it.
 *   Once written, the pointer wins over SLUICE_HOME/postgres, so a home that later becomes
 *   reachable (or is moved) keeps its data.
 *
 * Each check runs as that user, exactly as Postgres will run (Node's spawn drops supplementary
 * groups when it switches user), so ACLs and mount options count too.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Default home of relocated binaries and data directories. */
export const DEFAULT_RELOCATION_DIR = '/var/lib/sluice';
/** The file under SLUICE_HOME naming a data directory kept outside it. */
export const POINTER_FILE = 'postgres.location';
/** The sub-directories of a PostgreSQL installation that Postgres and initdb use. */
const INSTALL_PARTS = ['bin', 'lib', 'share'];
/** A scratch copy this old was left by a starter that died; a live one takes about a second. */
const STALE_SCRATCH_MS = 10 * 60_000;

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

export interface Placement {
  /** The PostgreSQL installation to run (bin/, lib/, share/). */
  installDir: string;
  /** The data directory (PGDATA). */
  dataDir: string;
  /** What was placed outside the usual locations, for one log line; undefined when nothing was. */
  relocated?: { message: string; fields: Record<string, unknown> };
}

/** The usual places: the given installation, and `<home>/postgres`. */
export function defaultPlacement(home: string, installDir: string): Placement {
  return { installDir, dataDir: path.join(home, 'postgres') };
}

/**
 * Where Postgres, run as `user`, finds binaries and data: the usual places when that user can
 * reach them (no copy is made), locations under `relocationDir` otherwise.
 */
export async function placeForUser(options: {
  home: string;
  installDir: string;
  user: OsUser;
  relocationDir: string;
}): Promise<Placement> {
  const { home, installDir, user, relocationDir } = options;
  await fsp.mkdir(home, { recursive: true });
  const [binaries, data] = await Promise.all([
    placeBinaries(installDir, user, relocationDir),
    placeData(home, user, relocationDir),
  ]);
  const placement: Placement = { installDir: binaries.installDir, dataDir: data.dataDir };

  const blocked = [...new Set([binaries.blockedAt, data.blockedAt].filter((p): p is string => p !== undefined))];
  const moves: string[] = [];
  if (binaries.copied !== undefined) {
    moves.push(
      binaries.copied
        ? `copied the PostgreSQL binaries to ${binaries.installDir}`
        : `uses the PostgreSQL binaries copied earlier to ${binaries.installDir}`,
    );
  }
  if (data.pointer !== undefined) moves.push(`keeps the data directory in ${data.dataDir} (noted in ${data.pointer})`);
  if (moves.length > 0) {
    const why =
      blocked.length > 0
        ? `Postgres runs as OS user ${user.name} (Sluice runs as root), who cannot enter ${blocked.join(' or ')}`
        : `Postgres runs as OS user ${user.name} (Sluice runs as root)`;
    placement.relocated = {
      message: `${why}: Sluice ${moves.join(' and ')}`,
      fields: {
        osUser: user.name,
        ...(binaries.copied !== undefined ? { binaries: binaries.installDir, copiedNow: binaries.copied } : {}),
        ...(data.pointer !== undefined ? { dataDir: data.dataDir, pointer: data.pointer } : {}),
      },
    };
  }
  return placement;
}

// --- binaries ------------------------------------------------------------------------------------

async function placeBinaries(
  installDir: string,
  user: OsUser,
  relocationDir: string,
): Promise<{ installDir: string; copied?: boolean; blockedAt?: string }> {
  if (await canUseInstallation(user, installDir)) return { installDir };
  const blockedAt = await firstUnenterable(path.join(installDir, 'bin'), user);

  const target = path.join(relocationDir, await copyName(installDir));
  let copied = false;
  if (!fs.existsSync(path.join(target, 'bin', 'postgres'))) copied = await copyInstallation(installDir, target);
  if (!(await canUseInstallation(user, target))) {
    throw new Error(
      `OS user ${user.name}, which runs Postgres when Sluice runs as root, cannot run the PostgreSQL binaries in ` +
        `${installDir} (it cannot enter ${blockedAt}), nor the copy in ${target} (it cannot enter ` +
        `${await firstUnenterable(target, user)}). Make ${relocationDir} reachable for it, or set DATABASE_URL ` +
        'to use an external Postgres',
    );
  }
  return { installDir: target, copied, blockedAt };
}

/** Whether `user` can run the installation's postgres and read its share directory. */
async function canUseInstallation(user: OsUser, installDir: string): Promise<boolean> {
  const [runs, entersShare] = await Promise.all([
    succeeds(path.join(installDir, 'bin', 'postgres'), ['--version'], user),
    canEnter(user, path.join(installDir, 'share')),
  ]);
  return runs && entersShare;
}

/** `postgres-18.4-<digest of the binary>`: one copy per build, shared by every checkout. */
async function copyName(installDir: string): Promise<string> {
  const postgres = path.join(installDir, 'bin', 'postgres');
  const { stdout } = await execFileAsync(postgres, ['--version']); // root can run it where it is
  const version = /(\d+(?:\.\d+)*)/.exec(stdout)?.[1] ?? 'unknown';
  const digest = createHash('sha256')
    .update(await fsp.readFile(postgres))
    .digest('hex')
    .slice(0, 12);
  return `postgres-${version}-${digest}`;
}

/**
 * Copies bin, lib and share into a scratch directory next to `target`, makes it readable for
 * everyone, and renames it into place. Returns false when another starter got there first.
 */
async function copyInstallation(installDir: string, target: string): Promise<boolean> {
  const parent = path.dirname(target);
  await mkdirReachable(parent);
  const scratchPrefix = `.${path.basename(target)}.tmp-`;
  await removeStaleScratch(parent, scratchPrefix);
  const scratch = await fsp.mkdtemp(path.join(parent, scratchPrefix));
  try {
    for (const part of INSTALL_PARTS) {
      const from = path.join(installDir, part);
      if (!fs.existsSync(from)) continue;
      // verbatimSymlinks: the library links (libpq.so -> libpq.so.5.18) stay relative.
      await fsp.cp(from, path.join(scratch, part), { recursive: true, verbatimSymlinks: true });
    }
    await makeWorldReadable(scratch);
    try {
      await fsp.rename(scratch, target);
      return true;
    } catch (err) {
      if (fs.existsSync(path.join(target, 'bin', 'postgres'))) return false; // a concurrent starter won
      throw err;
    }
  } finally {
    await fsp.rm(scratch, { recursive: true, force: true });
  }
}

/** Directories 0755; files 0755 when their owner may execute them, 0644 otherwise. Links untouched. */
async function makeWorldReadable(dir: string): Promise<void> {
  await fsp.chmod(dir, 0o755);
  for (const entry of await fsp.readdir(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    if (entry.isDirectory()) await fsp.chmod(file, 0o755);
    else if (entry.isFile()) await fsp.chmod(file, (await fsp.stat(file)).mode & 0o100 ? 0o755 : 0o644);
  }
}

async function removeStaleScratch(parent: string, prefix: string): Promise<void> {
  for (const name of await fsp.readdir(parent)) {
    if (!name.startsWith(prefix)) continue;
    const file = path.join(parent, name);
    const stat = await fsp.stat(file).catch(() => undefined);
    if (stat && Date.now() - stat.mtimeMs > STALE_SCRATCH_MS) await fsp.rm(file, { recursive: true, force: true });
  }
}

// --- data directory ------------------------------------------------------------------------------

async function placeData(
  home: string,
  user: OsUser,
  relocationDir: string,
): Promise<{ dataDir: string; pointer?: string; blockedAt?: string }> {
  const inHome = path.join(home, 'postgres');
  const homeReachable = await canEnter(user, home);
  const blockedAt = homeReachable ? undefined : await firstUnenterable(home, user);

  const pointer = path.join(home, POINTER_FILE);
  const recorded = await readPointer(pointer);
  if (recorded !== undefined && hasData(recorded)) {
    if (!(await canEnter(user, path.dirname(recorded)))) {
      throw new Error(
        `OS user ${user.name}, which runs Postgres when Sluice runs as root, cannot enter ` +
          `${await firstUnenterable(path.dirname(recorded), user)}, so it cannot use the data directory ${recorded} ` +
          `that ${pointer} names. Let it enter that directory, or set DATABASE_URL to use an external Postgres`,
      );
    }
    return { dataDir: recorded, pointer, blockedAt };
  }
  if (hasData(inHome)) {
    if (homeReachable) return { dataDir: inHome };
    // Made while the home was reachable. Starting an empty server elsewhere would look like data
    // loss, and moving a data directory is the operator's call.
    throw new Error(
      `The Postgres data directory ${inHome} exists, but OS user ${user.name}, which runs Postgres when Sluice ` +
        `runs as root, cannot enter ${blockedAt ?? home}. Let it enter that directory, or move ${inHome} to ` +
        `${await relocatedDataDir(home, relocationDir)} (Sluice then uses it from there)`,
    );
  }

  if (homeReachable) {
    // A pointer to a directory without data (deleted, or never initialised) is not worth keeping.
    if (recorded !== undefined) await fsp.rm(pointer, { force: true });
    return { dataDir: inHome };
  }

  const dataDir = await relocatedDataDir(home, relocationDir);
  await mkdirReachable(path.dirname(dataDir));
  if (!(await canEnter(user, path.dirname(dataDir)))) {
    throw new Error(
      `OS user ${user.name}, which runs Postgres when Sluice runs as root, cannot enter ${blockedAt ?? home}, nor ` +
        `${await firstUnenterable(path.dirname(dataDir), user)} (for the data directory ${dataDir}). ` +
        `Make ${relocationDir} reachable for it, or set DATABASE_URL to use an external Postgres`,
    );
  }
  // For whoever finds the directory later: which home it belongs to.
  await writeAtomically(path.join(path.dirname(dataDir), 'sluice-home'), `${home}\n`);
  await writeAtomically(
    pointer,
    `${dataDir}\n` +
      `# Sluice keeps the embedded Postgres data directory above outside SLUICE_HOME: as root, Sluice runs\n` +
      `# Postgres as OS user ${user.name}, who cannot enter ${blockedAt ?? home}. Sluice uses that directory while\n` +
      `# this file names it; delete both to drop the data.\n`,
  );
  return { dataDir, pointer, blockedAt };
}

/** `<relocationDir>/data/<digest of the home's real path>/postgres`: the same on every start. */
async function relocatedDataDir(home: string, relocationDir: string): Promise<string> {
  const real = await fsp.realpath(home);
  const digest = createHash('sha256').update(real).digest('hex').slice(0, 16);
  return path.join(relocationDir, 'data', digest, 'postgres');
}

function hasData(dataDir: string): boolean {
  return fs.existsSync(path.join(dataDir, 'PG_VERSION'));
}

/** The first line of the pointer file, when it names an absolute path. */
async function readPointer(file: string): Promise<string | undefined> {
  const content = await fsp.readFile(file, 'utf8').catch(() => undefined);
  const first = content?.split('\n')[0]?.trim();
  return first && path.isAbsolute(first) ? first : undefined;
}

async function writeAtomically(file: string, content: string): Promise<void> {
  const scratch = `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  await fsp.writeFile(scratch, content);
  await fsp.rename(scratch, file);
}

// --- reachability --------------------------------------------------------------------------------

/** mkdir -p, and 0755 on each directory it created (whatever the umask), so others can enter. */
async function mkdirReachable(dir: string): Promise<void> {
  const first = await fsp.mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = dir; ; d = path.dirname(d)) {
    await fsp.chmod(d, 0o755);
    if (d === first || d === path.dirname(d)) break;
  }
}

/** Whether `user` can enter `dir` (search permission on it and every ancestor). */
function canEnter(user: OsUser, dir: string): Promise<boolean> {
  return succeeds('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dir], user);
}

function succeeds(command: string, args: string[], user: OsUser): Promise<boolean> {
  return execFileAsync(command, args, { uid: user.uid, gid: user.gid, cwd: '/' }).then(
    () => true,
    () => false,
  );
}

/**
 * The first of `dir` and its ancestors that `user` may not enter by its mode bits (for messages;
 * ACLs are ignored). `dir` itself when the bits allow every step.
 */
async function firstUnenterable(dir: string, user: OsUser): Promise<string> {
  const chain: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    chain.unshift(d);
    if (d === path.dirname(d)) break;
  }
  for (const d of chain) {
    const stat = await fsp.stat(d).catch(() => undefined);
    if (!stat) return d;
    const bit = stat.uid === user.uid ? 0o100 : stat.gid === user.gid ? 0o010 : 0o001;
    if (!(stat.mode & bit)) return d;
  }
  return dir;
}
