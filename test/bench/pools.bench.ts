/**
 * Slot pool benchmark: what a pool adds to a task's start. Two chains of 100 no-op tasks, one
 * without a pool and one whose every task takes a slot of an uncontended pool, each after a
 * warm-up run; a hop is a task attempt's recorded start minus its upstream's recorded end
 * (`sluice.task_attempts`, as interpreter.bench.ts measures it). With a pool, each hop also holds
 * the ask to the pool's gate, its grant, and the release of the upstream's slots. Prints numbers;
 * asserts nothing. Run with `npm run bench:pools`.
 */
import { dag } from '../../dags/sdk';
import { setPool } from '../../server/client/pools';
import { poolGateId } from '../../workflows/pools';
import { echo, testTasks } from '../fixtures/tasks';
import { compileOrThrow, startRun } from '../support/dag-runs';
import { percentile, recordedHops } from './chain-hops';
import { startTestWorker } from '../support/test-worker';

const TQ = 'bench-pools';
const POOL = `bench-${Date.now().toString(36)}`;
const TASKS = 100;

async function main(): Promise<void> {
  const w = await startTestWorker(testTasks, TQ);
  try {
    await setPool(w.resources.warehouse, w.client, { name: POOL, slots: 4 });
    const chain = (dagId: string, pool?: string) =>
      compileOrThrow(
        dag(dagId, { taskQueue: TQ, ...(pool ? { pool } : {}) }, ({ task }) => {
          let previous = task(echo, { label: 't0' }, { id: 't0' });
          for (let i = 1; i < TASKS; i++) previous = task(echo, { label: `t${i}` }, { id: `t${i}` }).after(previous);
        }),
        testTasks,
      );
    const result: Record<string, unknown> = {};
    for (const [name, spec] of [
      ['withoutPool', chain('bench_pool_none')],
      ['withPool', chain('bench_pool_chain', POOL)],
    ] as const) {
      // Warm-up run: loads the bundle, and (with a pool) starts its gate, as a busy pool has it running.
      await (await startRun(w.client, spec)).handle.result();
      const run = await startRun(w.client, spec);
      const t0 = Date.now();
      await run.handle.result();
      const wallMs = Date.now() - t0;
      const hops = await recordedHops(w.resources.warehouse, run.runId, TASKS);
      result[name] = { tasks: TASKS, wallMs, hopP50Ms: percentile(hops, 50), hopP95Ms: percentile(hops, 95), hopMaxMs: Math.max(...hops) };
    }
    const [none, pooled] = [result.withoutPool, result.withPool] as [{ hopP50Ms: number; hopP95Ms: number }, { hopP50Ms: number; hopP95Ms: number }];
    result.addedByPool = { p50Ms: pooled.hopP50Ms - none.hopP50Ms, p95Ms: pooled.hopP95Ms - none.hopP95Ms };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await w.client.workflow.getHandle(poolGateId(POOL)).terminate('end of benchmark').catch(() => undefined);
    await w.resources.warehouse('sluice.pools').where({ name: POOL }).delete();
    await w.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
