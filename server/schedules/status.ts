import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { DagSpec } from '../../workflows/spec';
import { fireTimes, nextFireTime } from './fire-times';

export interface ScheduleStatus {
  dagId: string;
  cron: string;
  timezone: string;
  catchup: boolean;
  /** False when the DAG is scheduled but `schedules sync` has not created its schedule yet. */
  exists: boolean;
  paused: boolean;
  note: string | null;
  lastFire: string | null;
  nextFires: string[];
}

/** Each scheduled DAG's schedule as Temporal has it: paused state, note, last and next fires. */
export async function scheduleStatus(client: Client, spec: DagSpec): Promise<ScheduleStatus> {
  if (!spec.schedule) throw new Error(`DAG '${spec.dagId}' has no schedule (manual runs only)`);
  const base = { dagId: spec.dagId, cron: spec.schedule.cron, timezone: spec.schedule.timezone, catchup: spec.catchup };
  try {
    const d = await client.schedule.getHandle(spec.dagId).describe();
    const last = d.info.recentActions.at(-1)?.scheduledAt;
    return {
      ...base,
      exists: true,
      paused: d.state.paused,
      note: d.state.note ?? null,
      lastFire: last ? last.toISOString() : null,
      nextFires: d.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
    };
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
    return { ...base, exists: false, paused: false, note: null, lastFire: null, nextFires: [] };
  }
}

export interface UnpausePreview {
  /** Runs the unpause itself starts: always 0, Temporal does not replay fires missed while paused. */
  runsStartedNow: number;
  /** Fire times that passed while paused; `sluice backfill` runs them if they are wanted. */
  missedWhilePaused: string[];
  nextFire: string | null;
}

/** What unpausing will do, computed before doing it, so nobody is surprised by a burst of runs. */
export async function unpausePreview(client: Client, spec: DagSpec, now = new Date()): Promise<UnpausePreview> {
  const status = await scheduleStatus(client, spec);
  const schedule = spec.schedule as NonNullable<DagSpec['schedule']>;
  const since = status.lastFire ? new Date(Date.parse(status.lastFire) + 1) : undefined;
  const missed = since ? fireTimes(schedule.cron, schedule.timezone, since, now, 10_000) : [];
  // Not the schedule's own next action times: a paused schedule stops updating them, so they lie in the past.
  const next = nextFireTime(schedule.cron, schedule.timezone, now);
  return { runsStartedNow: 0, missedWhilePaused: missed.map((d) => d.toISOString()), nextFire: next ? next.toISOString() : null };
}

export async function setPaused(client: Client, dagId: string, paused: boolean, note: string): Promise<void> {
  const handle = client.schedule.getHandle(dagId);
  await (paused ? handle.pause(note) : handle.unpause(note));
}
