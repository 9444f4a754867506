/**
 * Sluice's own worker metrics (prom-client), served with the Temporal SDK's at the worker's
 * `/metrics` (SLUICE_WORKER_HTTP, see ./health-server.ts). Names as agreed for issue 13:
 *
 * - `sluice_worker_task_attempts_total{dag_id,outcome}` and
 *   `sluice_worker_task_duration_seconds{dag_id,outcome}`: every task attempt this process ran,
 *   counted where the task runtime ends it; outcome `succeeded`, `failed` or `cancelled`.
 * - `sluice_worker_rows_processed_total{dag_id,task_id}`: the rows a task reported writing, counted
 *   where the pipeline library records lineage (its output statistics).
 * - `sluice_worker_bytes_written_total{dag_id,task_id}`: bytes uploaded to the lake by the
 *   pipeline library's writer.
 * - `sluice_worker_records_quarantined_total{dag_id,category}`: records sent to ops.exceptions.
 *
 * The counting sites deep in the pipeline library do not know which run they serve, so the task
 * runtime runs each attempt inside {@link withTaskScope}, and they read the DAG and task from it.
 * One registry per process: every worker of a process shares its counters.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export type TaskOutcome = 'succeeded' | 'failed' | 'cancelled';

interface TaskScope {
  dagId: string;
  taskId: string;
}

export const workerRegistry = new Registry();
collectDefaultMetrics({ register: workerRegistry });
const registers = [workerRegistry];

const attempts = new Counter({
  name: 'sluice_worker_task_attempts_total',
  help: 'Task attempts this worker process ran, by DAG and outcome',
  labelNames: ['dag_id', 'outcome'] as const,
  registers,
});
const duration = new Histogram({
  name: 'sluice_worker_task_duration_seconds',
  help: 'How long task attempts ran, by DAG and outcome',
  labelNames: ['dag_id', 'outcome'] as const,
  // From sensors' quick pokes to hour-long loads.
  buckets: [0.05, 0.25, 1, 5, 15, 60, 300, 900, 3600],
  registers,
});
const rows = new Counter({
  name: 'sluice_worker_rows_processed_total',
  help: 'Rows tasks reported writing (lineage output statistics), by DAG and task',
  labelNames: ['dag_id', 'task_id'] as const,
  registers,
});
const bytes = new Counter({
  name: 'sluice_worker_bytes_written_total',
  help: 'Bytes tasks uploaded to the lake, by DAG and task',
  labelNames: ['dag_id', 'task_id'] as const,
  registers,
});
const quarantined = new Counter({
  name: 'sluice_worker_records_quarantined_total',
  help: 'Records tasks sent to quarantine (ops.exceptions), by DAG and category',
  labelNames: ['dag_id', 'category'] as const,
  registers,
});

const scope = new AsyncLocalStorage<TaskScope>();

/** Runs one task attempt so that what it writes is counted under its DAG and task. */
export function withTaskScope<T>(task: TaskScope, run: () => Promise<T>): Promise<T> {
  return scope.run(task, run);
}

export function countTaskAttempt(dagId: string, outcome: TaskOutcome, seconds: number): void {
  attempts.inc({ dag_id: dagId, outcome });
  duration.observe({ dag_id: dagId, outcome }, seconds);
}

/** Counted only inside a task attempt: a helper called from a script or a test counts nothing. */
export function countRowsProcessed(n: number): void {
  const task = scope.getStore();
  if (task && n > 0) rows.inc({ dag_id: task.dagId, task_id: task.taskId }, n);
}

export function countBytesWritten(n: number): void {
  const task = scope.getStore();
  if (task && n > 0) bytes.inc({ dag_id: task.dagId, task_id: task.taskId }, n);
}

export function countQuarantined(dagId: string, category: string, n: number): void {
  if (n > 0) quarantined.inc({ dag_id: dagId, category }, n);
}
