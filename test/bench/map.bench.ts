/**
 * Large fan-out benchmark: the wall time of a DAG that maps a no-op task over 10,000 and 50,000
 * elements and sums the outputs, from start to result. Above 5,000 elements the map runs in
 * child workflows of 2,000 instances (workflows/map-batch.ts). Prints numbers; asserts only that
 * the sum is right. Run with `npm run bench:map`; sizes with `SLUICE_BENCH_MAP_SIZES=10000,50000`.
 */
import { dag } from '../../dags/sdk';
import { stateQuery } from '../../workflows/messages';
import { add, double, range, testTasks } from '../fixtures/tasks';
import { compileOrThrow, startRun } from '../support/dag-runs';
import { startTestWorker } from '../support/test-worker';

const SIZES = (process.env.SLUICE_BENCH_MAP_SIZES ?? '10000,50000').split(',').map(Number);
const MAX_ACTIVE_TASKS = 64;
const TQ = 'bench-map';

async function main(): Promise<void> {
  const w = await startTestWorker(testTasks, TQ);
  try {
    for (const n of SIZES) {
      const spec = compileOrThrow(
        dag(`bench_map_${n}`, { taskQueue: TQ, maxActiveTasks: MAX_ACTIVE_TASKS }, ({ task, map }) => {
          const numbers = task(range, { n });
          task(add, { values: map(double, { over: numbers, input: (v) => ({ value: v }) }, { id: 'doubled' }) }, { id: 'total' });
        }),
        testTasks,
      );
      const started = Date.now();
      const run = await startRun(w.client, spec);
      await run.handle.result();
      const wallMs = Date.now() - started;
      const status = await run.handle.query(stateQuery);
      const total = status.tasks.find((t) => t.id === 'total')?.output;
      if (total !== n * (n - 1)) throw new Error(`wrong sum for ${n}: ${String(total)}`);
      const doubled = status.tasks.find((t) => t.id === 'doubled');
      console.log(
        JSON.stringify({
          elements: n,
          maxActiveTasks: MAX_ACTIVE_TASKS,
          childWorkflows: n > 5000 ? Math.ceil(n / 2000) : 0,
          wallSeconds: Math.round(wallMs / 100) / 10,
          instancesPerSecond: Math.round(n / (wallMs / 1000)),
          attempts: doubled?.attempts,
          stateQueryBytes: JSON.stringify(status).length,
        }),
      );
    }
  } finally {
    await w.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
