/**
 * Hop latency of a chain of no-op tasks `t0 → t1 → … → t<n-1>`, measured the way Airflow users
 * measure it: each attempt's recorded start minus its upstream's recorded end, from
 * `sluice.task_attempts` (the worker's clock). Shared by the interpreter and pool benchmarks.
 */
import type { Knex } from 'knex';

/** The chain's hops, once all `tasks` attempt rows of the run are closed (the journal writes them in the background). */
export async function recordedHops(db: Knex, runId: string, tasks: number): Promise<number[]> {
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    const rows = await db.withSchema('sluice').table('task_attempts').where({ run_id: runId }).whereNotNull('ended_at').select<{ task_id: string; started_at: Date; ended_at: Date }[]>('task_id', 'started_at', 'ended_at');
    if (rows.length < tasks) continue;
    const byTask = new Map(rows.map((r) => [r.task_id, r]));
    const hops: number[] = [];
    for (let i = 1; i < tasks; i++) {
      const previous = byTask.get(`t${i - 1}`);
      const current = byTask.get(`t${i}`);
      if (previous && current) hops.push(current.started_at.getTime() - previous.ended_at.getTime());
    }
    return hops;
  }
  throw new Error(`the attempts of ${runId} were not all recorded within 30 s`);
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
