import type { Command } from 'commander';
import { clearTask, ClearRefusedError } from '../../client/clear';
import { CliError } from '../errors';
import type { Output } from '../output';
import type { Session } from '../session';

export function registerClear(program: Command, output: () => Output, session: () => Session): void {
  program
    .command('clear <runId> <taskId>')
    .description('re-run a task that already ran (and, with --downstream, everything after it), also on a closed run')
    .option('--downstream', 'also re-run every task downstream of it')
    .action(async (runId: string, taskId: string, flags: { downstream?: boolean }) => {
      let outcome;
      try {
        outcome = await clearTask(await session().temporal(), runId, taskId, { downstream: Boolean(flags.downstream) });
      } catch (err) {
        if (err instanceof ClearRefusedError) throw new CliError(`refused: ${err.message}`);
        throw err;
      }
      output().result(outcome, () =>
        outcome.mode === 'open'
          ? `${runId}: re-running ${outcome.tasks.join(', ')}`
          : `${runId} had finished: started a new execution that re-runs ${outcome.tasks.join(', ')} and keeps every other task's result`,
      );
    });
}
