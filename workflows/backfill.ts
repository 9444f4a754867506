/**
 * `backfill`: runs a DAG for a list of logical dates as child `dagRun`s, at most `concurrency`
 * at a time, in the order given. Being a workflow, it survives restarts of the CLI, the worker
 * and the server; it can be paused, resumed and cancelled from the CLI, the console or the
 * Temporal UI (Signals of those names).
 *
 * Its runs use the DAG's task queue with a `-backfill` suffix, served by a worker of its own, so
 * a large backfill competes for its own worker slots and never starves live scheduled runs.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import type { BackfillActivities, PlannedDate, Reprocess } from '../activities/backfill';
import type { dagRun } from './dag-run';
import type { DagRunInput } from './messages';
import { DagIdKey, DagRunStateKey, LogicalDateKey } from './search-attributes';
import type { DagSpec } from './spec';

export interface BackfillInput {
  spec: DagSpec;
  /** RFC 3339 logical dates, in the order to run them. */
  logicalDates: string[];
  concurrency: number;
  reprocess: Reprocess;
  params: Record<string, unknown>;
}

export type DateOutcome = 'pending' | 'running' | 'success' | 'failed' | 'skipped';

export interface BackfillProgress {
  dagId: string;
  state: 'planning' | 'running' | 'paused' | 'cancelling' | 'cancelled' | 'done';
  total: number;
  counts: Record<DateOutcome, number>;
  dates: Array<{ logicalDate: string; runId: string; outcome: DateOutcome; note?: string }>;
}

export const progressQuery = wf.defineQuery<BackfillProgress>('progress');
export const pauseSignal = wf.defineSignal('pause');
export const resumeSignal = wf.defineSignal('resume');
export const cancelSignal = wf.defineSignal('cancel');

/** The task queue backfill runs use: the DAG's own, served by a separate worker. */
export function backfillQueue(taskQueue: string): string {
  return `${taskQueue}-backfill`;
}

const { planBackfill } = wf.proxyActivities<BackfillActivities>({ startToCloseTimeout: '1 minute' });

export async function backfill(input: BackfillInput): Promise<BackfillProgress> {
  let state: BackfillProgress['state'] = 'planning';
  // Signal handlers change `state` between awaits; reading it through a function keeps
  // TypeScript from narrowing it to the value last assigned here.
  const current = (): BackfillProgress['state'] => state;
  const dates: BackfillProgress['dates'] = input.logicalDates.map((logicalDate) => ({ logicalDate, runId: '', outcome: 'pending' }));
  const progress = (): BackfillProgress => {
    const counts: Record<DateOutcome, number> = { pending: 0, running: 0, success: 0, failed: 0, skipped: 0 };
    for (const d of dates) counts[d.outcome] += 1;
    return { dagId: input.spec.dagId, state, total: dates.length, counts, dates };
  };
  wf.setHandler(progressQuery, progress);
  wf.setHandler(pauseSignal, () => {
    if (state === 'running' || state === 'planning') state = 'paused';
  });
  wf.setHandler(resumeSignal, () => {
    if (state === 'paused') state = 'running';
  });
  wf.setHandler(cancelSignal, () => {
    if (state === 'running' || state === 'paused' || state === 'planning') state = 'cancelling';
  });

  const plan = await planBackfill({ dagId: input.spec.dagId, logicalDates: input.logicalDates, reprocess: input.reprocess });
  plan.forEach((p, i) => {
    const date = dates[i] as BackfillProgress['dates'][number];
    date.runId = p.runId;
    if (p.action !== 'run' && p.action !== 'rerun') Object.assign(date, { outcome: 'skipped', note: p.action });
  });
  if (state === 'planning') state = 'running';

  // Backfill runs fail at once instead of waiting for an operator: a bad date must not hold a
  // slot for a day. `--reprocess failed` re-runs them later.
  const spec: DagSpec = { ...input.spec, taskQueue: backfillQueue(input.spec.taskQueue), operatorWindowMs: 0 };
  let inFlight = 0;
  const finished: Array<Promise<void>> = [];
  for (const [i, planned] of plan.entries()) {
    const date = dates[i] as BackfillProgress['dates'][number];
    if (date.outcome === 'skipped') continue;
    await wf.condition(() => current() === 'cancelling' || (current() === 'running' && inFlight < input.concurrency));
    if (current() === 'cancelling') break;
    inFlight += 1;
    date.outcome = 'running';
    finished.push(
      runDate(spec, planned, input)
        .then(
          (outcome) => void Object.assign(date, outcome),
          (err) => void Object.assign(date, { outcome: 'failed', note: (err as Error).message }),
        )
        .finally(() => {
          inFlight -= 1;
        }),
    );
  }
  await Promise.all(finished);
  state = current() === 'cancelling' ? 'cancelled' : 'done';
  return progress();
}

async function runDate(spec: DagSpec, planned: PlannedDate, input: BackfillInput): Promise<{ outcome: DateOutcome; note?: string }> {
  const runInput: DagRunInput = { spec, logicalDate: planned.logicalDate, params: input.params, trigger: 'backfill' };
  let child: wf.ChildWorkflowHandle<typeof dagRun>;
  try {
    child = await wf.startChild<typeof dagRun>('dagRun', {
      workflowId: planned.runId,
      taskQueue: spec.taskQueue,
      args: [runInput],
      parentClosePolicy: 'ABANDON',
      workflowIdReusePolicy: planned.action === 'rerun' ? 'ALLOW_DUPLICATE' : 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: [
        { key: DagIdKey, value: spec.dagId },
        { key: LogicalDateKey, value: new Date(planned.logicalDate) },
        { key: DagRunStateKey, value: 'queued' },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return { outcome: 'skipped', note: 'a run of this date is already in flight' };
    throw err;
  }
  try {
    await child.result();
    return { outcome: 'success' };
  } catch (err) {
    const cause = err instanceof wf.ChildWorkflowFailure ? err.cause : err;
    return { outcome: 'failed', note: cause instanceof Error ? cause.message : String(cause) };
  }
}
