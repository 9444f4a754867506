import type { ScheduleOptions, ScheduleOptionsStartWorkflowAction, ScheduleUpdateOptions } from '@temporalio/client';
import type { dagRun } from '../../workflows/dag-run';
import type { DagRunInput } from '../../workflows/messages';
import { DagIdKey } from '../../workflows/search-attributes';
import type { DagSpec } from '../../workflows/spec';
import { createHash } from 'node:crypto';
import { dstAdjustments, temporalCronString } from './dst';

/** Memo key that marks a schedule as Sluice's own, so sync never touches anyone else's. */
export const MANAGED_MEMO = 'sluiceDagId';
/** Memo key on the schedule's action: a fingerprint of everything sync derives the schedule from. */
export const FINGERPRINT_MEMO = 'sluiceSchedule';

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
export function scheduleUpdate(spec: ScheduledDag, now = new Date()): ScheduleUpdateOptions<ScheduleOptionsStartWorkflowAction<typeof dagRun>> {
  const { cron, timezone } = spec.schedule;
  const input: DagRunInput = { spec, trigger: 'scheduled' };
  // Adjustments cover five years from the start of this year, so they change (and sync rewrites
  // the schedule) once a year rather than on every sync.
  const adjustments = dstAdjustments(cron, timezone, { from: new Date(Date.UTC(now.getUTCFullYear(), 0, 1)) });
  const fingerprint = createHash('sha256').update(JSON.stringify([spec.version, adjustments])).digest('hex').slice(0, 16);
  return {
    spec: { cronExpressions: [temporalCronString(cron)], timezone, ...adjustments },
    action: {
      type: 'startWorkflow',
      workflowType: 'dagRun',
      workflowId: spec.dagId,
      taskQueue: spec.taskQueue,
      args: [input],
      typedSearchAttributes: [{ key: DagIdKey, value: spec.dagId }],
      memo: { [FINGERPRINT_MEMO]: fingerprint },
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

/** The fingerprint a schedule was last synced with (see scheduleUpdate). */
export function scheduleFingerprint(update: { action: { memo?: Record<string, unknown> } }): unknown {
  return update.action.memo?.[FINGERPRINT_MEMO];
}
