import type { Command } from 'commander';
import { probeConnection } from '../../../infra/connection-probe';
import { loadConnections, type ConnectionEntry } from '../../../infra/connections';
import { closeResources, openResources } from '../../../workers/resources';
import { badInput, EXIT } from '../errors';
import { table, type Output } from '../output';
import type { Session } from '../session';

/** `sluice connections list|test [name]` and `sluice variables list`: what tasks get as `ctx.conn` and `ctx.vars`. */
export function registerConnectionCommands(program: Command, output: () => Output, session: () => Session): void {
  const connections = program
    .command('connections')
    .description('named connections: built-ins, SLUICE_CONN_<NAME> and the secrets file');

  connections
    .command('list')
    .description('each connection: name, kind, source (env, file, built-in) and URI, password masked')
    .action(() => {
      const { file, connections: entries } = loadConnections(session().config);
      const rows = entries.map(describe);
      output().result({ secretsFile: file, connections: rows }, () =>
        [
          table(['NAME', 'KIND', 'SOURCE', 'URI'], rows.map((r) => [r.name, r.kind, r.source, r.uri])),
          `secrets file: ${file.path}${file.found ? '' : ' (not found)'}`,
        ].join('\n'),
      );
    });

  connections
    .command('test [name]')
    .description('checks each connection, or one (pg: select 1; s3: list one key; http: HEAD); exit 1 when any fails')
    .action(async (name: string | undefined) => {
      const resources = openResources(session().config);
      try {
        const pool = resources.connections;
        if (name !== undefined && !pool.entries.some((e) => e.name === name)) {
          throw badInput(`unknown connection '${name}'; connections: ${pool.entries.map((e) => e.name).sort().join(', ')}`);
        }
        const chosen = pool.entries.filter((e) => name === undefined || e.name === name);
        const results = await Promise.all(chosen.map(async (e) => ({ ...describe(e), ...(await probeConnection(pool, e)) })));
        const ok = results.every((r) => r.ok);
        if (!ok) process.exitCode = EXIT.failed;
        output().result({ ok, connections: results }, () =>
          table(
            ['NAME', 'KIND', 'RESULT', 'DETAIL'],
            results.map((r) => [r.name, r.kind, r.ok ? 'ok' : 'failed', `${r.detail} (${r.ms} ms)`]),
          ),
        );
      } finally {
        await closeResources(resources);
      }
    });

  program
    .command('variables')
    .description('variables from SLUICE_VAR_<NAME> and the secrets file')
    .command('list')
    .description('each variable: name, value and source (values are shown: variables are not secrets)')
    .action(() => {
      const { file, variables } = loadConnections(session().config);
      const rows = variables.map(({ name, value, source }) => ({ name, value, source }));
      output().result({ secretsFile: file, variables: rows }, () =>
        [
          table(['NAME', 'SOURCE', 'VALUE'], rows.map((r) => [r.name, r.source, r.value])),
          `secrets file: ${file.path}${file.found ? '' : ' (not found)'}`,
        ].join('\n'),
      );
    });
}

function describe({ name, spec, source, uri }: ConnectionEntry) {
  return { name, kind: spec.kind, source, uri };
}
