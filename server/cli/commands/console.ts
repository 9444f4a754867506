import type { Command } from 'commander';
import { createKnex } from '../../../infra/db/knex';
import { createLogger } from '../../../infra/logger';
import { serveConsole } from '../../console/serve';
import { loadDags } from '../../dag-registry';
import type { Output } from '../output';
import type { Session } from '../session';

/**
 * `sluice console`: the console alone, against the configured servers, for a deployment where
 * workers, Temporal, Postgres and S3 run elsewhere (`sluice up` serves it beside everything else).
 * It starts no server of its own and runs no migrations (`sluice db migrate` does). SIGTERM or
 * Ctrl-C closes it.
 */
export function registerConsole(program: Command, output: () => Output, session: () => Session): void {
  program
    .command('console')
    .description('serve the console and REST API alone, against the configured Temporal and Postgres (SIGTERM stops it)')
    .action(async () => {
      const log = createLogger('console');
      const { config } = session();
      const temporal = await session().temporal();
      const db = createKnex(config.postgres.databaseUrl, { maxConnections: 5 });
      const dags = loadDags(config.dagsDir);
      for (const error of dags.errors) log.error(error);
      try {
        const served = await serveConsole({ config, temporal, db, log, dags: () => dags.dags.map((d) => d.spec) });
        output().result({ consoleUrl: served.url }, () => `console listening on ${config.console.host}:${config.console.port} (${served.url})`);
        await new Promise<void>((resolve) => {
          process.once('SIGTERM', resolve);
          process.once('SIGINT', resolve);
        });
        log.info('stopping the console');
        await served.close();
      } finally {
        await db.destroy();
      }
    });
}
