import { spawn } from 'node:child_process';
import path from 'node:path';

const SLUICE = path.resolve(__dirname, '../../server/cli/sluice.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `sluice` CLI in a child process, with this process's (test stack) environment. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return runNode([SLUICE, ...args], env);
}

/** Runs `node <args>` in a child process, with `input` on its stdin if given, and collects its output. */
export function runNode(args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string, input?: string): Promise<CliResult> {
  return runProcess(process.execPath, args, { env, cwd, input });
}

/** Runs `command <args>` in a child process, with `input` on its stdin if given, and collects its output. */
export function runProcess(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(opts.input);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
