/**
 * Answers from Temporal that many pages ask for at once, kept for a moment: schedule states for
 * the DAG list, and open runs' `state` query for the grid.
 *
 * Schedule states for the DAG list, kept for a few seconds. The list asks Temporal about every
 * scheduled DAG; fifty engineers with the page open would otherwise ask it fifty times a second
 * for the same answer. A pause or unpause from the console forgets the DAG's entry at once.
 */
import type { Client } from '@temporalio/client';
import type { DagRunStatus } from '../../workflows/messages';
import type { DagSpec } from '../../workflows/spec';
import { runStatus } from '../client/operator';
import { scheduleStatus, type ScheduleStatus } from '../schedules/status';

const TTL_MS = 3_000;
const LIVE_TTL_MS = 1_000;

export class ScheduleCache {
  private readonly entries = new Map<string, { at: number; status: Promise<ScheduleStatus> }>();

  constructor(private readonly temporal: Client) {}

  get(spec: DagSpec): Promise<ScheduleStatus> {
    const hit = this.entries.get(spec.dagId);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.status;
    const status = scheduleStatus(this.temporal, spec);
    this.entries.set(spec.dagId, { at: Date.now(), status });
    // A failed answer is not kept: the next request asks again.
    status.catch(() => this.entries.delete(spec.dagId));
    return status;
  }

  forget(dagId: string): void {
    this.entries.delete(dagId);
  }
}

/**
 * Open runs' live state for the grid, kept for a second: every open grid polls every 2 s, and a
 * query goes through Temporal to a worker. A run that cannot answer gives `undefined` (the grid
 * then shows what the history has recorded).
 */
export class LiveStatusCache {
  private readonly entries = new Map<string, { at: number; status: Promise<DagRunStatus | undefined> }>();

  constructor(private readonly temporal: Client) {}

  get(runId: string): Promise<DagRunStatus | undefined> {
    const now = Date.now();
    const hit = this.entries.get(runId);
    if (hit && now - hit.at < LIVE_TTL_MS) return hit.status;
    // Old entries go as new ones come, so the map stays as small as the set of open runs.
    for (const [id, entry] of this.entries) if (now - entry.at >= LIVE_TTL_MS) this.entries.delete(id);
    const status = runStatus(this.temporal, runId).catch(() => undefined);
    this.entries.set(runId, { at: now, status });
    return status;
  }
}
