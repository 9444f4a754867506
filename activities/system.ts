/**
 * The interpreter's own activities: run history, sizing offloaded lists and data intervals.
 * Dependencies come in through the factory so tests and the worker wire them explicitly.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { OffloadedRef } from '../workflows/interpreter/templates';
import { parseParams } from '../dags/sdk/params';
import type { RunTrigger } from '../workflows/messages';
import type { DagRunState, DagSpec } from '../workflows/spec';
import { nextFireTime, previousFireTime } from '../server/schedules/fire-times';
import { toPostgresJson } from './runtime/attempt-history';
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
  trigger: RunTrigger;
  params: Record<string, unknown>;
  failedTasks: string[];
  startedAt: string;
  endedAt: string | null;
  /** Why the run failed, when it did. */
  reason?: string;
}

/** Run states that may still change; any other is final. */
export const OPEN_STATES: readonly DagRunState[] = ['queued', 'running', 'awaiting_operator'];
const OPEN_PLACEHOLDERS = OPEN_STATES.map(() => '?').join(', ');

/** Attempts that ended, as the run saw them: what `recordAttempts` puts on record. */
export interface AttemptBatch {
  temporalRunId: string;
  runId: string;
  dagId: string;
  attempts: Array<{ taskId: string; mapIndex?: number; attempt: number; state: 'success' | 'failed'; startedAt: string; endedAt: string; error?: string }>;
}

/** The worker name on rows the run wrote because the attempt's worker did not. */
export const RECORDED_BY_RUN = 'unknown (recorded by the run)';

/** An attempt whose worker was lost, as the workflow knows it. */
export interface LostAttempt {
  temporalRunId: string;
  runId: string;
  dagId: string;
  taskId: string;
  mapIndex?: number;
  attempt: number;
  error: string;
}

export interface ResolveRunInput {
  runId: string;
  temporalRunId: string;
  trigger: RunRecord['trigger'];
  schedule: DagSpec['schedule'];
  logicalDate: string;
  /** The params the run was started with (absent for scheduled runs) and the spec's schema. */
  params?: unknown;
  paramsSchema?: unknown;
  /** A cleared closed run starting again on purpose: not a duplicate of itself. */
  resumed?: boolean;
  /** Given by the run's starter (an asset trigger passes its upstream run's): used as is. */
  dataInterval?: { start: string; end: string };
}

export interface ResolvedRun {
  start: string;
  end: string;
  /** The next fire time after the logical date (null without a schedule), for `nextDs`. */
  next?: string | null;
  /** The params with defaults applied, or why they are invalid. */
  params?: { ok: true; params: Record<string, unknown> } | { ok: false; error: string };
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
        reason: run.reason ?? null,
        updated_at: new Date(),
      };
      // A final state is not reopened: an execution never goes from success or failed back to
      // running, so such a write is a late one (an attempt of this activity that outlived its
      // run, say) and the row already says how the run ended.
      await deps.db
        .withSchema('sluice')
        .table('dag_runs')
        .insert(row)
        .onConflict('temporal_run_id')
        .merge()
        .whereRaw(`dag_runs.state in (${OPEN_PLACEHOLDERS}) or excluded.state not in (${OPEN_PLACEHOLDERS})`, [...OPEN_STATES, ...OPEN_STATES]);
    },

    /**
     * Fills gaps in sluice.task_attempts from what the workflow knows (its history): rows for
     * attempts whose worker never wrote them, and a close for rows still 'running' whose attempt
     * the workflow saw end. Never overwrites a closed row; keeps logs.
     *
     * The worker's own record is the better one (its start time, its name, the log lines), so
     * this only fills in: a row it creates says who wrote it, and a worker's late record still
     * adds its log lines to it. One statement per batch, so a retried call is as cheap as the first.
     */
    async recordAttempts(batch: AttemptBatch): Promise<void> {
      // One row per attempt: an INSERT ... ON CONFLICT may not touch a row twice.
      const attempts = new Map(batch.attempts.map((a) => [JSON.stringify([a.taskId, a.mapIndex ?? -1, a.attempt]), a]));
      if (attempts.size === 0) return;
      const rows = [...attempts.values()].map((a) => ({
        task_id: a.taskId,
        map_index: a.mapIndex ?? -1,
        attempt: a.attempt,
        state: a.state,
        started_at: a.startedAt,
        ended_at: a.endedAt,
        error: a.error ?? null,
      }));
      await deps.db.raw(
        `insert into sluice.task_attempts as t (temporal_run_id, run_id, dag_id, task_id, map_index, attempt, state, started_at, ended_at, error, worker, logs)
         select ?, ?, ?, a.task_id, a.map_index, a.attempt, a.state, a.started_at, a.ended_at, a.error, ?, '[]'
           from json_to_recordset(?::json) as a(task_id text, map_index int, attempt int, state text, started_at timestamptz, ended_at timestamptz, error text)
         on conflict (temporal_run_id, task_id, map_index, attempt) do update
           set state = excluded.state, ended_at = excluded.ended_at, error = excluded.error
           where t.state = 'running'`,
        [batch.temporalRunId, batch.runId, batch.dagId, RECORDED_BY_RUN, toPostgresJson(rows)],
      );
    },

    /**
     * Closes the row of an attempt the workflow gave up on because its worker went silent (no
     * heartbeat) or it timed out: the worker that would have closed it is gone. Writes the row
     * if the attempt never got to record its start. A row already closed is left alone.
     */
    async closeLostAttempt(attempt: LostAttempt): Promise<void> {
      const now = new Date();
      await deps.db
        .withSchema('sluice')
        .table('task_attempts')
        .insert({
          temporal_run_id: attempt.temporalRunId,
          run_id: attempt.runId,
          dag_id: attempt.dagId,
          task_id: attempt.taskId,
          map_index: attempt.mapIndex ?? -1,
          attempt: attempt.attempt,
          state: 'failed',
          started_at: now,
          ended_at: now,
          error: attempt.error,
          worker: 'unknown (lost)',
        })
        .onConflict(['temporal_run_id', 'task_id', 'map_index', 'attempt'])
        .merge({ state: 'failed', ended_at: now, error: attempt.error })
        .where('task_attempts.state', 'running');
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
     * alike (unscheduled DAGs get an empty interval at the logical date; a run started with a
     * `dataInterval`, as asset triggers do, keeps that one), and, for a scheduled
     * run, whether this logical date already ran successfully. Temporal Schedules start their
     * runs with "allow duplicate", so without that check a scheduled fire after a successful
     * manual or backfill run of the same date would run it twice.
     */
    async resolveRun(args: ResolveRunInput): Promise<ResolvedRun> {
      const end = new Date(args.logicalDate).toISOString();
      const { schedule } = args;
      const previous = schedule ? previousFireTime(schedule.cron, schedule.timezone, new Date(end)) : undefined;
      const next = schedule ? nextFireTime(schedule.cron, schedule.timezone, new Date(end)) : undefined;
      // Every kind of start comes through here, so this is where params get their defaults.
      const given = args.dataInterval;
      const interval = {
        start: given ? new Date(given.start).toISOString() : (previous?.toISOString() ?? end),
        end: given ? new Date(given.end).toISOString() : end,
        next: next?.toISOString() ?? null,
        params: parseParams(args.paramsSchema, args.params),
      };
      if (args.trigger !== 'scheduled' || args.resumed) return { ...interval, alreadySucceeded: null };
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
