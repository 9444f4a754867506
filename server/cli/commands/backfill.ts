import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { planDates, type Reprocess } from '../../../activities/backfill';
import { validateParams } from '../../../dags/sdk';
import {
  backfillDates,
  backfillProgress,
  BackfillRangeError,
  BackfillRunningError,
  DEFAULT_MAX_BACKFILL_DATES,
  startBackfill,
} from '../../client/backfill';
import { formatLogicalDate } from '../../client/run-id';
import { fromPostgres } from '../../client/server-failures';
import { requireWorker } from '../../client/workers';
import { backfillQueue, type BackfillProgress } from '../../../workflows/backfill';
import { badInput, CliError } from '../errors';
import { confFlag, dateFlag, positiveIntFlag } from '../flags';
import { endProgress, renderProgress } from '../progress-bar';
import { table, type Output } from '../output';
import type { Session } from '../session';
import { findOrBadInput } from './dags';

const REPROCESS: readonly Reprocess[] = ['none', 'failed', 'all'];

interface BackfillFlags {
  from: string;
  to: string;
  concurrency: string;
  reprocess: string;
  reverse?: boolean;
  dryRun?: boolean;
  wait?: boolean;
  conf?: string;
  maxDates: string;
}

export function registerBackfill(program: Command, output: () => Output, session: () => Session): void {
  program
    .command('backfill <dagId>')
    .description("run every logical date of the DAG's schedule in a range, durably and with bounded concurrency")
    .requiredOption('--from <date>', "start of the range: YYYY-MM-DD (that whole day, in the DAG's time zone) or an instant")
    .requiredOption('--to <date>', "end of the range, inclusive: YYYY-MM-DD (that whole day, in the DAG's time zone) or an instant")
    .option('--concurrency <n>', 'runs at once', '4')
    .option('--reprocess <mode>', 'none: skip dates that already ran; failed: re-run failed ones; all: re-run every date', 'none')
    .option('--reverse', 'newest date first')
    .option('--dry-run', 'list the dates and what would happen to each; start nothing')
    .option('--wait', 'show a progress bar until the backfill ends')
    .option('--conf <json>', 'params for every run: a JSON object, or @file.json')
    .option('--max-dates <n>', 'refuse ranges with more dates than this', String(DEFAULT_MAX_BACKFILL_DATES))
    .action(async (dagId: string, flags: BackfillFlags) => {
      const { definition, spec } = findOrBadInput(dagId);
      const schedule = spec.schedule;
      if (!schedule) throw badInput(`DAG '${dagId}' has no schedule, so it has no logical dates to backfill; use \`sluice trigger --date\``);
      const range = { from: dateFlag('--from', flags.from), to: dateFlag('--to', flags.to) };
      const concurrency = positiveIntFlag('--concurrency', flags.concurrency);
      const maxDates = positiveIntFlag('--max-dates', flags.maxDates);
      if (!REPROCESS.includes(flags.reprocess as Reprocess)) throw badInput(`--reprocess must be one of ${REPROCESS.join(', ')}`);
      const reprocess = flags.reprocess as Reprocess;
      const params = validateParams(definition, confFlag(flags.conf));
      if (!params.ok) throw badInput(`invalid --conf for ${dagId}: ${params.error}`);
      let dates: Date[];
      try {
        dates = backfillDates(schedule, range, { maxDates, reverse: flags.reverse });
      } catch (err) {
        if (!(err instanceof BackfillRangeError)) throw err;
        throw badInput(/more than/.test(err.message) ? `${err.message} (raise --max-dates to allow more)` : err.message);
      }

      const out = output();
      if (flags.dryRun) {
        const plan = await fromPostgres(planDates(session().warehouse(), { dagId, logicalDates: dates.map(formatLogicalDate), reprocess }));
        out.result({ dagId, dryRun: true, dates: plan }, () =>
          [
            table(['LOGICAL DATE', 'LAST STATE', 'ACTION'], plan.map((p) => [p.logicalDate, p.lastState ?? '-', p.action])),
            `${plan.filter((p) => p.action === 'run' || p.action === 'rerun').length} of ${plan.length} dates would run; nothing started (dry run)`,
          ].join('\n'),
        );
        return;
      }
      const client = await session().temporal();
      // The backfill workflow runs on the DAG's queue, its runs on the backfill queue: waiting
      // for it needs both served, so check before starting anything, not after a silent hang.
      if (flags.wait) for (const queue of [spec.taskQueue, backfillQueue(spec.taskQueue)]) await requireWorker(client.workflow, queue);
      let backfillId: string;
      try {
        backfillId = await startBackfill(client, spec, { logicalDates: dates, concurrency, reprocess, params: params.params });
      } catch (err) {
        if (err instanceof BackfillRunningError) throw new CliError(err.message);
        throw err;
      }
      if (!flags.wait) {
        out.result({ backfillId, dates: dates.length }, () => `started ${backfillId} (${dates.length} dates); follow it with \`sluice backfills status ${backfillId}\``);
        return;
      }
      out.info(`started ${backfillId}`);
      for (;;) {
        const p = await backfillProgress(client, backfillId);
        const settled = p.counts.success + p.counts.failed + p.counts.skipped;
        renderProgress(dagId, settled, p.total, progressDetail(p));
        if (p.state === 'done' || p.state === 'cancelled') {
          endProgress();
          const human = () => `${backfillId}: backfill ${p.state}; ${p.counts.success} succeeded, ${p.counts.failed} failed, ${p.counts.skipped} skipped`;
          if (p.counts.failed > 0) out.failed({ backfillId, ...p }, human, `${p.counts.failed} date(s) failed; re-run them with --reprocess failed`);
          out.result({ backfillId, ...p }, human);
          return;
        }
        await sleep(1000);
      }
    });
}

/**
 * The progress bar's words: dates settled, runs in flight, then the backfill's own state, each
 * named, so "4 runs in flight · backfill running" cannot read as one count of two things.
 */
function progressDetail(p: BackfillProgress): string {
  const { success, failed, skipped, running } = p.counts;
  return `dates done (${success} succeeded, ${failed} failed, ${skipped} skipped) · ${running} run${running === 1 ? '' : 's'} in flight · backfill ${p.state}`;
}
