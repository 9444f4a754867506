/**
 * The Chromium the browser tests drive through playwright-core. Playwright's own browser download
 * fails on the machines Sluice develops on (only package registries are reachable), so the tests
 * use Debian's `chromium` package, installed with apt on first use when we may (root, apt-get).
 *
 * Test files may start at once (two `npm test` runs on one machine): the install runs under a
 * lock file in the OS temp dir, and whoever waited finds Chromium installed when it gets the lock.
 * apt's own lock (waited for, not failed on) backs that up should two callers ever both hold ours.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger';
import { isExecutable, runCommand, type RunResult } from './run-command';

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const OVERRIDE_VAR = 'SLUICE_CHROMIUM';
const INSTALL_COMMAND = 'apt-get install -y --no-install-recommends chromium';
const LOCK_FILE = path.join(os.tmpdir(), 'sluice-chromium-install.lock');
/** apt-get update plus the install (about 100 MB of packages) on a slow mirror. */
const STEP_TIMEOUT_MS = 10 * 60_000;
const LOCK_WAIT_MS = 25 * 60_000;
/** apt-get must never stop to ask a question. */
const APT = { timeoutMs: STEP_TIMEOUT_MS, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } };

/**
 * Path of a Chromium executable: SLUICE_CHROMIUM if set, else Debian's `/usr/bin/chromium`, else
 * that package installed now with apt-get (as root only). Throws an error saying what to install
 * when none can be had.
 */
export async function ensureChromium(log: Logger): Promise<string> {
  const override = process.env[OVERRIDE_VAR];
  if (override) {
    if (!(await isExecutable(override))) throw new Error(`${OVERRIDE_VAR}=${override} is not an executable file`);
    return override;
  }
  if (await isExecutable(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;

  const aptGet = await onPath('apt-get');
  const root = process.getuid?.() === 0;
  if (!aptGet || !root) {
    const why = !aptGet ? 'this machine has no apt-get' : 'installing it needs root';
    throw new Error(
      `The browser tests need Chromium: ${DEBIAN_CHROMIUM} does not exist and ${OVERRIDE_VAR} is not set, ` +
        `and it cannot be installed automatically (${why}). Install Debian's chromium package ` +
        `(\`sudo ${INSTALL_COMMAND}\`), or set ${OVERRIDE_VAR} to a Chromium or Chrome executable.`,
    );
  }
  return withInstallLock(log, async () => {
    // Another caller may have installed it while we waited for the lock.
    if (await isExecutable(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
    await aptInstall(aptGet, log);
    if (!(await isExecutable(DEBIAN_CHROMIUM))) {
      throw new Error(`\`${INSTALL_COMMAND}\` succeeded, but ${DEBIAN_CHROMIUM} is still missing; set ${OVERRIDE_VAR} to a Chromium executable`);
    }
    return DEBIAN_CHROMIUM;
  });
}

async function aptInstall(aptGet: string, log: Logger): Promise<void> {
  const started = Date.now();
  // Wait for a dpkg lock someone else holds instead of failing at once.
  const install = ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', 'chromium'];
  log.info(`Chromium not found: installing Debian's chromium package (${INSTALL_COMMAND})`);
  let result = await runCommand(aptGet, install, APT);
  // Fresh machines (and containers) often have no package lists yet: update only then.
  if (result.status !== 'ok' && /Unable to locate package|has no installation candidate/.test(result.outputTail)) {
    log.info('apt does not know the chromium package: running apt-get update first');
    const update = await runCommand(aptGet, ['-o', 'DPkg::Lock::Timeout=600', 'update'], APT);
    if (update.status !== 'ok') throw aptError('apt-get update', update);
    log.info({ ms: Date.now() - started }, 'apt-get update done');
    result = await runCommand(aptGet, install, APT);
  }
  if (result.status !== 'ok') throw aptError(INSTALL_COMMAND, result);
  log.info({ ms: Date.now() - started }, `installed Chromium (${DEBIAN_CHROMIUM}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function aptError(command: string, result: RunResult): Error {
  return new Error(
    `Could not install Chromium for the browser tests: \`${command}\` -> ${result.status}\n${result.outputTail.replace(/^/gm, '    ')}\n` +
      `Install Debian's chromium package yourself (\`sudo ${INSTALL_COMMAND}\`), or set ${OVERRIDE_VAR} to a Chromium or Chrome executable.`,
  );
}

/**
 * Runs `fn` while holding the install lock: a file created exclusively, holding our pid. A lock
 * whose process is gone (a killed test run) is taken over.
 */
async function withInstallLock<T>(log: Logger, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let announced = false;
  for (;;) {
    try {
      await fsp.writeFile(LOCK_FILE, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number(await fsp.readFile(LOCK_FILE, 'utf8').catch(() => ''));
    // An empty file is a holder between creating and writing it: wait like for any other.
    if (holder > 0 && !isAlive(holder)) {
      log.warn({ lock: LOCK_FILE, holderPid: holder }, 'taking over the Chromium install lock of a process that is gone');
      await fsp.rm(LOCK_FILE, { force: true });
      continue;
    }
    if (!announced) log.info({ lock: LOCK_FILE, holderPid: holder || undefined }, 'another process is installing Chromium: waiting for it');
    announced = true;
    if (Date.now() > deadline) throw new Error(`gave up waiting ${LOCK_WAIT_MS / 60_000} min for the Chromium install lock ${LOCK_FILE} (held by pid ${holder || '?'}); delete it if no install is running`);
    await sleep(500);
  }
  try {
    return await fn();
  } finally {
    await fsp.rm(LOCK_FILE, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, as another user's process.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function onPath(command: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    if (dir && (await isExecutable(candidate))) return candidate;
  }
  return undefined;
}
