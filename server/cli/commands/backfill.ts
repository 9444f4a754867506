import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { planDates, type Reprocess } from '../../../activities/backfill';
import { validateParams } from '../../../dags/sdk';
import {
  backfillDates,
  backfillProgress,
  BackfillRangeError,
  BackfillRunningError,
  controlBackfill,
  DEFAULT_MAX_BACKFILL_DATES,
  startBackfill,
} from '../../client/backfill';
import { formatLogicalDate } from '../../client/run-id';
import { badInput, CliError } from '../errors';
import { confFlag, dateFlag, positiveIntFlag } from '../flags';
import { endProgress, renderProgress } from '../progress-bar';
import { table, type Output } from '../output';
import { orUnreachable, type Session } from '../session';
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
    .requiredOption('--from <date>', 'first logical date (inclusive), YYYY-MM-DD or ISO 8601')
    .requiredOption('--to <date>', 'last logical date (inclusive; a bare date includes that whole day)')
    .option('--concurrency <n>', 'runs at once', '4')
    .option('--reprocess <mode>', 'none: skip dates that already ran; failed: re-run failed ones; all: re-run every date', 'none')
    .option('--reverse', 'newest date first')
    .option('--dry-run', 'list the dates and what would happen to each; start nothing')
    .option('--wait', 'show a progress bar until the backfill ends')
    .option('--conf <json>', 'params for every run')
    .option('--max-dates <n>', 'refuse ranges with more dates than this', String(DEFAULT_MAX_BACKFILL_DATES))
    .action(async (dagId: string, flags: BackfillFlags) => {
      const { definition, spec } = findOrBadInput(dagId);
      if (!spec.schedule) throw badInput(`DAG '${dagId}' has no schedule, so it has no logical dates to backfill; use \`sluice trigger --date\``);
      const from = dateFlag('--from', flags.from);
      // A bare date in --to means the whole of that day: `--to 2025-01-30` includes 03:00 that day.
      const to = /^\d{4}-\d{2}-\d{2}$/.test(flags.to) ? new Date(dateFlag('--to', flags.to).getTime() + 86_399_999) : dateFlag('--to', flags.to);
      if (from > to) throw badInput(`--from ${flags.from} is after --to ${flags.to}`);
      const concurrency = positiveIntFlag('--concurrency', flags.concurrency);
      const maxDates = positiveIntFlag('--max-dates', flags.maxDates);
      if (!REPROCESS.includes(flags.reprocess as Reprocess)) throw badInput(`--reprocess must be one of ${REPROCESS.join(', ')}`);
      const reprocess = flags.reprocess as Reprocess;
      const params = validateParams(definition, confFlag(flags.conf));
      if (!params.ok) throw badInput(`invalid --conf for ${dagId}: ${params.error}`);
      let dates: Date[];
      try {
        dates = backfillDates(spec.schedule, from, to, { maxDates, reverse: flags.reverse });
      } catch (err) {
        if (!(err instanceof BackfillRangeError)) throw err;
        throw badInput(/more than/.test(err.message) ? `${err.message} (raise --max-dates to allow more)` : err.message);
      }

      const out = output();
      if (flags.dryRun) {
        const plan = await orUnreachable(
          'the warehouse database',
          planDates(session().warehouse(), { dagId, logicalDates: dates.map(formatLogicalDate), reprocess }),
        );
        out.result({ dagId, dryRun: true, dates: plan }, () =>
          [
            table(['LOGICAL DATE', 'LAST STATE', 'ACTION'], plan.map((p) => [p.logicalDate, p.lastState ?? '-', p.action])),
            `${plan.filter((p) => p.action === 'run' || p.action === 'rerun').length} of ${plan.length} dates would run; nothing started (dry run)`,
          ].join('\n'),
        );
        return;
      }
      const client = await session().temporal();
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
        renderProgress(dagId, settled, p.total, `ok ${p.counts.success} failed ${p.counts.failed} skipped ${p.counts.skipped} running ${p.counts.running} ${p.state}`);
        if (p.state === 'done' || p.state === 'cancelled') {
          endProgress();
          out.result({ backfillId, ...p }, () => `${backfillId}: ${p.state}; ${p.counts.success} succeeded, ${p.counts.failed} failed, ${p.counts.skipped} skipped`);
          if (p.counts.failed > 0) throw new CliError(`${p.counts.failed} date(s) failed; re-run them with --reprocess failed`);
          return;
        }
        await sleep(1000);
      }
    });

  const backfills = program.command('backfills').description('follow or steer a running backfill');
  backfills
    .command('status <backfillId>')
    .description('progress of a backfill, date by date')
    .action(async (backfillId: string) => {
      const p = await backfillProgress(await session().temporal(), backfillId);
      output().result(p, () =>
        [
          `${backfillId}: ${p.state}; ${p.counts.success} succeeded, ${p.counts.failed} failed, ${p.counts.skipped} skipped, ${p.counts.running} running, ${p.counts.pending} pending`,
          table(['LOGICAL DATE', 'OUTCOME', 'NOTE'], p.dates.map((d) => [d.logicalDate, d.outcome, d.note])),
        ].join('\n'),
      );
    });
  for (const action of ['pause', 'resume', 'cancel'] as const) {
    backfills
      .command(`${action} <backfillId>`)
      .description(action === 'cancel' ? 'start no more dates; runs in flight finish' : `${action} starting new dates`)
      .action(async (backfillId: string) => {
        await controlBackfill(await session().temporal(), backfillId, action);
        output().result({ backfillId, action }, () => `${backfillId}: ${action} sent`);
      });
  }
}
