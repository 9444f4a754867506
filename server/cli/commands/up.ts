import type { Command } from 'commander';
import { loadConfig } from '../../../infra/config';
import { createLogger } from '../../../infra/logger';
import { findDag } from '../../dag-registry';
import { startDagRun } from '../../client/start-run';
import { waitForOutcome } from '../../client/wait';
import { startSluice, type RunningSluice } from '../../start-sluice';
import type { Output } from '../output';

/** The DAG `--demo` runs: the smallest one that touches every part. */
const DEMO_DAG = 'stack_check';

export function registerUp(program: Command, output: () => Output): void {
  program
    .command('up')
    .description('start the stack, a worker process and the console; reload edited DAGs and task code; Ctrl-C stops everything')
    .option('--demo', 'also run a first DAG so a completed run shows in the console and Temporal UI')
    .option('--no-watch', 'do not reload DAGs and restart the worker when code under the DAG folder or activities/ changes')
    .action(async (flags: { demo?: boolean; watch: boolean }) => {
      const started = Date.now();
      const log = createLogger('sluice');
      const sluice = await startSluice(loadConfig(), log, { watch: flags.watch });
      let stopping = false;
      const stopped = new Promise<void>((resolve) => {
        const stop = () => {
          stopping = true;
          output().info('stopping…');
          void sluice.stop().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      const out = output();
      const upSeconds = ((Date.now() - started) / 1000).toFixed(1);
      out.result(
        { consoleUrl: sluice.consoleUrl, temporalUiUrl: sluice.temporalUiUrl ?? null, startupSeconds: Number(upSeconds) },
        () =>
          [
            `Sluice is up in ${upSeconds} s`,
            `  console:     ${sluice.consoleLoginUrl}`,
            `  Temporal UI: ${sluice.temporalUiUrl ?? '(external Temporal: use its own UI)'}`,
            `  DAGs:        ${sluice.dags().dags.map((d) => d.spec.dagId).join(', ')}`,
            'Press Ctrl-C to stop.',
          ].join('\n'),
      );
      if (flags.demo) {
        // Once up, only Ctrl-C ends `sluice up`: a demo that fails (no such DAG, a server or the
        // worker restarting) must not end it, and with it every server it runs.
        await runDemo(sluice, out).catch((err: unknown) => {
          if (!stopping) out.info(`demo run failed: ${err instanceof Error ? err.message : String(err)}; Sluice keeps running`);
        });
      }
      await stopped;
    });
}

async function runDemo(sluice: RunningSluice, out: Output): Promise<void> {
  const { spec } = findDag(sluice.dags(), DEMO_DAG);
  await sluice.workerReady();
  const demoStart = Date.now();
  const run = await startDagRun(sluice.client, spec, { logicalDate: new Date(Math.floor(Date.now() / 1000) * 1000), params: {}, trigger: 'manual' });
  const status = await waitForOutcome(run.handle);
  out.info(`demo run ${run.runId}: ${status.state} in ${((Date.now() - demoStart) / 1000).toFixed(1)} s`);
  if (sluice.temporalUiUrl) out.info(`  ${sluice.temporalUiUrl}/namespaces/default/workflows/${encodeURIComponent(run.runId)}`);
}
