import type { Command } from 'commander';
import { loadConfig, type Config } from '../../../infra/config';
import { createKnex } from '../../../infra/db/knex';
import { createLogger } from '../../../infra/logger';
import { createS3Client, ensureBucket } from '../../../infra/s3';
import { findDag } from '../../dag-registry';
import { startDagRun } from '../../client/start-run';
import { waitForOutcome } from '../../client/wait';
import { recentDaysStart, seedDemo, type SeedManifest } from '../../demo';
import { startSluice, type RunningSluice } from '../../start-sluice';
import type { Output } from '../output';

/**
 * `--demo`: a week of a small shop (a few hundred orders a day, ending yesterday) seeded into the
 * source database and the landing zone, then `daily_etl` and `quality_checks` for the latest day. Seeding is
 * idempotent, so every start does it and a new day simply adds itself.
 */
const DEMO = { dag: 'daily_etl', checks: 'quality_checks', days: 7, ordersPerDay: 300, seed: 42 } as const;
const DAY_MS = 86_400_000;

export function registerUp(program: Command, output: () => Output): void {
  program
    .command('up')
    .description('start the stack, a worker process and the console; reload edited DAGs and task code; Ctrl-C stops everything')
    .option('--demo', 'also seed a week of demo shop data and run daily_etl and quality_checks for its latest day')
    .option('--no-watch', 'do not reload DAGs and restart the worker when code under the DAG folder or activities/ changes')
    .action(async (flags: { demo?: boolean; watch: boolean }) => {
      const started = Date.now();
      const log = createLogger('sluice');
      const config = loadConfig();
      const sluice = await startSluice(config, log, { watch: flags.watch });
      let stopping = false;
      const stopped = new Promise<void>((resolve) => {
        const stop = () => {
          stopping = true;
          output().info('stopping…');
          void sluice.stop().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      const out = output();
      const upSeconds = ((Date.now() - started) / 1000).toFixed(1);
      out.result(
        { consoleUrl: sluice.consoleUrl, temporalUiUrl: sluice.temporalUiUrl ?? null, startupSeconds: Number(upSeconds) },
        () =>
          [
            `Sluice is up in ${upSeconds} s`,
            `  console:     ${sluice.consoleLoginUrl}`,
            `  Temporal UI: ${sluice.temporalUiUrl ?? '(external Temporal: use its own UI)'}`,
            `  DAGs:        ${sluice.dags().dags.map((d) => d.spec.dagId).join(', ')}`,
            'Press Ctrl-C to stop.',
          ].join('\n'),
      );
      if (flags.demo) {
        // Once up, only Ctrl-C ends `sluice up`: a demo that fails (no such DAG, a server or the
        // worker restarting) must not end it, and with it every server it runs.
        // Ctrl-C mid-demo stops everything at once, without waiting for a run the stopped worker
        // would never finish.
        await Promise.race([
          runDemo(sluice, config, out).catch((err: unknown) => {
            if (!stopping) out.info(`demo run failed: ${err instanceof Error ? err.message : String(err)}; Sluice keeps running`);
          }),
          stopped,
        ]);
      }
      await stopped;
    });
}

async function runDemo(sluice: RunningSluice, config: Config, out: Output): Promise<void> {
  const seedStart = Date.now();
  const manifest = await seed(config);
  const lastDay = manifest.perDay.at(-1)?.day ?? manifest.start;
  const orders = manifest.perDay.reduce((n, d) => n + d.orders, 0);
  out.info(`demo data: ${orders} orders from ${manifest.start} to ${lastDay} in database shop, partner files under s3://${manifest.bucket}/landing/partner_sales/ (${((Date.now() - seedStart) / 1000).toFixed(1)} s)`);

  const { spec } = findDag(sluice.dags(), DEMO.dag);
  await sluice.workerReady();
  const runStart = Date.now();
  // The daily run whose data interval is the latest seeded day.
  const logicalDate = new Date(Date.parse(`${lastDay}T00:00:00Z`) + DAY_MS);
  const run = await startDagRun(sluice.client, spec, { logicalDate, params: {}, trigger: 'manual' });
  const status = await waitForOutcome(run.handle);
  out.info(`demo run ${run.runId}: ${status.state} in ${((Date.now() - runStart) / 1000).toFixed(1)} s`);
  // The day's quality checks, so the console's data pages have a score to show. quality_checks is
  // scheduled on daily_etl's tables, so the worker starts it as daily_etl ends; starting the same
  // logical date here is a no-op then, and covers a worker that has not yet.
  const checks = await startDagRun(sluice.client, findDag(sluice.dags(), DEMO.checks).spec, { logicalDate, params: {}, trigger: 'manual' });
  out.info(`demo run ${checks.runId}: ${(await waitForOutcome(checks.handle)).state}`);
  const sql = (query: string) => `npx sluice db query "${query}"`;
  out.info(
    [
      'Where to look:',
      `  the run:        ${sluice.consoleUrl}/runs/${encodeURIComponent(run.runId)}`,
      `  the data:       ${sluice.consoleUrl}/data/audit, /data/exceptions, /data/quality and /data/lineage`,
      ...(sluice.temporalUiUrl ? [`  in Temporal:    ${sluice.temporalUiUrl}/namespaces/${config.temporal.namespace}/workflows/${encodeURIComponent(run.runId)}`] : []),
      `  the lake:       s3://${config.s3.bucket}/bronze/<table>/dt=${lastDay}/ and silver/<table>/dt=${lastDay}/ (files under ${config.home}/s3/${config.s3.bucket}/ with the embedded server)`,
      `  star schema:    ${sql(`select source, count(*), sum(revenue) from warehouse.fact_sales where load_date = '${lastDay}' group by source`)}`,
      `  quarantine:     ${sql(`select category, count(*) from ops.exceptions where logical_date = '${lastDay}' group by category`)}`,
      `  audit:          ${sql(`select source, records_in, records_loaded, records_quarantined from ops.audit_log where logical_date = '${lastDay}'`)}`,
      // Logical dates are the midnights after the days they load: the first day's is start + 1.
      `  earlier days:   npx sluice backfill ${DEMO.dag} --from ${dayAfter(manifest.start)} --to ${lastDay}`,
    ].join('\n'),
  );
}

function dayAfter(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + DAY_MS).toISOString().slice(0, 10);
}

async function seed(config: Config): Promise<SeedManifest> {
  const source = createKnex(config.postgres.sourceDatabaseUrl, { maxConnections: 4 });
  const s3 = createS3Client(config);
  try {
    await ensureBucket(s3, config.s3.bucket);
    return await seedDemo({ source, s3, bucket: config.s3.bucket, start: recentDaysStart(DEMO.days), days: DEMO.days, ordersPerDay: DEMO.ordersPerDay, seed: DEMO.seed });
  } finally {
    await source.destroy();
    s3.destroy();
  }
}
