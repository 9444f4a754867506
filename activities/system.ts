/**
 * The interpreter's own activities: run history, sizing offloaded lists and data intervals.
 * Dependencies come in through the factory so tests and the worker wire them explicitly.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { CronExpressionParser } from 'cron-parser';
import type { Knex } from 'knex';
import type { OffloadedRef } from '../workflows/interpreter/templates';
import type { DagRunState, DagSpec } from '../workflows/spec';
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
     * The data interval of a run is (previous fire time, logical date] of the DAG's cron, the
     * same for scheduled, manual and backfill runs. Unscheduled DAGs get an empty interval at
     * the logical date.
     */
    async computeDataInterval(args: { schedule: DagSpec['schedule']; logicalDate: string }): Promise<{ start: string; end: string }> {
      if (!args.schedule) return { start: args.logicalDate, end: args.logicalDate };
      const cron = CronExpressionParser.parse(args.schedule.cron, {
        tz: args.schedule.timezone,
        currentDate: new Date(args.logicalDate),
      });
      return { start: cron.prev().toDate().toISOString(), end: new Date(args.logicalDate).toISOString() };
    },
  };
}
export type SystemActivities = ReturnType<typeof createSystemActivities>;
