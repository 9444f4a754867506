/**
 * The day a `daily_etl` run loads: its data interval, which on the `0 0 * * *` schedule is one
 * UTC calendar day (the run with logical date 2026-11-22T00:00Z loads 2026-11-21).
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { TaskContext } from '../../dags/sdk';

export interface EtlDay {
  /** `YYYY-MM-DD`: the partition name in the lake (`dt=`) and the warehouse (`load_date`). */
  day: string;
  /** `YYYYMMDD` as a number: dim_date's key. */
  dateKey: number;
  /** Data interval bounds, as ISO instants: rows with start <= timestamp < end belong to the day. */
  start: string;
  end: string;
  /** Suffix of the day's staging tables, e.g. `20261121`. */
  suffix: string;
}

const DAY_MS = 86_400_000;

export function etlDay(ctx: Pick<TaskContext, 'dataIntervalStart' | 'dataIntervalEnd'>): EtlDay {
  const start = new Date(ctx.dataIntervalStart);
  const end = new Date(ctx.dataIntervalEnd);
  // The partitions are calendar days: an interval that is not one (an ad-hoc run, an edited
  // schedule) would load a slice of two days under one day's name.
  if (start.getTime() % DAY_MS !== 0 || end.getTime() - start.getTime() !== DAY_MS) {
    throw ApplicationFailure.nonRetryable(
      `daily_etl loads whole UTC days; this run's data interval is ${ctx.dataIntervalStart} → ${ctx.dataIntervalEnd}. Trigger it with a date (--date YYYY-MM-DD) on its daily schedule.`,
      'NotADay',
    );
  }
  const day = start.toISOString().slice(0, 10);
  const suffix = day.replaceAll('-', '');
  return { day, dateKey: Number(suffix), start: start.toISOString(), end: end.toISOString(), suffix };
}
