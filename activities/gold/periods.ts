/**
 * The periods the gold and feature pipelines work on, derived from a run's data interval. Pure
 * functions of their input (UTC throughout), so a rerun of a logical date always touches exactly
 * the same hours, as-of date and week.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** How many hours before the data interval `hourly_aggregation` recomputes, so late events land. */
export const LATE_HOURS = 3;

/** A half-open range of instants [from, to), RFC 3339 UTC. */
export interface InstantRange {
  from: string;
  to: string;
}

function instant(value: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`not an instant: ${JSON.stringify(value)}`);
  return ms;
}

const iso = (ms: number) => new Date(ms).toISOString();
const day = (ms: number) => iso(ms).slice(0, 10);

/**
 * The hours an hourly run replaces: from the start of the hour its interval starts in, minus
 * {@link LATE_HOURS}, up to the interval's end. A scheduled run at 14:00 covers [10:00, 14:00).
 */
export function hourlyWindow(dataIntervalStart: string, dataIntervalEnd: string): InstantRange {
  const start = instant(dataIntervalStart);
  const from = Math.floor(start / HOUR_MS) * HOUR_MS - LATE_HOURS * HOUR_MS;
  return { from: iso(from), to: iso(instant(dataIntervalEnd)) };
}

/** A point-in-time snapshot: its label and the instant no data it uses may reach. */
export interface AsOf {
  /** YYYY-MM-DD: the last day whose data the snapshot includes. */
  asOf: string;
  /** Data with timestamps before this instant (the end of the data interval) is used. */
  cutoff: string;
}

/**
 * The as-of date of a daily snapshot: the UTC day the data interval ends in (its last instant,
 * since the end is exclusive for data). The run at 2026-11-22T00:00Z is as of 2026-11-21 and uses
 * data before 2026-11-22T00:00Z.
 */
export function asOfFor(dataIntervalEnd: string): AsOf {
  const end = instant(dataIntervalEnd);
  return { asOf: day(end - 1), cutoff: iso(end) };
}

/** An ISO 8601 week (Monday to Sunday, UTC) and the one before it. */
export interface IsoWeek {
  /** e.g. `2026-W47` (the ISO week-numbering year, which differs from the calendar year around 1 January). */
  name: string;
  /** Monday, YYYY-MM-DD. */
  start: string;
  /** Sunday, YYYY-MM-DD: the week's last day. */
  last: string;
  /** The next Monday, YYYY-MM-DD (exclusive). */
  end: string;
  /** Monday of the previous week, YYYY-MM-DD. */
  previousStart: string;
}

/**
 * The ISO week an instant falls in. A weekly run reports the week its data interval starts in:
 * the run at Monday 2026-11-23T00:00Z has the interval from Monday 2026-11-16, week 2026-W47.
 */
export function isoWeekOf(value: string): IsoWeek {
  const midnight = Math.floor(instant(value) / DAY_MS) * DAY_MS;
  const weekday = (new Date(midnight).getUTCDay() + 6) % 7; // Monday 0 ... Sunday 6
  const monday = midnight - weekday * DAY_MS;
  // The week belongs to the year its Thursday falls in; week 1 is the week of 4 January.
  const thursday = new Date(monday + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS / 7) + 1;
  return {
    name: `${year}-W${String(week).padStart(2, '0')}`,
    start: day(monday),
    last: day(monday + 6 * DAY_MS),
    end: day(monday + 7 * DAY_MS),
    previousStart: day(monday - 7 * DAY_MS),
  };
}

/** `warehouse.dim_date`'s key (yyyymmdd) of a YYYY-MM-DD day. */
export function dateKey(dayText: string): number {
  return Number(dayText.replaceAll('-', ''));
}
