/**
 * What a date a user types means for a DAG. `sluice trigger --date`, `sluice backfill --from/--to`
 * and the console's backfills all go through here, so one day of one DAG always gets the same
 * logical date, and therefore the same run id, whichever way it is started.
 *
 * - A bare date `YYYY-MM-DD` is a local day in the DAG's time zone (UTC when it has no schedule).
 *   To trigger, it means the schedule's fire time that day. In a range, `from` is the start of
 *   that day and `to` the end of it.
 * - An instant (it must carry its zone: `Z` or `±hh:mm`) is exact. A scheduled DAG takes only its
 *   fire times as trigger dates: any other instant would start a run under an id the schedule,
 *   backfills and every other trigger of that day never use.
 */
import type { DagSpec } from '../../workflows/spec';
import { DAY, fireTimes, instantsOfWall, nextFireTime, previousFireTime, transitionsBetween } from '../schedules/fire-times';
import { formatLogicalDate } from './run-id';

export type DateArg =
  /** `wall`: midnight starting the day, in epoch ms as if the local wall clock were UTC. */
  | { kind: 'day'; text: string; wall: number }
  | { kind: 'instant'; text: string; at: Date };

/** A date that is malformed, or means nothing for the DAG it is given for. */
export class LogicalDateError extends Error {}

const BARE_DAY = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^(\d{4}-\d{2}-\d{2})[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i;
const ZONELESS = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;

export function parseDateArg(text: string): DateArg {
  if (BARE_DAY.test(text)) return { kind: 'day', text, wall: calendarDay(text) };
  const instant = INSTANT.exec(text);
  if (instant) {
    calendarDay(instant[1] as string);
    const at = new Date(text.replace(' ', 'T'));
    if (!Number.isNaN(at.getTime())) {
      // Logical dates are kept to the second, like the run ids derived from them.
      return { kind: 'instant', text, at: new Date(Math.floor(at.getTime() / 1000) * 1000) };
    }
  }
  if (ZONELESS.test(text)) {
    // JavaScript would read it in this machine's zone: the same command would name another
    // instant on another machine.
    throw new LogicalDateError(`invalid date '${text}': an instant needs its zone, e.g. ${text}Z (UTC) or ${text}+01:00`);
  }
  throw new LogicalDateError(`invalid date '${text}': use YYYY-MM-DD (that day's fire time) or an instant with its zone, such as 2026-11-21T01:00:00Z`);
}

/** Midnight of `YYYY-MM-DD` as wall-clock epoch ms; refuses days the calendar lacks (2026-02-30). */
function calendarDay(text: string): number {
  const [y, m, d] = text.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  if (Number.isNaN(wall) || new Date(wall).toISOString().slice(0, 10) !== text) throw new LogicalDateError(`invalid date '${text}': no such day`);
  return wall;
}

/** The first instant of a local day: its midnight, or the end of a spring-forward gap that skipped midnight. */
function dayStart(timezone: string, wall: number): number {
  const [first] = instantsOfWall(timezone, wall);
  if (first !== undefined) return first;
  const gap = transitionsBetween(timezone, wall - DAY, wall + DAY).find((t) => t.at + t.before <= wall && wall < t.at + t.after);
  if (!gap) throw new Error(`cannot place midnight ${new Date(wall).toISOString().slice(0, 10)} in ${timezone}`);
  return gap.at;
}

/** A local day as instants, both ends inclusive. */
function dayBounds(timezone: string, wall: number): { start: Date; end: Date } {
  return { start: new Date(dayStart(timezone, wall)), end: new Date(dayStart(timezone, wall + DAY) - 1) };
}

export interface TriggerDate {
  logicalDate: Date;
  /** No date was given: the run is for the current second, off the DAG's schedule. */
  adHoc: boolean;
}

/** How many fire times an error lists when a bare date is ambiguous. */
const LISTED = 3;

/**
 * The logical date of a manual run (`sluice trigger`; messages name its `--date` flag): none
 * given is now, a bare date the day's single fire time, an instant a fire time as it is.
 */
export function triggerDate(spec: Pick<DagSpec, 'dagId' | 'schedule'>, arg: DateArg | undefined, now = new Date()): TriggerDate {
  if (!arg) return { logicalDate: new Date(Math.floor(now.getTime() / 1000) * 1000), adHoc: true };
  if (!spec.schedule) return { logicalDate: arg.kind === 'day' ? new Date(arg.wall) : arg.at, adHoc: false };
  const { cron, timezone } = spec.schedule;
  const schedule = `${spec.dagId} ('${cron}' in ${timezone})`;
  if (arg.kind === 'day') {
    const { start, end } = dayBounds(timezone, arg.wall);
    const fires = fireTimes(cron, timezone, start, end);
    if (fires.length === 1) return { logicalDate: fires[0] as Date, adHoc: false };
    if (fires.length === 0) {
      const next = nextFireTime(cron, timezone, end);
      throw new LogicalDateError(
        `${schedule} does not fire on ${arg.text}; ${next ? `its next fire time after that day is ${formatLogicalDate(next)}` : 'nor in the 30 years after it'}`,
      );
    }
    const listed = fires.slice(0, LISTED).map(formatLogicalDate).join(', ');
    throw new LogicalDateError(
      `${schedule} fires ${fires.length} times on ${arg.text} (${listed}${fires.length > LISTED ? ', …' : ''}); give the one you mean as an instant, e.g. --date ${formatLogicalDate(fires[0] as Date)}`,
    );
  }
  if (fireTimes(cron, timezone, arg.at, arg.at).length === 1) return { logicalDate: arg.at, adHoc: false };
  const nearest = [previousFireTime(cron, timezone, arg.at), nextFireTime(cron, timezone, arg.at)].filter((d): d is Date => d !== undefined);
  throw new LogicalDateError(
    `${arg.text} is not a fire time of ${schedule}; the nearest are ${nearest.map(formatLogicalDate).join(' and ')}. ` +
      `Give one of those, or --date YYYY-MM-DD to select that day's fire`,
  );
}

/**
 * The instants a range covers, both inclusive: a bare `from` from the start of its local day, a
 * bare `to` to the end of its local day (in the DAG's `timezone`); instants as they are.
 */
export function rangeBounds(timezone: string, from: DateArg, to: DateArg): { from: Date; to: Date } {
  return {
    from: from.kind === 'day' ? dayBounds(timezone, from.wall).start : from.at,
    to: to.kind === 'day' ? dayBounds(timezone, to.wall).end : to.at,
  };
}
