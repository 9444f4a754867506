import type { Command } from 'commander';
import { loadConfig } from '../../../infra/config';
import { createLogger } from '../../../infra/logger';
import { findDag } from '../../dag-registry';
import { startDagRun } from '../../client/start-run';
import { waitForOutcome } from '../../client/wait';
import { startSluice } from '../../start-sluice';
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
      const stopped = new Promise<void>((resolve) => {
        const stop = () => {
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
        const { spec } = findDag(sluice.dags(), DEMO_DAG);
        await sluice.workerReady();
        const demoStart = Date.now();
        const run = await startDagRun(sluice.client, spec, { logicalDate: new Date(Math.floor(Date.now() / 1000) * 1000), params: {}, trigger: 'manual' });
        const status = await waitForOutcome(run.handle);
        out.info(`demo run ${run.runId}: ${status.state} in ${((Date.now() - demoStart) / 1000).toFixed(1)} s`);
        if (sluice.temporalUiUrl) out.info(`  ${sluice.temporalUiUrl}/namespaces/default/workflows/${encodeURIComponent(run.runId)}`);
      }
      await stopped;
    });
}
