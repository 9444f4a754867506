/**
 * The production worker (`node server/cli/sluice.js worker --queues ...`) in a child process of
 * its own, for chaos tests that need real separate processes: killed mid-run, two racing on one
 * run, or one under load with its memory sampled (./rss-sampler.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const CLI = path.resolve(__dirname, '../../../server/cli/sluice.js');

/** The DAG SDK's path, for `import { dag, defineTask, z } from ${JSON.stringify(SDK_PATH)}` in written DAG modules. */
export const SDK_PATH = path.resolve(__dirname, '../../../dags/sdk');

/** Writes DAG modules (file name to source) into a fresh temporary folder. */
export async function writeDagFolder(prefix: string, modules: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  for (const [file, source] of Object.entries(modules)) await writeFile(path.join(dir, file), source);
  return dir;
}

/**
 * Starts `sluice worker --queues <queues>`; resolves once it polls. Its DAGs come from `dagsDir`
 * (default: the repository's, the shipped pipelines); `env` adds variables (a heap cap, say).
 */
export async function startProductionWorker(queues: readonly string[], options: { dagsDir?: string; env?: NodeJS.ProcessEnv } = {}): Promise<ChildProcess> {
  const child = fork(CLI, ['worker', '--queues', queues.join(',')], {
    env: { ...process.env, ...(options.dagsDir ? { SLUICE_DAGS_DIR: options.dagsDir } : {}), LOG_LEVEL: 'warn', ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type?: string }) => m.type === 'ready' && resolve());
    child.once('exit', (code) => reject(new Error(`worker exited with ${String(code)} before it was ready`)));
  });
  return child;
}

/**
 * SIGTERM (the worker stops polling and lets running tasks finish), then SIGKILL after `graceMs`:
 * a worker left draining a stuck run (a test that failed) must not hold the suite for its
 * one-hour production grace time.
 */
export async function stopProductionWorker(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
