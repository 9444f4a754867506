/**
 * The interpreter's own activities: run history, sizing offloaded lists and data intervals.
 * Dependencies come in through the factory so tests and the worker wire them explicitly.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { OffloadedRef } from '../workflows/interpreter/templates';
import type { DagRunState, DagSpec } from '../workflows/spec';
import { previousFireTime } from '../server/schedules/fire-times';
import type { OutputStore } from './runtime/outputs';

export interface RunRecord {
  runId: string;
  temporalRunId: string;
  dagId: string;
  version: string;
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  state: DagRunState;
  trigger: 'manual' | 'scheduled' | 'backfill';
  params: Record<string, unknown>;
  failedTasks: string[];
  startedAt: string;
  endedAt: string | null;
}

export interface ResolveRunInput {
  runId: string;
  temporalRunId: string;
  trigger: RunRecord['trigger'];
  schedule: DagSpec['schedule'];
  logicalDate: string;
}

export interface ResolvedRun {
  start: string;
  end: string;
  /** Temporal run id of an earlier successful run of the same logical date (scheduled runs only). */
  alreadySucceeded: string | null;
}

export function createSystemActivities(deps: { db: Knex; outputs: OutputStore }) {
  return {
    async recordRun(run: RunRecord): Promise<void> {
      const row = {
        temporal_run_id: run.temporalRunId,
        run_id: run.runId,
        dag_id: run.dagId,
        version: run.version,
        logical_date: run.logicalDate,
        data_interval_start: run.dataIntervalStart,
        data_interval_end: run.dataIntervalEnd,
        state: run.state,
        trigger: run.trigger,
        params: JSON.stringify(run.params),
        failed_tasks: run.failedTasks,
        started_at: run.startedAt,
        ended_at: run.endedAt,
        updated_at: new Date(),
      };
      await deps.db.withSchema('sluice').table('dag_runs').insert(row).onConflict('temporal_run_id').merge();
    },

    async measureList(ref: OffloadedRef): Promise<number> {
      const value = await deps.outputs.load(ref);
      if (!Array.isArray(value)) {
        throw ApplicationFailure.nonRetryable(`mapped over ${ref.$offloaded.key}, which is not a list`, 'NotAList');
      }
      return value.length;
    },

    /**
     * Everything a run must know before its first task: its data interval, which is
     * (previous fire time, logical date] of the DAG's cron for scheduled, manual and backfill runs
     * alike (unscheduled DAGs get an empty interval at the logical date), and, for a scheduled
     * run, whether this logical date already ran successfully. Temporal Schedules start their
     * runs with "allow duplicate", so without that check a scheduled fire after a successful
     * manual or backfill run of the same date would run it twice.
     */
    async resolveRun(args: ResolveRunInput): Promise<ResolvedRun> {
      const end = new Date(args.logicalDate).toISOString();
      const previous = args.schedule ? previousFireTime(args.schedule.cron, args.schedule.timezone, new Date(end)) : undefined;
      const interval = { start: previous?.toISOString() ?? end, end };
      if (args.trigger !== 'scheduled') return { ...interval, alreadySucceeded: null };
      const done = await deps.db
        .withSchema('sluice')
        .table('dag_runs')
        .where({ run_id: args.runId, state: 'success' })
        .whereNot('temporal_run_id', args.temporalRunId)
        .first('temporal_run_id');
      return { ...interval, alreadySucceeded: done?.temporal_run_id ?? null };
    },
  };
}
export type SystemActivities = ReturnType<typeof createSystemActivities>;
