import type { Command } from 'commander';
import { validateParams } from '../../../dags/sdk';
import { startDagRun } from '../../client/start-run';
import { waitForOutcome } from '../../client/wait';
import { badInput, CliError } from '../errors';
import { confFlag, dateFlag } from '../flags';
import type { Output } from '../output';
import type { Session } from '../session';
import { findOrBadInput } from './dags';

interface TriggerFlags {
  date?: string;
  conf?: string;
  wait?: boolean;
  rerun?: boolean;
}

export function registerTrigger(program: Command, output: () => Output, session: () => Session): void {
  program
    .command('trigger <dagId>')
    .description('start one run for a logical date (default: now); idempotent per date unless --rerun')
    .option('--date <iso>', 'logical date, YYYY-MM-DD or an ISO 8601 time (default: now)')
    .option('--conf <json>', 'run params as a JSON object, checked against the DAG\'s params schema')
    .option('--wait', 'wait until the run succeeds, fails or needs an operator')
    .option('--rerun', 'start a fresh run even if this date already ran')
    .action(async (dagId: string, flags: TriggerFlags) => {
      const { definition, spec } = findOrBadInput(dagId);
      const logicalDate = flags.date ? dateFlag('--date', flags.date) : new Date(Math.floor(Date.now() / 1000) * 1000);
      const params = validateParams(definition, confFlag(flags.conf));
      if (!params.ok) throw badInput(`invalid --conf for ${dagId}: ${params.error}`);
      const client = await session().temporal();
      const run = await startDagRun(client, spec, { logicalDate, params: params.params, trigger: 'manual', rerun: flags.rerun });
      const out = output();
      if (!flags.wait) {
        out.result({ runId: run.runId, started: run.started }, () =>
          run.started ? `started ${run.runId}` : `${run.runId} already exists; not started again (use --rerun to re-run it)`,
        );
        return;
      }
      out.info(`${run.started ? 'started' : 'waiting for existing run'} ${run.runId}`);
      const status = await waitForOutcome(run.handle);
      out.result({ runId: run.runId, started: run.started, state: status.state, failedTasks: status.failedTasks }, () =>
        `${run.runId}: ${status.state}${status.failedTasks.length ? ` (failed: ${status.failedTasks.join(', ')})` : ''}`,
      );
      if (status.state !== 'success') throw new CliError(`run ${run.runId} ended ${status.state}`);
    });
}
