import { ScheduleNotFoundError, type Client, type ScheduleDescription } from '@temporalio/client';
import type { DagSpec } from '../../workflows/spec';
import { startDagRun } from '../client/start-run';
import { previousFireTime } from './fire-times';
import { isScheduled, MANAGED_MEMO, scheduleCreate, scheduleFingerprint, scheduleUpdate } from './schedule-options';

export interface SyncReport {
  created: string[];
  updated: string[];
  deleted: string[];
  unchanged: string[];
  /** Runs started for the latest interval a catch-up-off DAG missed while Sluice was down. */
  caughtUp: string[];
}

/**
 * Makes Temporal's schedules match the DAG definitions: one per DAG with a cron (a DAG scheduled
 * on assets has none: the asset activity starts its runs, activities/assets.ts), created, updated
 * (new DAG version, or a new year of DST adjustments) or deleted (DAG gone or no longer scheduled). Idempotent, and
 * an operator's pause and its note survive every update. Only schedules carrying Sluice's memo
 * are ever deleted.
 */
export async function syncSchedules(client: Client, specs: readonly DagSpec[], now = new Date()): Promise<SyncReport> {
  const report: SyncReport = { created: [], updated: [], deleted: [], unchanged: [], caughtUp: [] };
  const wanted = new Map(specs.filter(isScheduled).map((s) => [s.dagId, s]));

  for (const spec of wanted.values()) {
    const handle = client.schedule.getHandle(spec.dagId);
    const current = await handle.describe().catch((err) => {
      if (err instanceof ScheduleNotFoundError) return undefined;
      throw err;
    });
    if (!current) {
      await client.schedule.create(scheduleCreate(spec));
      report.created.push(spec.dagId);
      continue;
    }
    const missed = latestMissedFire(spec, current, now);
    if (missed) {
      const run = await startDagRun(client, spec, { logicalDate: missed, params: {}, trigger: 'scheduled' });
      if (run.started) report.caughtUp.push(run.runId);
    }
    const desired = scheduleUpdate(spec, now);
    if (current.action.type === 'startWorkflow' && scheduleFingerprint(current) === scheduleFingerprint(desired)) {
      report.unchanged.push(spec.dagId);
      continue;
    }
    await handle.update((previous) => ({ ...desired, state: previous.state }));
    report.updated.push(spec.dagId);
  }

  for await (const summary of client.schedule.list()) {
    const dagId = summary.memo?.[MANAGED_MEMO];
    if (typeof dagId !== 'string' || wanted.has(summary.scheduleId)) continue;
    await client.schedule.getHandle(summary.scheduleId).delete();
    report.deleted.push(summary.scheduleId);
  }
  return report;
}

/**
 * Catch-up off means "after downtime, run only the latest interval" (as Airflow does). Temporal
 * drops fires missed for longer than the 1-minute catch-up window, so sync starts that one run
 * itself, under the same run id the schedule would have used.
 */
function latestMissedFire(spec: DagSpec & { schedule: NonNullable<DagSpec['schedule']> }, current: ScheduleDescription, now: Date): Date | undefined {
  if (spec.catchup || current.state.paused) return undefined;
  const latest = previousFireTime(spec.schedule.cron, spec.schedule.timezone, new Date(now.getTime() + 1));
  const lastTaken = current.info.recentActions.at(-1)?.scheduledAt ?? current.info.createdAt;
  return latest && latest > lastTaken ? latest : undefined;
}
