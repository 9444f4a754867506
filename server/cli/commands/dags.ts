import type { Command } from 'commander';
import { loadConfig } from '../../../infra/config';
import { dagAssets, describeAssetSchedule } from '../../assets/asset-graph';
import { findDag, loadDags, UnknownDagError } from '../../dag-registry';
import { typecheckDagFolder } from '../../dag-typecheck';
import { DagTestInputError, runDag, type DagTestEvent } from '../../testing/run-dag';
import { badInput, CliError, EXIT } from '../errors';
import { confFlag } from '../flags';
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
        schedule: spec.schedule ? `${spec.schedule.cron} (${spec.schedule.timezone})` : spec.assetSchedule ? describeAssetSchedule(spec.assetSchedule) : null,
        ...(spec.assetSchedule ? { assetSchedule: spec.assetSchedule } : {}),
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
    .description('type-check and load every DAG and report each problem; non-zero exit when any')
    .option('--no-typecheck', 'skip the TypeScript type check (a few seconds); load and validate only')
    .action((flags: { typecheck: boolean }) => {
      const loaded = loadDags();
      const errors = [...(flags.typecheck ? typecheckDagFolder(loadConfig().dagsDir) : []), ...loaded.errors];
      const result = { valid: errors.length === 0, dags: loaded.dags.length, errors };
      if (errors.length > 0) {
        output().failed(result, () => `${errors.length} problem(s):\n${errors.map((e) => `  - ${e}`).join('\n')}`, `DAG validation failed with ${errors.length} problem(s)`);
      }
      output().result(result, () => `${loaded.dags.length} DAGs valid${flags.typecheck ? ' (type-checked)' : ''}`);
    });

  registerDagTest(dags, output);

  dags
    .command('show <dagId>')
    .description("one DAG's tasks and edges, and the assets it writes or is scheduled on")
    .action((dagId: string) => {
      const loaded = loadDags();
      const { spec, file } = findOrBadInput(dagId, loaded);
      const assets = dagAssets(loaded.dags.map((d) => d.spec), spec);
      const schedule = spec.schedule ? `${spec.schedule.cron} ${spec.schedule.timezone}` : spec.assetSchedule ? describeAssetSchedule(spec.assetSchedule) : 'manual only';
      output().result({ file, spec, assets }, () =>
        [
          `${spec.dagId} (version ${spec.version}) from ${file}`,
          spec.description ?? '',
          `schedule: ${schedule}; ${spec.schedule ? `catchup ${spec.catchup ? 'on' : 'off'}; ` : ''}max active tasks ${spec.maxActiveTasks}`,
          ...assetLines(assets),
          '',
          table(
            ['TASK', 'ACTIVITY', 'KIND', 'UPSTREAM', 'TRIGGER RULE', 'RETRIES', ...(assets.outlets.length > 0 ? ['OUTLETS'] : [])],
            spec.tasks.map((t) => [t.id, t.activity, t.kind, t.upstream.join(', '), t.triggerRule, t.retry.retries, ...(assets.outlets.length > 0 ? [(t.outlets ?? []).join(', ')] : [])]),
          ),
        ].join('\n'),
      );
    });
}

/** `sluice dags test`: one run on a private task queue, its task states and logs printed as they happen. */
function registerDagTest(dags: Command, output: () => Output): void {
  dags
    .command('test <dagId>')
    .description('run one DAG run end to end on a private task queue, printing task states and logs as it goes (like `airflow dags test`)')
    .option('--date <date>', "logical date: YYYY-MM-DD (the schedule's fire time that day) or an instant (default: now)")
    .option('--conf <json>', "params as a JSON object (or @file.json), checked against the DAG's params schema")
    .action(async (dagId: string, flags: { date?: string; conf?: string }) => {
      const { definition } = findOrBadInput(dagId);
      const started = Date.now();
      const out = output();
      let result;
      try {
        result = await runDag(definition, {
          ...(flags.date === undefined ? {} : { date: flags.date }),
          params: confFlag(flags.conf) as Record<string, unknown>,
          onEvent: (event) => out.info(formatEvent(event)),
        });
      } catch (err) {
        if (err instanceof DagTestInputError) throw badInput(err.message);
        if (isConnectionError(err)) throw new CliError(`cannot reach Temporal (${(err as Error).message}); is \`sluice up\` running?`, EXIT.unreachable);
        throw err;
      }
      const counts = Object.values(result.tasks).reduce<Record<string, number>>((c, t) => ({ ...c, [t.state]: (c[t.state] ?? 0) + 1 }), {});
      out.result(result, () =>
        `${result.runId}: ${result.state} in ${((Date.now() - started) / 1000).toFixed(1)} s (${Object.entries(counts).map(([state, n]) => `${n} ${state}`).join(', ')})${result.error ? `\n${result.error}` : ''}`,
      );
      if (result.state !== 'success') process.exitCode = EXIT.failed;
    });
}

function formatEvent(event: DagTestEvent): string {
  const time = event.at.slice(11, 23);
  if (event.kind === 'task') {
    const attempt = event.state === 'running' || event.attempts > 1 ? ` (attempt ${event.attempts})` : '';
    return `${time}  ${event.taskId.padEnd(24)}  ${event.state}${attempt}${event.error ? `: ${event.error}` : ''}`;
  }
  const where = event.mapIndex === undefined ? event.taskId : `${event.taskId}[${event.mapIndex}]`;
  return `${time}  ${where.padEnd(24)}  | ${event.level === 'info' ? '' : `${event.level} `}${event.msg}${event.data ? ` ${JSON.stringify(event.data)}` : ''}`;
}

function isConnectionError(err: unknown): boolean {
  return err instanceof Error && /TransportError|ECONNREFUSED|Failed to connect|tcp connect error/i.test(`${err.name} ${err.message}`);
}

/** `scheduled on assets: a (from etl.load); b (no producer in the DAG folder)`, and the DAGs this one's outlets start. */
function assetLines(assets: ReturnType<typeof dagAssets>): string[] {
  const lines: string[] = [];
  if (assets.scheduledOn.length > 0) {
    const from = (p: (typeof assets.scheduledOn)[number]) =>
      p.producers.length > 0 ? `from ${p.producers.map((x) => `${x.dagId}.${x.taskId}`).join(', ')}` : 'no producer in the DAG folder';
    lines.push(`scheduled on assets: ${assets.scheduledOn.map((p) => `${p.asset} (${from(p)})`).join('; ')}`);
  }
  if (assets.consumers.length > 0) lines.push(`DAGs scheduled on its outlets: ${assets.consumers.map((c) => `${c.dagId} (on ${c.assets.join(', ')})`).join('; ')}`);
  return lines;
}

export function findOrBadInput(dagId: string, loaded = loadDags()) {
  try {
    return findDag(loaded, dagId);
  } catch (err) {
    if (err instanceof UnknownDagError) throw badInput(err.message);
    throw err;
  }
}
