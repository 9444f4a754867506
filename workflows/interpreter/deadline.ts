/**
 * A run's deadline (`deadline` in the spec): a timer beside the run. A run still going when it
 * fires has missed its deadline: that is recorded as a warning in the state query and a log
 * line, and the DAG's `onDeadlineMiss` callback runs once, while the run goes on. A run that ends
 * first cancels the timer. The miss is carried over a continue-as-new, so it never fires twice.
 *
 * Backfill and `dags test` runs have no deadline: their dates are in the past by design.
 * Specs without a deadline issue no commands here, so their runs replay unchanged.
 */
import * as wf from '@temporalio/workflow';
import type { DeadlineActivities } from '../../activities/deadline';
import type { RunTrigger, RunWarning } from '../messages';
import type { DagSpec } from '../spec';

const local = wf.proxyLocalActivities<DeadlineActivities>({ startToCloseTimeout: '10 seconds' });

export interface DeadlineWatch {
  /** Whether the run has missed its deadline (in this execution or an earlier one). */
  readonly missed: boolean;
  /** The run has ended: a deadline not reached yet is no longer missed. */
  stop(): void;
  /** Stops, and waits for a callback under way (before the run closes or continues as new). */
  end(): Promise<void>;
}

export async function watchDeadline(options: {
  spec: DagSpec;
  logicalDate: string;
  trigger: RunTrigger;
  /** Carried over a continue-as-new: the miss was already handled. */
  missedBefore: boolean;
  /** An operator cleared the closed run: a deadline already past is not missed again. */
  resumed: boolean;
  /** The run's warnings (the state query shows them): the miss is added there. */
  warnings: RunWarning[];
  /** Runs the DAG's onDeadlineMiss callback (none: it returns at once). */
  onMiss: (deadline: string) => Promise<void>;
}): Promise<DeadlineWatch> {
  const { spec, warnings } = options;
  const { deadline } = spec;
  const none: DeadlineWatch = { missed: options.missedBefore, stop: () => undefined, end: async () => undefined };
  if (!deadline || options.missedBefore || options.trigger === 'backfill' || options.trigger === 'test') return none;
  const at =
    deadline.afterMs !== undefined
      ? new Date(Date.parse(options.logicalDate) + deadline.afterMs).toISOString()
      : await local.deadlineInstant({ logicalDate: options.logicalDate, atTime: deadline.atTime ?? '', timezone: spec.schedule?.timezone ?? 'UTC' });
  const label = deadline.atTime ?? `of ${formatMs(deadline.afterMs ?? 0)} after the logical date`;

  const ms = Date.parse(at) - Date.now();
  if (ms <= 0 && options.resumed) return none;
  let missed = false;
  const timer = new wf.CancellationScope();
  // A run that starts after its deadline (a late manual run) has missed it already.
  const fired = (ms > 0 ? timer.run(() => wf.sleep(ms)) : Promise.resolve()).then(
    async () => {
      missed = true;
      warnings.push({ at: new Date().toISOString(), message: `missed its deadline ${label} (${at})` });
      wf.log.warn('run missed its deadline', { dagId: spec.dagId, deadline: at, callback: spec.onDeadlineMiss?.activity ?? null });
      await options.onMiss(at);
    },
    (err: unknown) => {
      if (!wf.isCancellation(err)) throw err;
    },
  );
  const stop = () => {
    if (!missed) timer.cancel();
  };
  return {
    get missed() {
      return missed;
    },
    stop,
    async end() {
      stop();
      await fired;
    },
  };
}

function formatMs(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
