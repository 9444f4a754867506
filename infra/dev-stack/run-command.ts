/** Running the installers the dev stack and the browser tests need (pip, apt-get), with messages that say what went wrong. */
import { spawn } from 'node:child_process';
import fsp from 'node:fs/promises';

export async function isExecutable(file: string): Promise<boolean> {
  try {
    if (!(await fsp.stat(file)).isFile()) return false;
    await fsp.access(file, fsp.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface RunResult {
  /** `ok`, or what went wrong: `exit code 100`, `killed by SIGTERM`, `failed to run: …`. */
  status: string;
  /** The last lines of its combined output, for messages. */
  outputTail: string;
}

/** Runs a command to completion, killed after `timeoutMs`; never rejects. */
export function runCommand(command: string, args: string[], opts: { timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs, ...(opts.env ? { env: opts.env } : {}) });
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const tail = () => output.trimEnd().split('\n').slice(-12).join('\n');
    child.once('error', (err) => resolve({ status: `failed to run: ${err.message}`, outputTail: tail() }));
    child.once('close', (code, signal) =>
      resolve({ status: code === 0 ? 'ok' : signal ? `killed by ${signal}` : `exit code ${String(code)}`, outputTail: tail() }),
    );
  });
}
