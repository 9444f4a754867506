/**
 * `dependsOnPast` / `waitForDownstream` in the interpreter: before a task starts (its first
 * attempt, and again when an operator re-runs it), the DAG's previous run must have succeeded
 * (or skipped) the task, and with waitForDownstream its direct downstream tasks too. While that
 * run is still going the task stays `queued` and sleeps on a durable timer between checks,
 * holding no worker slot; the state query says what it waits for. A previous run that closed
 * without it fails the task, without an attempt: retrying cannot help until that run is fixed.
 *
 * Tasks without the flags never get here, so runs of older specs replay unchanged.
 */
import * as wf from '@temporalio/workflow';
import type { DependsOnPastActivities } from '../../activities/depends-on-past';
import type { DagSpec, TaskSpec } from '../spec';
import type { RunState } from './run-state';

/** Between checks of the previous run. Each check is an activity and a timer in the history. */
export const PAST_RUN_CHECK_INTERVAL_MS = 5_000;

/** Retried like the interpreter's bookkeeping: a database outage delays the task, it never fails it. */
const { checkPastRun } = wf.proxyActivities<DependsOnPastActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '5s' },
});

export function dependsOnPast(task: TaskSpec): boolean {
  return task.dependsOnPast === true || task.waitForDownstream === true;
}

/**
 * Resolves 'ok' when the task may start, 'parked' when `sleep` was interrupted (a continue-as-new:
 * the task goes back to pending and checks again in the new execution), or `{ blocked }` with
 * the error the task fails with.
 */
export async function waitForPastRun(
  run: RunState,
  spec: DagSpec,
  task: TaskSpec,
  context: { dagId: string; runId: string; logicalDate: string },
  /** Sleeps on a durable timer; false when interrupted. */
  sleep: (ms: number) => Promise<boolean>,
): Promise<'ok' | 'parked' | { blocked: string }> {
  if (!dependsOnPast(task)) return 'ok';
  const downstream = task.waitForDownstream ? spec.tasks.filter((t) => t.upstream.includes(task.id)) : [];
  const tasks = [task, ...downstream].map((t) => ({ id: t.id, kind: t.kind }));
  const record = run.record(task.id);
  try {
    for (;;) {
      const check = await checkPastRun({ dagId: context.dagId, runId: context.runId, logicalDate: context.logicalDate, tasks });
      if (check.result === 'ok') return 'ok';
      if (check.result === 'blocked') return { blocked: check.reason };
      record.waitingForPast = check.wait;
      if (!(await sleep(PAST_RUN_CHECK_INTERVAL_MS))) return 'parked';
    }
  } finally {
    delete record.waitingForPast;
  }
}
