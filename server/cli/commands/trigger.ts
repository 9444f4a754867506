import type { Command } from 'commander';
import { validateParams } from '../../../dags/sdk';
import { triggerDate } from '../../client/logical-dates';
import { formatLogicalDate } from '../../client/run-id';
import { startDagRun } from '../../client/start-run';
import { waitForOutcome } from '../../client/wait';
import { requireWorker } from '../../client/workers';
import { badInput } from '../errors';
import { confFlag, dateFlag, orBadInput } from '../flags';
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
    .description('start one run for a logical date (default: now, off the schedule); idempotent per date unless --rerun')
    .option('--date <date>', "YYYY-MM-DD: the schedule's fire time that day (in the DAG's time zone); or an instant that is a fire time")
    .option('--conf <json>', 'run params as a JSON object (or @file.json), checked against the DAG\'s params schema')
    .option('--wait', 'wait until the run succeeds, fails or needs an operator')
    .option('--rerun', 'start a fresh run even if this date already ran')
    .action(async (dagId: string, flags: TriggerFlags) => {
      const { definition, spec } = findOrBadInput(dagId);
      const date = flags.date === undefined ? undefined : dateFlag('--date', flags.date);
      const { logicalDate, adHoc } = orBadInput('--date', () => triggerDate(spec, date));
      const offSchedule = adHoc && spec.schedule !== null;
      const params = validateParams(definition, confFlag(flags.conf));
      if (!params.ok) throw badInput(`invalid --conf for ${dagId}: ${params.error}`);
      const client = await session().temporal();
      // Waiting needs a worker: check before starting anything, not after a silent hang.
      if (flags.wait) await requireWorker(client.workflow, spec.taskQueue);
      const run = await startDagRun(client, spec, { logicalDate, params: params.params, trigger: 'manual', rerun: flags.rerun });
      const note = offSchedule && spec.schedule
        ? ` (off-schedule: an ad-hoc run for now, not a fire time of '${spec.schedule.cron}'; --date YYYY-MM-DD runs a scheduled day)`
        : '';
      const out = output();
      const summary = { runId: run.runId, started: run.started, logicalDate: formatLogicalDate(logicalDate), offSchedule };
      if (!flags.wait) {
        out.result(summary, () =>
          run.started ? `started ${run.runId}${note}` : `${run.runId} already exists; not started again (use --rerun to re-run it)`,
        );
        return;
      }
      out.info(`${run.started ? 'started' : 'waiting for existing run'} ${run.runId}${note}`);
      const status = await waitForOutcome(run.handle);
      const outcome = { ...summary, state: status.state, failedTasks: status.failedTasks };
      const human = () => `${run.runId}: ${status.state}${status.failedTasks.length ? ` (failed: ${status.failedTasks.join(', ')})` : ''}`;
      if (status.state !== 'success') out.failed(outcome, human, `run ${run.runId} ended ${status.state}`);
      out.result(outcome, human);
    });
}
