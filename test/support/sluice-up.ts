/**
 * `sluice up` as a user runs it: the real CLI in a child process, against the test stack (whose
 * URLs are in the environment, so it starts no servers of its own), with its output captured.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { findFreePorts } from '../../infra/dev-stack/ports';

const SLUICE = path.resolve(__dirname, '../../server/cli/sluice.js');

export interface SluiceUp {
  /** Its SLUICE_HOME: embedded servers it starts have their pid files in `<home>/run/`. */
  home: string;
  pid: number;
  consoleUrl: string;
  stdout(): string;
  stderr(): string;
  /** Waits until `pattern` matches stderr (the logs) or stdout; fails with the output so far. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Ctrl-C, then the exit code (or 'timeout' after 30 s, when it is SIGKILLed); deletes its home. */
  interrupt(): Promise<number | null | 'timeout'>;
}

/** Starts `sluice up <args>` with this process's environment plus `env`. */
export async function startSluiceUp(args: string[], env: NodeJS.ProcessEnv): Promise<SluiceUp> {
  const [port] = await findFreePorts(1);
  const home = await mkdtemp(path.join(os.tmpdir(), 'sluice-up-'));
  // mkdtemp makes the directory private; an embedded Postgres runs as its own OS user when we are root.
  await chmod(home, 0o755);
  const child = spawn(process.execPath, [SLUICE, 'up', ...args], {
    // A home of its own: the test stack's home belongs to the runner.
    env: { ...process.env, ...env, SLUICE_CONSOLE_PORT: String(port), SLUICE_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    home,
    pid: child.pid ?? 0,
    consoleUrl: `http://127.0.0.1:${String(port)}`,
    stdout: () => stdout,
    stderr: () => stderr,
    async waitFor(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const match = pattern.exec(stderr) ?? pattern.exec(stdout);
        if (match) return match;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`timed out waiting for ${String(pattern)}; output so far:\n${stdout}\n${stderr}`);
    },
    async interrupt() {
      child.kill('SIGINT');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 30_000)))]);
      clearTimeout(timer);
      if (code === 'timeout') child.kill('SIGKILL');
      await rm(home, { recursive: true, force: true });
      return code;
    },
  };
}

/**
 * The environment of a `sluice up` that starts embedded servers of its own on free ports, rather
 * than using the test stack's (whose URLs are in this process's environment).
 */
export async function embeddedStackEnv(): Promise<{ env: NodeJS.ProcessEnv; pgPort: number }> {
  const [temporalPort, pgPort, s3Port, uiPort] = (await findFreePorts(4)) as [number, number, number, number];
  return {
    pgPort,
    env: {
      TEMPORAL_ADDRESS: undefined,
      DATABASE_URL: undefined,
      SOURCE_DATABASE_URL: undefined,
      S3_ENDPOINT: undefined,
      TEMPORAL_PORT: String(temporalPort),
      SLUICE_PG_PORT: String(pgPort),
      SLUICE_S3_PORT: String(s3Port),
      TEMPORAL_UI_PORT: String(uiPort),
      LOG_LEVEL: 'info',
    },
  };
}

/** An embedded server's pid file: its pid and the `sluice up` that owns it. */
export function serverPidFile(up: SluiceUp, name: 'postgres' | 's3' | 'temporal'): { pid: number; owner: number } {
  const { pid, owner } = JSON.parse(readFileSync(path.join(up.home, 'run', `${name}.json`), 'utf8')) as { pid: number; owner: number };
  return { pid, owner };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
