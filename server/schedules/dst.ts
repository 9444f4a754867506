/**
 * Sluice's DST policy (see fire-times.ts: a fire whose local wall time is missing or repeated
 * moves forward by the transition's shift, so `30 2 * * *` in Berlin runs exactly once every
 * local day, at 03:30 on both transition days) expressed as a Temporal Schedule spec.
 *
 * Temporal applies no such policy, and its calendar search (Temporal Server 1.32,
 * service/worker/scheduler/calendar.go, observed with `listScheduleMatchingTimes`) misbehaves
 * near transitions:
 * - gap: a wall time in the gap never fires (no run at all on 2027-03-28 for 02:30 Berlin);
 * - overlap: a daily 02:30 fires once, at the second 02:30 (CET). Sub-hourly crons drift: for
 *   every 20 min it fires 02:00 CEST, 02:20 CET, then 03:40 CET, losing 03:00 and 03:20, because
 *   after a second-copy time it adds 1 h to the next match in that hour. A cron firing in the hour
 *   before the overlap also fires a spurious first-copy time (`30 1 * * *` fires 02:30 CEST too);
 * - 30-min gaps (Lord Howe): a gap time fires shifted, and an earlier regular fire after the gap is
 *   jumped over;
 * - in a zone west of UTC whose gap starts at midnight (observed: Santiago), the gap day gets the
 *   previous day's weekday, so day-of-week crons skip that day or fire on it wrongly.
 *
 * The spec therefore keeps `cronExpressions` + `timezone` and adds, per transition within a
 * horizon, only for crons the transition touches:
 * - `skip`: the whole repeated window of an overlap (skip matches local fields, so both copies go;
 *   the policy never fires inside the window); and, on a midnight-gap day the cron does not fire
 *   on, the cron's times of that day;
 * - `calendars`, with explicit year/month/dayOfMonth/hour/minute/second: every moved fire, the
 *   cron's regular fires in the hour (or shift) after the window, which Temporal's search may jump
 *   past, and on a midnight-gap day the cron fires on, all of its fires that day. Where these
 *   coincide with cron fires, Temporal fires once.
 * Entries are grouped per local day (hours, minutes, seconds as ranges): a few per transition.
 *
 * Known limit: where an overlap ends mid-hour (Pacific/Chatham, 03:45 → 02:45), a cron firing
 * inside the repeated part of that hour loses its fires in the rest of the hour (03:45-03:59):
 * after a skipped second-copy time, Temporal cannot reach them with any spec.
 */
import type { CalendarSpec, Month } from '@temporalio/client';
import { cronDay, DAY, HOUR, MINUTE, parseCron, policyFire, SECOND, transitionsBetween, wallClockFires, type CronFields } from './fire-times';

/** The TypeScript SDK's name for a structured calendar (sent as a proto StructuredCalendarSpec). */
export type StructuredCalendarSpec = CalendarSpec;

export interface DstAdjustments {
  skip: StructuredCalendarSpec[];
  calendars: StructuredCalendarSpec[];
}

/**
 * The skip and calendar entries that make a `{ cronExpressions: [temporalCronString(cron)],
 * timezone }` schedule fire exactly `fireTimes(cron, timezone, …)`, for the zone's transitions
 * from `options.from` (default now) for `options.years` (default 5). Empty for zones without DST
 * and for crons no transition touches (`0 3 * * *` in Berlin). The schedule must be rewritten
 * within the horizon, or later transitions fall back to Temporal's raw behaviour.
 */
export function dstAdjustments(cron: string, timezone: string, options: { from?: Date; years?: number } = {}): DstAdjustments {
  const fields = parseCron(cron);
  const from = (options.from ?? new Date()).getTime();
  const until = new Date(from);
  until.setUTCFullYear(until.getUTCFullYear() + (options.years ?? 5));
  const skip: StructuredCalendarSpec[] = [];
  const explicit: number[] = []; // wall times to list as calendar entries
  const policyWall = (wall: number) => policyFire(timezone, wall).wall;
  for (const t of transitionsBetween(timezone, from, until.getTime())) {
    // The wall times the transition removes (gap) or repeats (overlap): [start, end].
    const start = t.at + Math.min(t.before, t.after);
    const end = t.at + Math.max(t.before, t.after) - 1;
    // A gap swallowing midnight: Temporal takes the day's weekday from its (missing) 00:00, so a
    // day-of-week cron's fires that day are pinned (or its spurious ones skipped) explicitly.
    const midnight = Math.ceil(start / DAY) * DAY;
    if (t.after > t.before && midnight <= end && fields.dayOfWeek.size < 7) {
      if (cronDay(fields, midnight)) explicit.push(...[...wallClockFires(fields, midnight, midnight + DAY - 1)].map(policyWall));
      else if (cronDay(fields, midnight, true)) skip.push(dayEntry(fields, midnight));
    }
    // The hour before the window counts: firing there triggers Temporal's spurious first copy.
    if (wallClockFires(fields, start - HOUR, end).next().done) continue;
    explicit.push(...[...wallClockFires(fields, start, end)].map(policyWall));
    explicit.push(...wallClockFires(fields, end + 1, end + Math.max(HOUR, Math.abs(t.after - t.before))));
    if (t.after < t.before) skip.push(...windowEntries(start, end));
  }
  return { skip, calendars: calendarEntries([...new Set(explicit)]) };
}

/**
 * The cron string to give Temporal. Temporal reads 6 fields as minute…day-of-week + *year*, so a
 * seconds-first 6-field cron (as cron-parser and node-cron read it) becomes Temporal's 7-field
 * `second minute hour dom month dow year`; anything else is passed through.
 */
export function temporalCronString(cron: string): string {
  const trimmed = cron.trim();
  return !trimmed.startsWith('@') && trimmed.split(/\s+/).length === 6 ? `${trimmed} *` : trimmed;
}

// ---------------------------------------------------------------------------------------------
// Calendar entries (wall times are epoch ms of the wall clock read as UTC)
// ---------------------------------------------------------------------------------------------

const MONTH_NAMES: readonly Month[] = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'];
const SKIP_WINDOW = 'Sluice DST: wall times repeated by a transition';
const SKIP_DAY = 'Sluice DST: the cron does not fire this day (Temporal misreads its weekday)';
const LISTED = 'Sluice DST: fires moved by, or next to, a transition';

function day(wall: number): Pick<StructuredCalendarSpec, 'year' | 'month' | 'dayOfMonth'> {
  const d = new Date(wall);
  return { year: d.getUTCFullYear(), month: MONTH_NAMES[d.getUTCMonth()] as Month, dayOfMonth: d.getUTCDate() };
}

/** Every wall time (to the second) in [start, end], one entry per local hour. */
function windowEntries(start: number, end: number): StructuredCalendarSpec[] {
  const entries: StructuredCalendarSpec[] = [];
  for (let hourStart = Math.floor(start / HOUR) * HOUR; hourStart <= end; hourStart += HOUR) {
    // tzdb transitions fall on whole minutes, so whole minutes are exact.
    const m0 = Math.floor((Math.max(start, hourStart) - hourStart) / MINUTE);
    const m1 = Math.floor((Math.min(end, hourStart + HOUR - 1) - hourStart) / MINUTE);
    const minute = m0 === 0 && m1 === 59 ? '*' : m0 === m1 ? m0 : { start: m0, end: m1 };
    entries.push({ ...day(hourStart), hour: new Date(hourStart).getUTCHours(), minute, second: '*', comment: SKIP_WINDOW });
  }
  return entries;
}

/** All of the cron's times of one local day, whatever its weekday. */
function dayEntry(cron: CronFields, dayStart: number): StructuredCalendarSpec {
  return { ...day(dayStart), hour: ranges(cron.hour), minute: ranges(cron.minute), second: ranges(cron.second), comment: SKIP_DAY };
}

/**
 * Exact entries for a set of wall times, per local day: hours that list the same minutes and
 * seconds share an entry. Each entry matches only listed times (a product of listed values).
 */
function calendarEntries(walls: number[]): StructuredCalendarSpec[] {
  const days = new Map<number, Map<number, Map<number, number[]>>>(); // day -> hour -> minute -> seconds
  for (const wall of [...walls].sort((a, b) => a - b)) {
    const dayStart = Math.floor(wall / DAY) * DAY;
    const hours = days.get(dayStart) ?? new Map<number, Map<number, number[]>>();
    days.set(dayStart, hours);
    const hour = Math.floor((wall - dayStart) / HOUR);
    const minutes = hours.get(hour) ?? new Map<number, number[]>();
    hours.set(hour, minutes);
    const minute = Math.floor((wall % HOUR) / MINUTE);
    minutes.set(minute, [...(minutes.get(minute) ?? []), Math.floor((wall % MINUTE) / SECOND)]);
  }
  const entries: StructuredCalendarSpec[] = [];
  for (const [dayStart, hours] of days) {
    const groups = new Map<string, { hours: number[]; minutes: number[]; seconds: number[] }>();
    for (const [hour, minutes] of hours) {
      const bySeconds = new Map<string, { minutes: number[]; seconds: number[] }>();
      for (const [minute, seconds] of minutes) {
        const g = bySeconds.get(seconds.join()) ?? { minutes: [], seconds };
        g.minutes.push(minute);
        bySeconds.set(seconds.join(), g);
      }
      for (const { minutes: ms, seconds } of bySeconds.values()) {
        const key = `${ms.join()}|${seconds.join()}`;
        const g = groups.get(key) ?? { hours: [], minutes: ms, seconds };
        g.hours.push(hour);
        groups.set(key, g);
      }
    }
    for (const g of groups.values()) {
      entries.push({ ...day(dayStart), hour: ranges(g.hours), minute: ranges(g.minutes), second: ranges(g.seconds), comment: LISTED });
    }
  }
  return entries;
}

type Ranges = { start: number; end: number; step: number }[];

/** Sorted distinct values as arithmetic runs: [0,15,30,45] -> 0-45/15; [30] -> 30. */
function ranges(values: number[]): number | Ranges {
  if (values.length === 1) return values[0] as number;
  const out: Ranges = [];
  for (let i = 0; i < values.length; ) {
    const start = values[i] as number;
    const next = values[i + 1];
    if (next === undefined) {
      out.push({ start, end: start, step: 1 });
      break;
    }
    let j = i + 1;
    while (j + 1 < values.length && (values[j + 1] as number) - (values[j] as number) === next - start) j++;
    out.push({ start, end: values[j] as number, step: next - start });
    i = j + 1;
  }
  return out;
}
