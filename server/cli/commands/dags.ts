import type { Command } from 'commander';
import { findDag, loadDags, UnknownDagError } from '../../dag-registry';
import { badInput, CliError, EXIT } from '../errors';
import { table, type Output } from '../output';

export function registerDagCommands(program: Command, output: () => Output): void {
  const dags = program.command('dags').description('list, validate and inspect DAG definitions');

  dags
    .command('list')
    .description('every DAG with its schedule and version')
    .action(() => {
      const loaded = loadDags();
      const rows = loaded.dags.map(({ spec, file }) => ({
        dagId: spec.dagId,
        schedule: spec.schedule ? `${spec.schedule.cron} (${spec.schedule.timezone})` : null,
        version: spec.version,
        tasks: spec.tasks.length,
        tags: spec.tags,
        file,
      }));
      output().result({ dags: rows, errors: loaded.errors }, () =>
        [
          table(['DAG', 'SCHEDULE', 'VERSION', 'TASKS', 'TAGS'], rows.map((r) => [r.dagId, r.schedule ?? 'manual', r.version, r.tasks, r.tags.join(',')])),
          ...loaded.errors.map((e) => `error: ${e}`),
        ].join('\n'),
      );
      if (loaded.errors.length > 0) process.exitCode = EXIT.failed;
    });

  dags
    .command('validate')
    .description('load every DAG and report each problem; non-zero exit when any')
    .action(() => {
      const loaded = loadDags();
      output().result({ valid: loaded.errors.length === 0, dags: loaded.dags.length, errors: loaded.errors }, () =>
        loaded.errors.length === 0
          ? `${loaded.dags.length} DAGs valid`
          : `${loaded.errors.length} problem(s):\n${loaded.errors.map((e) => `  - ${e}`).join('\n')}`,
      );
      if (loaded.errors.length > 0) throw new CliError(`DAG validation failed with ${loaded.errors.length} problem(s)`);
    });

  dags
    .command('show <dagId>')
    .description("one DAG's tasks and edges")
    .action((dagId: string) => {
      const { spec, file } = findOrBadInput(dagId);
      output().result({ file, spec }, () =>
        [
          `${spec.dagId} (version ${spec.version}) from ${file}`,
          spec.description ?? '',
          `schedule: ${spec.schedule ? `${spec.schedule.cron} ${spec.schedule.timezone}` : 'manual only'}; catchup ${spec.catchup ? 'on' : 'off'}; max active tasks ${spec.maxActiveTasks}`,
          '',
          table(
            ['TASK', 'ACTIVITY', 'KIND', 'UPSTREAM', 'TRIGGER RULE', 'RETRIES'],
            spec.tasks.map((t) => [t.id, t.activity, t.kind, t.upstream.join(', '), t.triggerRule, t.retry.retries]),
          ),
        ].join('\n'),
      );
    });
}

export function findOrBadInput(dagId: string) {
  try {
    return findDag(loadDags(), dagId);
  } catch (err) {
    if (err instanceof UnknownDagError) throw badInput(err.message);
    throw err;
  }
}
