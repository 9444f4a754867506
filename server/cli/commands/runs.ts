import type { Command } from 'commander';
import { z } from 'zod';
import { failRun, markTaskSuccess, retryRun } from '../../client/operator';
import { listAttempts, listRuns, runRecorded, type AttemptRow } from '../../client/run-history';
import { badInput } from '../errors';
import { table, type Output } from '../output';
import type { Session } from '../session';
import { findOrBadInput } from './dags';

const RunState = z.enum(['queued', 'running', 'awaiting_operator', 'success', 'failed']);

export function registerRunCommands(program: Command, output: () => Output, session: () => Session): void {
  program
    .command('runs <dagId>')
    .description('list runs: id, logical date, state, duration, failed tasks')
    .option('--state <state>', `only runs in this state (${RunState.options.join(', ')})`)
    .option('--limit <n>', 'most runs to list', '20')
    .action(async (dagId: string, flags: { state?: string; limit: string }) => {
      findOrBadInput(dagId);
      const state = flags.state === undefined ? undefined : RunState.safeParse(flags.state);
      if (state && !state.success) throw badInput(`--state must be one of ${RunState.options.join(', ')}`);
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw badInput('--limit must be a positive whole number');
      const runs = await listRuns(session().warehouse(), { dagId, state: state?.data, limit });
      output().result({ runs }, () =>
        table(
          ['RUN', 'LOGICAL DATE', 'STATE', 'TRIGGER', 'DURATION', 'FAILED TASKS'],
          runs.map((r) => [r.runId, r.logicalDate, r.state, r.trigger, r.durationMs === null ? '' : `${(r.durationMs / 1000).toFixed(1)}s`, r.failedTasks.join(', ')]),
        ),
      );
    });

  program
    .command('retry <runId>')
    .description('re-run the failed tasks of a run (or one task); succeeded tasks never re-run')
    .option('--task <taskId>', 'retry only this failed task')
    .action(async (runId: string, flags: { task?: string }) => {
      const outcome = await retryRun(await session().temporal(), runId, flags.task);
      output().result({ runId, ...outcome }, () => `${runId}: retrying ${outcome.tasks.join(', ')}`);
    });

  program
    .command('mark-success <runId> <taskId>')
    .description("mark a failed task successful so its downstream tasks run")
    .action(async (runId: string, taskId: string) => {
      const outcome = await markTaskSuccess(await session().temporal(), runId, taskId);
      output().result({ runId, ...outcome }, () => `${runId}: marked ${taskId} successful; reopened ${outcome.tasks.slice(1).join(', ') || 'nothing'}`);
    });

  program
    .command('fail <runId>')
    .description('fail a run now (runs its failure callback)')
    .option('--reason <text>', 'why, recorded with the failure')
    .action(async (runId: string, flags: { reason?: string }) => {
      await failRun(await session().temporal(), runId, flags.reason);
      output().result({ runId, failed: true }, () => `${runId}: failing`);
    });

  program
    .command('logs <runId> <taskId>')
    .description("one task's attempts with their log lines, in every execution of the run (reruns too), oldest first")
    .action(async (runId: string, taskId: string) => {
      const db = session().warehouse();
      const attempts = await listAttempts(db, runId, taskId);
      if (attempts.length === 0 && !(await runRecorded(db, runId))) throw badInput(`no such run: ${runId} (sluice.dag_runs has no record of it)`);
      output().result({ runId, taskId, attempts }, () => formatAttempts(attempts) || `no attempts of ${taskId} recorded`);
    });
}

/** Attempts under one heading per execution, so a rerun's attempts never pass for the first run's. */
function formatAttempts(attempts: AttemptRow[]): string {
  const executions = [...new Set(attempts.map((a) => a.execution.temporalRunId))];
  return executions
    .map((temporalRunId, i) => {
      const own = attempts.filter((a) => a.execution.temporalRunId === temporalRunId);
      const { trigger, startedAt } = (own[0] as AttemptRow).execution;
      const heading = `execution ${i + 1} of ${executions.length}: ${temporalRunId} (${trigger ?? 'trigger unknown'}, started ${startedAt ?? 'unknown'})`;
      const lines = own.map((a) =>
        [
          `  attempt ${a.attempt}${a.mapIndex === null ? '' : ` [${a.mapIndex}]`}: ${a.state} ${a.startedAt} → ${a.endedAt ?? '…'} on ${a.worker}${a.error ? `\n    error: ${a.error}` : ''}`,
          ...(a.logs as Array<{ at: string; level: string; msg: string }>).map((l) => `    ${l.at} ${l.level} ${l.msg}`),
        ].join('\n'),
      );
      return [heading, ...lines].join('\n');
    })
    .join('\n');
}
