/**
 * Managed child processes for the embedded servers.
 *
 * Each server runs detached in its own process group, so a terminal's Ctrl-C reaches only the
 * Sluice process, which then stops the servers in order instead of having them die mid-write;
 * stopping signals the whole group, so helpers a server forks go too. Output goes to
 * `<home>/logs/<name>.log`, which readiness errors point at.
 *
 * No orphans: every live child is stopped on SIGINT/SIGTERM/SIGHUP (unless the program handles
 * the signal itself, in which case it owns the shutdown order and must call `stop()`), and killed
 * when the process exits for any other reason, an uncaught exception included. A SIGKILL of
 * the parent cannot be intercepted, so each child also gets a pid file, and the next start on the
 * same home stops a child whose owner is gone.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';

export interface StartProcessOptions {
  /** Short name; the log is `<home>/logs/<name>.log` and the pid file `<home>/run/<name>.json`. */
  name: string;
  command: string;
  args: string[];
  home: string;
  /** Added to the parent's environment. */
  env?: NodeJS.ProcessEnv;
  /** Run as another user (Postgres refuses to run as root). */
  uid?: number;
  gid?: number;
  /** The signal that asks for a graceful stop (Postgres: SIGINT, its "fast" shutdown). */
  stopSignal?: NodeJS.Signals;
  /** How long a graceful stop may take before SIGKILL. */
  stopTimeoutMs?: number;
}

export interface WaitOptions {
  /** What is awaited, for the error message ("Temporal dev server"). */
  what: string;
  timeoutMs: number;
  intervalMs?: number;
}

export interface ReadyOptions extends WaitOptions {
  /** Aborting ends the wait at once with an error: the caller is shutting down. */
  signal?: AbortSignal;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What a supervisor needs of a running server: its pid, whether it died, and how to stop it. */
export type ServerProcess = Pick<ManagedProcess, 'pid' | 'unexpectedExit' | 'stop'>;

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<ExitInfo>;
  /**
   * Resolves when the process exits without `stop()` having been called first (a crash, an OOM
   * kill, a SIGKILL from outside); never resolves after a deliberate stop.
   */
  readonly unexpectedExit: Promise<ExitInfo>;
  /**
   * Polls `check` until it resolves. Fails at once, with the end of the log, if the process exits
   * first or `signal` aborts; fails after `timeoutMs` with the last check error and the log file's path.
   */
  waitUntil<T>(check: () => Promise<T>, options: ReadyOptions): Promise<T>;
  /** Graceful stop of the process group, SIGKILL after the deadline. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_STOP_TIMEOUT_MS = 10_000;
const running = new Set<ManagedProcess>();

/** Starts `command` as a managed child; resolves once it has been spawned (not when ready). */
export async function startProcess(options: StartProcessOptions): Promise<ManagedProcess> {
  const { name, command, args, home } = options;
  const stopSignal = options.stopSignal ?? 'SIGTERM';
  const stopTimeoutMs = options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  const logFile = path.join(home, 'logs', `${name}.log`);
  const pidFile = path.join(home, 'run', `${name}.json`);
  await fsp.mkdir(path.dirname(logFile), { recursive: true });
  await fsp.mkdir(path.dirname(pidFile), { recursive: true });
  await reapOrphan(name, pidFile);

  const fd = fs.openSync(logFile, 'a');
  let child;
  try {
    fs.writeSync(fd, `\n--- ${new Date().toISOString()} starting: ${command} ${args.join(' ')}\n`);
    child = spawn(command, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, ...options.env },
      uid: options.uid,
      gid: options.gid,
    });
  } finally {
    fs.closeSync(fd); // the child holds its own copy
  }
  const exited = new Promise<ExitInfo>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const settled = new AbortController();
  try {
    await Promise.race([
      once(child, 'spawn', { signal: settled.signal }),
      once(child, 'error', { signal: settled.signal }).then(([err]) => {
        throw new Error(`Could not start ${name} (${command}): ${(err as Error).message}`);
      }),
    ]);
  } finally {
    settled.abort();
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`Could not start ${name} (${command}): no pid`);
  await writePidFile(pidFile, { pid, owner: process.pid, stopSignal, stopTimeoutMs });

  let stopping: Promise<void> | undefined;
  const managed: ManagedProcess = {
    name,
    pid,
    logFile,
    exited,
    unexpectedExit: exited.then((info) => (stopping ? new Promise<never>(() => undefined) : info)),
    waitUntil: async (check, { signal, ...waitOptions }) => {
      const exitedEarly = exited.then(async (info) => {
        throw new Error(
          `${waitOptions.what} failed: ${name} exited (${describeExit(info)}) before it was ready. ` +
            `End of ${logFile}:\n${await logTail(logFile)}`,
        );
      });
      // Ends the wait for `signal`, so a long-lived signal does not collect one listener per wait.
      const waited = new AbortController();
      const abort = Promise.race([
        exitedEarly,
        ...(signal ? [whenAborted(signal, `${waitOptions.what}: start cancelled`, waited.signal)] : []),
      ]);
      abort.catch(() => undefined); // only observed through pollUntil's race
      try {
        return await pollUntil(check, { ...waitOptions, hint: `see ${logFile}`, abort });
      } finally {
        waited.abort();
      }
    },
    stop: () => {
      stopping ??= (async () => {
        if (!hasExited) {
          signalGroup(pid, stopSignal);
          const timer = new AbortController();
          const done = await Promise.race([
            exited.then(() => true),
            sleep(stopTimeoutMs, false, { signal: timer.signal }),
          ]).finally(() => timer.abort());
          if (!done) {
            signalGroup(pid, 'SIGKILL');
            await exited;
          }
        }
        signalGroup(pid, 'SIGKILL'); // stragglers of the group, if any survived their leader
        running.delete(managed);
        await fsp.rm(pidFile, { force: true });
      })();
      return stopping;
    },
  };
  running.add(managed);
  void exited.then(() => running.delete(managed));
  installProcessHooks();
  return managed;
}

/** Stops every managed child of this process, in parallel. */
export async function stopAllManagedProcesses(): Promise<void> {
  await Promise.all([...running].map((p) => p.stop()));
}

/**
 * Polls `check` until it resolves or `timeoutMs` passes; each attempt is cut off at the deadline.
 * `abort` rejecting ends the wait at once with its error.
 */
export async function pollUntil<T>(
  check: () => Promise<T>,
  options: WaitOptions & { hint?: string; abort?: Promise<never> },
): Promise<T> {
  const { what, timeoutMs, intervalMs = 100, hint, abort } = options;
  const started = Date.now();
  const deadline = started + timeoutMs;
  let lastError: unknown = new Error('the first check did not complete');
  let abortError: unknown;
  void abort?.catch((err: unknown) => (abortError = err)); // registered first: set before the race settles
  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const seconds = Math.round((Date.now() - started) / 100) / 10;
      throw new Error(`${what} not ready after ${seconds}s: ${errorMessage(lastError)}${hint ? `; ${hint}` : ''}`);
    }
    const controller = new AbortController();
    try {
      return await Promise.race([
        check(),
        sleep(remaining, undefined, { signal: controller.signal }).then(() => {
          throw lastError;
        }),
        ...(abort ? [abort] : []),
      ]);
    } catch (err) {
      if (abortError !== undefined && err === abortError) throw err;
      lastError = err;
    } finally {
      controller.abort();
    }
    await Promise.race([sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now()))), ...(abort ? [abort] : [])]);
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(errorMessage).join('; ');
  return err instanceof Error ? err.message : String(err);
}

/** Rejects with `message` once `signal` aborts (at once if it has); stops listening when `until` aborts. */
async function whenAborted(signal: AbortSignal, message: string, until: AbortSignal): Promise<never> {
  if (!signal.aborted) await once(signal, 'abort', { signal: until });
  throw new Error(message);
}

/** "signal SIGKILL" or "code 1", for log lines and errors. */
export function describeExit({ code, signal }: ExitInfo): string {
  return signal ? `signal ${signal}` : `code ${String(code)}`;
}

/** The last lines of a log file, for error messages. */
async function logTail(file: string, lines = 30): Promise<string> {
  const handle = await fsp.open(file, 'r').catch(() => undefined);
  if (!handle) return '(no log)';
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 16 * 1024);
    const { buffer } = await handle.read(Buffer.alloc(length), 0, length, size - length);
    return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } finally {
    await handle.close();
  }
}

// --- pid files: recognising a child left behind by a parent that was SIGKILLed -----------------

const pidFileSchema = z.object({
  pid: z.number().int().positive(),
  pidStart: z.string().optional(),
  owner: z.number().int().positive(),
  ownerStart: z.string().optional(),
  stopSignal: z.custom<NodeJS.Signals>((v) => typeof v === 'string' && v in os.constants.signals),
  stopTimeoutMs: z.number(),
});

async function writePidFile(
  file: string,
  entry: { pid: number; owner: number; stopSignal: NodeJS.Signals; stopTimeoutMs: number },
): Promise<void> {
  const record = { ...entry, pidStart: startTimeOf(entry.pid), ownerStart: startTimeOf(entry.owner) };
  await fsp.writeFile(file, JSON.stringify(record));
}

/** Returns whether an orphan was found and stopped. */
async function reapOrphan(name: string, pidFile: string): Promise<boolean> {
  const raw = await fsp.readFile(pidFile, 'utf8').catch(() => undefined);
  if (raw === undefined) return false;
  const entry = parsePidFile(raw);
  const orphan = entry !== undefined && isAlive(entry.pid, entry.pidStart);
  if (orphan) {
    if (isAlive(entry.owner, entry.ownerStart)) {
      throw new Error(
        `${name} is already running for this SLUICE_HOME (pid ${entry.pid}, started by pid ${entry.owner}); ` +
          `stop that process first or use another SLUICE_HOME`,
      );
    }
    // The owner is gone, so nobody will ever stop this child: stop it as its owner would have.
    signalGroup(entry.pid, entry.stopSignal);
    const deadline = Date.now() + entry.stopTimeoutMs;
    while (isAlive(entry.pid, entry.pidStart) && Date.now() < deadline) await sleep(50);
    signalGroup(entry.pid, 'SIGKILL');
  }
  await fsp.rm(pidFile, { force: true });
  return orphan;
}

/**
 * Stops the children recorded under `home` whose owner died without stopping them, and returns
 * their names; throws if an owner is still running (the home is in use).
 */
export async function reapOrphans(home: string): Promise<string[]> {
  const dir = path.join(home, 'run');
  const names = (await fsp.readdir(dir).catch(() => []))
    .filter((f) => f.endsWith('.json'))
    .map((f) => path.basename(f, '.json'));
  const reaped = await Promise.all(names.map((name) => reapOrphan(name, path.join(dir, `${name}.json`))));
  return names.filter((_, i) => reaped[i]);
}

/** A corrupt or foreign pid file is as good as none. */
function parsePidFile(raw: string): z.infer<typeof pidFileSchema> | undefined {
  try {
    const parsed = pidFileSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err; // ESRCH: the group is gone
  }
}

/**
 * A process's start time (in clock ticks since boot) from /proc: together with the pid it
 * identifies a process even after the pid is reused. Undefined where /proc does not exist.
 */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3; starttime is 22.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function isAlive(pid: number, startTime: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return startTime === undefined || startTimeOf(pid) === startTime;
}

// --- process-wide cleanup -----------------------------------------------------------------------

let hooksInstalled = false;

function installProcessHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // Last resort for paths that never reached stop(): process.exit(), an uncaught exception.
  // Nothing asynchronous can run here, so the children get SIGKILL; all three servers recover.
  process.on('exit', () => {
    for (const p of running) signalGroup(p.pid, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      // A program with its own handler decides the shutdown order and calls stop() itself.
      if (process.listenerCount(signal) > 1) return;
      void stopAllManagedProcesses().finally(() => process.exit(128 + os.constants.signals[signal]));
    });
  }
}
