/**
 * DAGs of the race and payload chaos tests, written to a temporary DAG folder so the production
 * worker, the CLI and the console load them as they load any team's DAGs.
 *
 * - `race_count` (daily at 00:00 UTC): 12 parallel tasks, each a short wait and one counted side
 *   effect, then `total` sums their outputs. Every attempt that succeeds leaves exactly one row in
 *   `public.chaos_race_effects`, with the pid of the worker process that ran it.
 * - `race_payload` (manual): `produce` returns about 5 MB of JSON, `consume` hashes what it got.
 */
import { SDK_PATH } from './production-worker';

export const RACE_QUEUE = 'test-chaos-races';
export const EFFECTS_TABLE = 'public.chaos_race_effects';
export const PARTS = 12;
/** Rows of `produce`'s output; about 70 bytes of JSON each, so about 5 MB in all. */
export const PAYLOAD_ROWS = 75_000;

/** What `produce` returns; the test computes the same to compare hashes. */
export function payloadRows(rows: number): Array<{ i: number; text: string }> {
  return Array.from({ length: rows }, (_, i) => ({ i, text: `row-${i}-`.padEnd(48, 'x') }));
}

const effectsTask = `const effect = (ctx: { conn: { pg: (name: string) => { raw: (sql: string, values: unknown[]) => Promise<unknown> } }; runId: string; taskId: string; attempt: number }, value: number, note = '') =>
  ctx.conn.pg('warehouse').raw('insert into ${EFFECTS_TABLE} (run_id, task_id, attempt, pid, value, note) values (?, ?, ?, ?, ?, ?)', [ctx.runId, ctx.taskId, ctx.attempt, process.pid, value, note]);`;

export const RACE_DAGS: Record<string, string> = {
  'race_count.ts': `import { dag, defineTask, z } from ${JSON.stringify(SDK_PATH)};
${effectsTask}

const part = defineTask('raceCountPart', async (input: { n: number }, ctx) => {
  await new Promise((resolve) => setTimeout(resolve, 200));
  await effect(ctx, input.n);
  return input.n;
});
const total = defineTask('raceCountTotal', async (input: { parts: number[] }, ctx) => {
  const sum = input.parts.reduce((a, b) => a + b, 0);
  await effect(ctx, sum);
  return sum;
});

export default dag('race_count', { taskQueue: '${RACE_QUEUE}', schedule: '0 0 * * *', retries: 3, retryDelay: '1s', params: z.object({ note: z.string().default('') }) }, ({ task }) => {
  const parts = Array.from({ length: ${PARTS} }, (_, i) => task(part, { n: i + 1 }, { id: \`part_\${i + 1}\` }));
  task(total, { parts }, { id: 'total' });
});
`,
  'race_payload.ts': `import { createHash } from 'node:crypto';
import { dag, defineTask } from ${JSON.stringify(SDK_PATH)};
${effectsTask}

const produce = defineTask('racePayloadProduce', async (input: { rows: number }) =>
  Array.from({ length: input.rows }, (_, i) => ({ i, text: \`row-\${i}-\`.padEnd(48, 'x') })),
);
const consume = defineTask('racePayloadConsume', async (input: { rows: unknown }, ctx) => {
  const rows = input.rows as unknown[];
  const sha256 = createHash('sha256').update(JSON.stringify(rows)).digest('hex');
  await effect(ctx, rows.length, sha256);
  return { rows: rows.length, sha256 };
});

export default dag('race_payload', { taskQueue: '${RACE_QUEUE}', retries: 1, retryDelay: '1s' }, ({ task }) => {
  const rows = task(produce, { rows: ${PAYLOAD_ROWS} }, { id: 'produce' });
  task(consume, { rows }, { id: 'consume' });
});
`,
};
