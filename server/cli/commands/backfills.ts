import type { Command } from 'commander';
import { backfillProgress, controlBackfill } from '../../client/backfill';
import { listBackfills } from '../../client/backfill-list';
import { badInput } from '../errors';
import { positiveIntFlag } from '../flags';
import { table, type Output } from '../output';
import type { Session } from '../session';

/** `sluice backfills ...`: find the backfills started with `sluice backfill`, follow and steer them. */
export function registerBackfills(program: Command, output: () => Output, session: () => Session): void {
  const backfills = program.command('backfills').description('find, follow or steer backfills');

  backfills
    .command('list [dagId]')
    .description('backfills, newest first: id, state, range and how their dates went')
    .option('--limit <n>', 'most backfills to list', '20')
    .action(async (dagId: string | undefined, flags: { limit: string }) => {
      // No check that the DAG exists: its backfills outlive its file.
      if (dagId !== undefined && !/^[a-z0-9_]+$/.test(dagId)) throw badInput(`'${dagId}' is not a DAG id ([a-z0-9_]+)`);
      const limit = positiveIntFlag('--limit', flags.limit);
      const found = await listBackfills(await session().temporal(), { dagId, limit });
      // '?': a running backfill whose worker does not answer, or one that ended without a result.
      const count = (n: number | undefined) => n ?? '?';
      output().result({ backfills: found }, () =>
        found.length === 0
          ? `no backfills${dagId ? ` of ${dagId}` : ''}`
          : table(
              ['BACKFILL', 'STATE', 'FROM', 'TO', 'DATES', 'SUCCEEDED', 'FAILED', 'SKIPPED', 'IN FLIGHT', 'PENDING'],
              found.map((b) => [
                b.backfillId,
                b.state,
                b.from,
                b.to,
                b.total,
                count(b.counts?.success),
                count(b.counts?.failed),
                count(b.counts?.skipped),
                count(b.counts?.running),
                count(b.counts?.pending),
              ]),
            ),
      );
    });

  backfills
    .command('status <backfillId>')
    .description('progress of a backfill, date by date')
    .action(async (backfillId: string) => {
      const p = await backfillProgress(await session().temporal(), backfillId);
      output().result(p, () =>
        [
          `${backfillId}: backfill ${p.state}; dates: ${p.counts.success} succeeded, ${p.counts.failed} failed, ${p.counts.skipped} skipped, ${p.counts.running} in flight, ${p.counts.pending} pending`,
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
