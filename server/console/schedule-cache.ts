/**
 * Schedule states for the DAG list, kept for a few seconds. The list asks Temporal about every
 * scheduled DAG; fifty engineers with the page open would otherwise ask it fifty times a second
 * for the same answer. A pause or unpause from the console forgets the DAG's entry at once.
 */
import type { Client } from '@temporalio/client';
import type { DagSpec } from '../../workflows/spec';
import { scheduleStatus, type ScheduleStatus } from '../schedules/status';

const TTL_MS = 3_000;

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
