import type { Command } from 'commander';
import { loadConfig } from '../../../infra/config';
import { createLogger } from '../../../infra/logger';
import { runWorkerProcess, TemporalUnreachableError } from '../../../workers/worker-process';
import { badInput, CliError, EXIT } from '../errors';
import { positiveIntFlag } from '../flags';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description("a production worker process: serves task queues with the tasks the DAG folder's DAGs use; SIGTERM stops it gracefully")
    .option('--queues <list>', "comma-separated task queues (default: SLUICE_WORKER_QUEUES, else every DAG's queue and its -backfill queue)")
    .option('--concurrency <n>', 'most tasks running at once per queue (default: SLUICE_WORKER_CONCURRENCY)')
    .action(async (flags: { queues?: string; concurrency?: string }) => {
      const options = {
        taskQueues: flags.queues === undefined ? undefined : queuesFlag(flags.queues),
        concurrency: flags.concurrency === undefined ? undefined : positiveIntFlag('--concurrency', flags.concurrency),
        workflowBundlePath: process.env.SLUICE_WORKFLOW_BUNDLE || undefined,
      };
      try {
        await runWorkerProcess(loadConfig(), options, createLogger('worker'));
      } catch (err) {
        if (err instanceof TemporalUnreachableError) throw new CliError(err.message, EXIT.unreachable);
        throw err;
      }
    });
}

function queuesFlag(text: string): string[] {
  const queues = text.split(',').map((q) => q.trim()).filter(Boolean);
  if (queues.length === 0) throw badInput('--queues needs at least one task queue name');
  return queues;
}
