/**
 * ETL benchmark: `daily_etl` for one day of ~1 M order items (and ~5 M), on a worker process of
 * its own, against a bare `COPY ... FROM STDIN` of the same item rows measured in the same run.
 * Prints end-to-end rows per second, the ratio to the bare COPY, the worker's peak RSS and where
 * the time went per task. Asserts nothing. Run with `npm run bench:etl`; choose sizes with
 * `SLUICE_BENCH_ETL_ITEMS=1000000,5000000` (the default).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { copyIn, copyOut } from '../../activities/lib';
import { createKnex } from '../../infra/db/knex';
import { ensureBucket } from '../../infra/s3';
import { seedDemo } from '../../server/demo';
import { stateQuery } from '../../workflows/messages';
import { testConfig, testS3Client, testTemporal } from '../support/env';
import { dailyRunDate, runAndWait, shippedDags } from '../support/pipelines';

const SIZES = (process.env.SLUICE_BENCH_ETL_ITEMS ?? '1000000,5000000').split(',').map(Number);
/** The seed's orders carry 2.5 items on average. */
const ITEMS_PER_ORDER = 2.5;
const CLI = path.resolve(__dirname, '../../server/cli/sluice.js');

const config = testConfig();

async function main(): Promise<void> {
  const s3 = testS3Client();
  const source = createKnex(config.postgres.sourceDatabaseUrl, { maxConnections: 4 });
  const warehouse = createKnex(config.postgres.databaseUrl, { maxConnections: 4 });
  const { client, connection } = await testTemporal();
  const { specs } = shippedDags('sluice');
  const spec = specs.get('daily_etl')!;
  await ensureBucket(s3, config.s3.bucket);
  const results = [];
  try {
    for (const [index, items] of SIZES.entries()) {
      const day = `2026-01-${String(5 + index).padStart(2, '0')}`;
      const seedStart = Date.now();
      const manifest = await seedDemo({ source, s3, bucket: config.s3.bucket, start: day, days: 1, ordersPerDay: Math.round(items / ITEMS_PER_ORDER), seed: 11, sessionsPerOrder: 0 });
      const seeded = manifest.perDay[0]!;
      const seedSeconds = (Date.now() - seedStart) / 1000;

      const bare = await bareCopy(source, warehouse, day);
      const worker = await startWorker();
      try {
        const started = Date.now();
        const run = await runAndWait(client, spec, dailyRunDate(day), { rerun: true });
        const seconds = (Date.now() - started) / 1000;
        if (run.state !== 'success') throw new Error(`daily_etl failed: ${run.failedTasks.join('; ')}`);
        const status = await client.workflow.getHandle(run.runId).query(stateQuery);
        const peakRssMb = peakRss(worker);
        const itemsPerSecond = seeded.orderItems / seconds;
        results.push({
          orderItems: seeded.orderItems,
          orders: seeded.orders,
          partnerRows: seeded.partnerRows,
          seedSeconds: round(seedSeconds),
          pipelineSeconds: round(seconds),
          pipelineItemsPerSecond: Math.round(itemsPerSecond),
          bareCopySeconds: round(bare.seconds),
          bareCopyRowsPerSecond: Math.round(bare.rows / bare.seconds),
          ratioToBareCopy: round(itemsPerSecond / (bare.rows / bare.seconds)),
          workerPeakRssMb: peakRssMb,
          taskSeconds: Object.fromEntries(
            status.tasks
              .filter((t) => t.startedAt && t.endedAt)
              .map((t) => [t.id, round((Date.parse(t.endedAt!) - Date.parse(t.startedAt!)) / 1000)]),
          ),
        });
        console.log(JSON.stringify(results.at(-1), null, 2));
      } finally {
        await stopWorker(worker);
      }
    }
  } finally {
    await connection.close();
    await source.destroy();
    await warehouse.destroy();
    s3.destroy();
  }
}

/** The day's item rows, source → warehouse, through nothing but COPY TO and COPY FROM. */
async function bareCopy(source: ReturnType<typeof createKnex>, warehouse: ReturnType<typeof createKnex>, day: string): Promise<{ rows: number; seconds: number }> {
  await warehouse.raw('drop table if exists public.bench_bare_copy');
  await warehouse.raw('create table public.bench_bare_copy (order_item_id bigint, order_id bigint, product_id bigint, quantity int, unit_price numeric(12,2), created_at timestamptz)');
  const started = Date.now();
  const bytes = await copyOut(source, source('order_items').select('order_item_id', 'order_id', 'product_id', 'quantity', 'unit_price', 'created_at').where('created_at', '>=', day).andWhere('created_at', '<', source.raw(`?::date + 1`, [day])));
  const rows = await copyIn(warehouse, 'public.bench_bare_copy', ['order_item_id', 'order_id', 'product_id', 'quantity', 'unit_price', 'created_at'], bytes);
  const seconds = (Date.now() - started) / 1000;
  await warehouse.raw('drop table public.bench_bare_copy');
  return { rows, seconds };
}

/** `sluice worker` in a process of its own (the production worker), ready when it polls. */
async function startWorker(): Promise<ChildProcess> {
  const child = fork(CLI, ['worker'], { env: { ...process.env, LOG_LEVEL: 'warn' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((resolve, reject) => {
    child.on('message', (m: { type?: string }) => m.type === 'ready' && resolve());
    child.once('exit', (code) => reject(new Error(`worker exited with ${String(code)}`)));
  });
  return child;
}

async function stopWorker(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** The process's peak resident set (VmHWM), in MB. */
function peakRss(child: ChildProcess): number {
  const status = readFileSync(`/proc/${String(child.pid)}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

const round = (n: number) => Math.round(n * 100) / 100;

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
