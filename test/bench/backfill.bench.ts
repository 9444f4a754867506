/**
 * Backfill benchmark: wall time of a 365-date backfill of a small DAG (two dependent tasks) at
 * concurrency 8, on the same task queues and workers production uses. Prints numbers; asserts
 * nothing. Run with `npm run bench:backfill`.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { dag } from '../../dags/sdk';
import { backfillProgress, startBackfill } from '../../server/client/backfill';
import { fireTimes } from '../../server/schedules/fire-times';
import { backfillQueue } from '../../workflows/backfill';
import { echo, testTasks } from '../fixtures/tasks';
import { compileOrThrow } from '../support/dag-runs';
import { startTestWorker } from '../support/test-worker';

const TQ = 'bench-backfill';

async function main(): Promise<void> {
  const live = await startTestWorker(testTasks, TQ);
  const backfills = await startTestWorker(testTasks, backfillQueue(TQ));
  try {
    const spec = compileOrThrow(
      dag('bench_backfill', { taskQueue: TQ, schedule: '0 3 * * *' }, ({ task, ctx }) => {
        const first = task(echo, { label: ctx.logicalDate }, { id: 'extract' });
        task(echo, { label: 'load', from: first.field('label') }, { id: 'load' });
      }),
      testTasks,
    );
    const dates = fireTimes('0 3 * * *', 'UTC', new Date('2025-01-01T00:00:00Z'), new Date('2025-12-31T23:59:59Z'), 1000);
    const started = Date.now();
    const id = await startBackfill(live.client, spec, { logicalDates: dates, concurrency: 8, reprocess: 'none', params: {} });
    for (;;) {
      const p = await backfillProgress(live.client, id);
      if (p.state === 'done') {
        const wallMs = Date.now() - started;
        console.log(JSON.stringify({ dates: dates.length, concurrency: 8, tasksPerRun: 2, wallMs, runsPerSecond: +(dates.length / (wallMs / 1000)).toFixed(1), counts: p.counts }, null, 2));
        return;
      }
      await sleep(500);
    }
  } finally {
    await live.stop();
    await backfills.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
