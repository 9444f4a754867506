/**
 * Interpreter benchmark: the latency of one dependent hop over a chain of 100 no-op tasks,
 * measured two ways, and the wall time of a 1,000-task fan-out. Prints numbers; asserts nothing.
 * Run with `npm run bench`.
 *
 * - `history`: a task's ActivityTaskCompleted to the next task's ActivityTaskStarted, from the
 *   run's Temporal event history (the server's view).
 * - `recorded`: a task attempt's recorded start minus the previous attempt's recorded end, from
 *   `sluice.task_attempts` (how Airflow users measure it: task instance start_date minus the
 *   upstream's end_date). It adds the worker's side: the end of the task body to the completion
 *   reaching the server, and the activity's delivery to the start of the task body.
 */
import { dag } from '../../dags/sdk';
import { temporal } from '@temporalio/proto';
import { double, echo, range, add, testTasks } from '../fixtures/tasks';
import { compileOrThrow, startRun } from '../support/dag-runs';
import { startTestWorker } from '../support/test-worker';
import { percentile, recordedHops } from './chain-hops';

const EventType = temporal.api.enums.v1.EventType;
const TQ = 'bench';

async function main(): Promise<void> {
  const w = await startTestWorker(testTasks, TQ);
  try {
    const chain = compileOrThrow(
      dag('bench_chain', { taskQueue: TQ }, ({ task }) => {
        let previous = task(echo, { label: 't0' }, { id: 't0' });
        for (let i = 1; i < 100; i++) previous = task(echo, { label: `t${i}` }, { id: `t${i}` }).after(previous);
      }),
      testTasks,
    );
    // Warm-up run: the first workflow task pays for loading the bundle into the worker.
    await (await startRun(w.client, chain)).handle.result();
    const run = await startRun(w.client, chain);
    const t0 = Date.now();
    await run.handle.result();
    const chainWall = Date.now() - t0;
    const hops = await hopLatencies(run.handle.fetchHistory.bind(run.handle));
    const recorded = await recordedHops(w.resources.warehouse, run.handle.workflowId, 100);

    const fanOut = compileOrThrow(
      dag('bench_fan_out', { taskQueue: TQ, maxActiveTasks: 64 }, ({ task, map }) => {
        const numbers = task(range, { n: 1000 });
        task(add, { values: map(double, { over: numbers, input: (n) => ({ value: n }) }) });
      }),
      testTasks,
    );
    const t1 = Date.now();
    await (await startRun(w.client, fanOut)).handle.result();
    const fanOutWall = Date.now() - t1;

    const result = {
      chain: {
        tasks: 100,
        wallMs: chainWall,
        history: { hopP50Ms: percentile(hops, 50), hopP95Ms: percentile(hops, 95), hopMaxMs: Math.max(...hops) },
        recorded: { hopP50Ms: percentile(recorded, 50), hopP95Ms: percentile(recorded, 95), hopMaxMs: Math.max(...recorded) },
      },
      fanOut: { tasks: 1000, maxActiveTasks: 64, wallMs: fanOutWall },
    };
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await w.stop();
  }
}

/** For each task after the first: its ActivityTaskStarted time minus the previous task's ActivityTaskCompleted time. */
async function hopLatencies(fetchHistory: () => Promise<temporal.api.history.v1.IHistory>): Promise<number[]> {
  const history = await fetchHistory();
  const ms = (e: temporal.api.history.v1.IHistoryEvent) => Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
  const events = history.events ?? [];
  const started = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED);
  const completed = events.filter((e) => e.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED);
  // System activities (run records) are interleaved; task activities of a chain alternate
  // strictly, so pair each completion with the first start that follows it.
  const hops: number[] = [];
  for (const done of completed) {
    const next = started.find((s) => Number(s.eventId) > Number(done.eventId) && ms(s) >= ms(done));
    if (next) hops.push(ms(next) - ms(done));
  }
  return hops.slice(1, -1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
