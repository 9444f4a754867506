import type { ScheduleOptions, ScheduleOptionsStartWorkflowAction, ScheduleUpdateOptions } from '@temporalio/client';
import type { dagRun } from '../../workflows/dag-run';
import type { DagRunInput } from '../../workflows/messages';
import { DagIdKey } from '../../workflows/search-attributes';
import type { DagSpec } from '../../workflows/spec';
import { dstAdjustments } from './dst';

/** Memo key that marks a schedule as Sluice's own, so sync never touches anyone else's. */
export const MANAGED_MEMO = 'sluiceDagId';

type ScheduledDag = DagSpec & { schedule: NonNullable<DagSpec['schedule']> };

export function isScheduled(spec: DagSpec): spec is ScheduledDag {
  return spec.schedule !== null;
}

/**
 * The Temporal Schedule of a DAG. Its action's workflow id is the DAG id, so the runs it starts
 * are `<dagId>-<fire time>`: the same ids manual and backfill runs get for that logical date.
 * - Catch-up off (the default): missed fires outside a 1-minute window are dropped, and runs of
 *   different dates may overlap (ALLOW_ALL), so one stuck run never holds up the next day.
 * - Catch-up on: fires missed while Temporal was down run, oldest first, one at a time
 *   (BUFFER_ALL), within a year.
 * The DST adjustments implement Sluice's one-run-per-local-day policy (see dst.ts).
 */
export function scheduleUpdate(spec: ScheduledDag): ScheduleUpdateOptions<ScheduleOptionsStartWorkflowAction<typeof dagRun>> {
  const { cron, timezone } = spec.schedule;
  const input: DagRunInput = { spec, trigger: 'scheduled' };
  return {
    spec: { cronExpressions: [cron], timezone, ...dstAdjustments(cron, timezone) },
    action: {
      type: 'startWorkflow',
      workflowType: 'dagRun',
      workflowId: spec.dagId,
      taskQueue: spec.taskQueue,
      args: [input],
      typedSearchAttributes: [{ key: DagIdKey, value: spec.dagId }],
    },
    policies: spec.catchup
      ? { catchupWindow: '365 days', overlap: 'BUFFER_ALL' }
      : { catchupWindow: '1 minute', overlap: 'ALLOW_ALL' },
    state: { paused: false },
  };
}

export function scheduleCreate(spec: ScheduledDag): ScheduleOptions<ScheduleOptionsStartWorkflowAction<typeof dagRun>> {
  return { scheduleId: spec.dagId, memo: { [MANAGED_MEMO]: spec.dagId }, ...scheduleUpdate(spec) };
}

/** The spec a schedule currently starts runs with (its action's recorded input). */
export function scheduledSpec(args: readonly unknown[] | undefined): DagSpec | undefined {
  return (args?.[0] as DagRunInput | undefined)?.spec;
}
