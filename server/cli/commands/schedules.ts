import type { Command } from 'commander';
import { loadDags } from '../../dag-registry';
import { setPaused, scheduleStatus, unpausePreview } from '../../schedules/status';
import { syncSchedules } from '../../schedules/sync';
import { badInput } from '../errors';
import { table, type Output } from '../output';
import type { Session } from '../session';
import { findOrBadInput } from './dags';

export function registerScheduleCommands(program: Command, output: () => Output, session: () => Session): void {
  const schedules = program.command('schedules').description('Temporal Schedules that follow the DAG definitions');

  schedules
    .command('sync')
    .description('create, update and delete schedules to match the DAGs (keeps operator pauses)')
    .action(async () => {
      const report = await syncSchedules(await session().temporal(), loadDags().dags.map((d) => d.spec));
      output().result(report, () =>
        (['created', 'updated', 'deleted', 'unchanged'] as const).map((k) => `${k}: ${report[k].join(', ') || '-'}`).join('\n'),
      );
    });

  schedules
    .command('list')
    .description("each scheduled DAG's cron, time zone, paused state, last and next fire")
    .action(async () => {
      const client = await session().temporal();
      const scheduled = loadDags().dags.filter((d) => d.spec.schedule);
      const rows = await Promise.all(scheduled.map((d) => scheduleStatus(client, d.spec)));
      output().result({ schedules: rows }, () =>
        table(
          ['DAG', 'CRON', 'TIME ZONE', 'CATCHUP', 'STATE', 'LAST FIRE', 'NEXT FIRE'],
          rows.map((r) => [r.dagId, r.cron, r.timezone, r.catchup ? 'on' : 'off', r.exists ? (r.paused ? `paused${r.note ? ` (${r.note})` : ''}` : 'active') : 'not synced', r.lastFire, r.nextFires[0]]),
        ),
      );
    });

  schedules
    .command('pause <dagId>')
    .description('pause a DAG\'s schedule (sync keeps it paused)')
    .option('--note <text>', 'why, shown in `schedules list` and the Temporal UI', 'paused with sluice')
    .action(async (dagId: string, flags: { note: string }) => {
      const { spec } = scheduledOrBadInput(dagId);
      await setPaused(await session().temporal(), spec.dagId, true, flags.note);
      output().result({ dagId, paused: true, note: flags.note }, () => `${dagId}: paused (${flags.note})`);
    });

  schedules
    .command('unpause <dagId>')
    .description('resume a DAG\'s schedule; prints how many runs that starts before doing it')
    .option('--note <text>', 'why', 'unpaused with sluice')
    .action(async (dagId: string, flags: { note: string }) => {
      const { spec } = scheduledOrBadInput(dagId);
      const client = await session().temporal();
      const preview = await unpausePreview(client, spec);
      await setPaused(client, spec.dagId, false, flags.note);
      output().result({ dagId, paused: false, ...preview }, () =>
        [
          `${dagId}: unpaused; runs started now: ${preview.runsStartedNow}; next fire: ${preview.nextFire ?? 'unknown'}`,
          preview.missedWhilePaused.length > 0
            ? `${preview.missedWhilePaused.length} fire time(s) passed while paused (${String(preview.missedWhilePaused[0])} … ${String(preview.missedWhilePaused.at(-1))}); they do not run unless you backfill them`
            : 'no fire time passed while paused',
        ].join('\n'),
      );
    });
}

function scheduledOrBadInput(dagId: string) {
  const found = findOrBadInput(dagId);
  if (!found.spec.schedule) throw badInput(`DAG '${dagId}' has no schedule (manual runs only)`);
  return found;
}
