/**
 * Sluice's daylight-saving policy, and its translation into a Temporal Schedule spec.
 *
 * **Policy.** A cron is read as local wall-clock time in the DAG's IANA time zone. A fire whose
 * wall time does not exist (the spring-forward gap) or exists twice (the autumn overlap) moves
 * forward by the transition's shift (normally 1 h) to a wall time that exists once:
 * with `30 2 * * *` in Europe/Berlin, 02:30 on the spring day fires at 03:30 CEST and 02:30 on the
 * autumn day at 03:30 CET, so every local day gets exactly one run. A moved fire that lands on a
 * regular fire is that one fire, never two. A run's data interval is previous fire → this fire,
 * so intervals stay contiguous and no data is lost (the interval around a move is just longer or
 * shorter by the shift).
 *
 * **Why Temporal needs help** (observed on Temporal Server 1.32, `listScheduleMatchingTimes`):
 * - gap: a wall time in the gap never fires (02:30 Berlin on 2027-03-28 is simply missing);
 * - overlap: a daily 02:30 fires once, at the *second* 02:30 (CET); sub-hourly crons fire the
 *   repeated hour erratically (for every-20-min: 02:00 CEST, 02:20 CET, then 03:40 CET, losing the
 *   regular 03:00 and 03:20), because its calendar search adds a 1 h "second copy" offset.
 *
 * **Translation.** The spec keeps `cronExpressions` + `timezone` and adds, per transition in a
 * horizon: `skip` entries for each ambiguous wall time of the cron (skip is matched on local
 * fields, so it removes both occurrences) and `calendars` entries, with explicit
 * year/month/dayOfMonth/hour/minute/second, for each moved fire. Gap wall times need no skip
 * (Temporal never fires them). Moved fires get a calendar entry even when the cron itself fires
 * there: after a skipped second-copy time Temporal's cron search can jump an hour, and the
 * explicit entries are what keep those regular fires.
 *
 * Cron semantics are Temporal's (the schedule is the source of truth): day-of-month AND
 * day-of-week must both match (cron-parser and Vixie cron OR them), and `L`, `W`, `#`, `?`, `H`
 * are rejected. Assumes a zone's transitions are more than a day apart, true of every tzdb zone
 * in this century.
 */
import type { CalendarSpec, Month } from '@temporalio/client';
import { CronExpressionParser } from 'cron-parser';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------
// Cron, as Temporal reads it, enumerated in naive wall-clock time
// ---------------------------------------------------------------------------------------------

/** Each field's allowed values; sorted arrays where we iterate, sets where we only test. */
export interface CronFields {
  second: number[];
  minute: number[];
  hour: number[];
  dayOfMonth: ReadonlySet<number>;
  month: ReadonlySet<number>;
  /** 0 = Sunday (7 is folded into 0, as Temporal does). */
  dayOfWeek: ReadonlySet<number>;
}

const parsed = new Map<string, CronFields>();

/** Parses a 5-field (or 6-field, seconds first) cron; cron-parser does the syntax, we keep only values. */
export function parseCron(cron: string): CronFields {
  const hit = parsed.get(cron);
  if (hit) return hit;
  // Temporal rejects these; cron-parser reads `?` as `*`, `H` as a random value and `#` as a
  // side property, and keeps `L` as a string value (caught below).
  const unsupported = () => new Error(`cron '${cron}' uses syntax Temporal schedules do not support (L, W, #, ?, H)`);
  if (cron.split(/[\s,]+/).some((part) => /[?#]/.test(part) || /^h/i.test(part))) throw unsupported();
  const f = CronExpressionParser.parse(cron, { tz: 'UTC' }).fields;
  const nums = (values: readonly (number | string)[]): number[] => {
    if (values.some((v) => typeof v !== 'number')) throw unsupported();
    return [...new Set(values as number[])].sort((a, b) => a - b);
  };
  const fields: CronFields = {
    second: nums(f.second.values),
    minute: nums(f.minute.values),
    hour: nums(f.hour.values),
    dayOfMonth: new Set(nums(f.dayOfMonth.values)),
    month: new Set(nums(f.month.values)),
    dayOfWeek: new Set(nums(f.dayOfWeek.values).map((d) => d % 7)),
  };
  parsed.set(cron, fields);
  return fields;
}

/**
 * The cron's wall-clock fire times in [start, end], as epoch ms of the wall time read as if it
 * were UTC. No time zone is involved, so there is no DST here, by design.
 */
export function* wallClockFires(cron: CronFields, start: number, end: number): Generator<number> {
  for (let day = Math.floor(start / DAY) * DAY; day <= end; day += DAY) {
    const d = new Date(day);
    if (!cron.month.has(d.getUTCMonth() + 1) || !cron.dayOfMonth.has(d.getUTCDate()) || !cron.dayOfWeek.has(d.getUTCDay())) continue;
    for (const h of cron.hour) {
      const hourStart = day + h * HOUR;
      if (hourStart + HOUR <= start) continue;
      for (const m of cron.minute) {
        const minuteStart = hourStart + m * MINUTE;
        if (minuteStart + MINUTE <= start) continue;
        for (const s of cron.second) {
          const wall = minuteStart + s * SECOND;
          if (wall > end) return;
          if (wall >= start) yield wall;
        }
      }
    }
  }
}

/**
 * The cron string to give Temporal: its 6-field form is minute…day-of-week + *year*, so a
 * seconds-first 6-field cron (as cron-parser and node-cron read it) becomes Temporal's 7-field
 * `second minute hour dom month dow year`.
 */
export function temporalCronString(cron: string): string {
  const trimmed = cron.trim();
  return !trimmed.startsWith('@') && trimmed.split(/\s+/).length === 6 ? `${trimmed} *` : trimmed;
}

// ---------------------------------------------------------------------------------------------
// Time zone offsets and transitions
// ---------------------------------------------------------------------------------------------

/** A change of UTC offset at instant `at` (epoch ms); offsets in ms east of UTC. */
export interface Transition {
  at: number;
  before: number;
  after: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The zone's UTC offset at an instant, straight from ICU (slow-ish: cached per year below). */
function intlOffset(timezone: string, at: number): number {
  let f = formatters.get(timezone);
  if (!f) formatters.set(timezone, (f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' })));
  const name = f.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? '';
  const m = /^GMT(?:([+-])(\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(name);
  if (!m) throw new Error(`cannot read the UTC offset of ${timezone} from '${name}'`);
  const abs = Number(m[2] ?? 0) * HOUR + Number(m[3] ?? 0) * MINUTE + Number(m[4] ?? 0) * SECOND;
  return m[1] === '-' ? -abs : abs;
}

interface ZoneYear {
  startOffset: number;
  transitions: Transition[];
}
const zoneYears = new Map<string, ZoneYear>();

/**
 * A zone's transitions in one UTC year: sample the offset daily, then bisect each change to the
 * second. Scanning starts a day early so a transition at exactly 1 January is not lost.
 */
function zoneYear(timezone: string, year: number): ZoneYear {
  const key = `${timezone}\u0000${year}`;
  const hit = zoneYears.get(key);
  if (hit) return hit;
  const yearStart = Date.UTC(year, 0, 1);
  const yearEnd = Date.UTC(year + 1, 0, 1);
  const transitions: Transition[] = [];
  let lo = yearStart - DAY;
  let loOffset = intlOffset(timezone, lo);
  while (lo < yearEnd) {
    const hi = lo + DAY;
    const hiOffset = intlOffset(timezone, hi);
    if (hiOffset !== loOffset) {
      let a = lo;
      let b = hi;
      while (b - a > SECOND) {
        const mid = a + Math.floor((b - a) / 2 / SECOND) * SECOND;
        if (intlOffset(timezone, mid) === loOffset) a = mid;
        else b = mid;
      }
      if (b >= yearStart && b < yearEnd) transitions.push({ at: b, before: loOffset, after: intlOffset(timezone, b) });
    }
    lo = hi;
    loOffset = hiOffset;
  }
  const result = { startOffset: intlOffset(timezone, yearStart), transitions };
  zoneYears.set(key, result);
  return result;
}

/** The zone's UTC offset (ms) at an instant. */
export function offsetAt(timezone: string, at: number): number {
  const { startOffset, transitions } = zoneYear(timezone, new Date(at).getUTCFullYear());
  let offset = startOffset;
  for (const t of transitions) if (t.at <= at) offset = t.after;
  return offset;
}

/** The zone's transitions in [from, to]. */
export function transitionsBetween(timezone: string, from: number, to: number): Transition[] {
  const out: Transition[] = [];
  for (let y = new Date(from).getUTCFullYear(); y <= new Date(to).getUTCFullYear(); y++) {
    for (const t of zoneYear(timezone, y).transitions) if (t.at >= from && t.at <= to) out.push(t);
  }
  return out;
}

/** The instants (sorted) at which the zone's clocks read `wall`: none in a gap, two in an overlap. */
export function instantsOfWall(timezone: string, wall: number): number[] {
  // A wall time's instant is within 14 h of it, so the offsets a day either side cover any
  // transition that could make it missing or repeated.
  const offsets = new Set([offsetAt(timezone, wall - DAY), offsetAt(timezone, wall + DAY)]);
  const out: number[] = [];
  for (const o of offsets) if (offsetAt(timezone, wall - o) === o) out.push(wall - o);
  return out.sort((a, b) => a - b);
}

// ---------------------------------------------------------------------------------------------
// The policy
// ---------------------------------------------------------------------------------------------

/** Where the policy fires a cron wall time: itself if it exists once, else moved forward by the shift. */
export function policyFire(timezone: string, wall: number): { wall: number; at: number } {
  let w = wall;
  for (let hops = 0; hops < 3; hops++) {
    const instants = instantsOfWall(timezone, w);
    if (instants.length === 1) return { wall: w, at: instants[0] as number };
    w += Math.abs(offsetAt(timezone, w + DAY) - offsetAt(timezone, w - DAY));
  }
  throw new Error(`no single instant for wall time ${new Date(wall).toISOString().slice(0, 19)} in ${timezone}`);
}

// ---------------------------------------------------------------------------------------------
// Temporal spec entries
// ---------------------------------------------------------------------------------------------

/** The TypeScript SDK's name for a structured calendar (it becomes a proto StructuredCalendarSpec). */
export type StructuredCalendarSpec = CalendarSpec;

export interface DstAdjustments {
  skip: StructuredCalendarSpec[];
  calendars: StructuredCalendarSpec[];
}

const MONTH_NAMES: readonly Month[] = ['JANUARY', 'FEBRUARY', 'MARCH', 'APRIL', 'MAY', 'JUNE', 'JULY', 'AUGUST', 'SEPTEMBER', 'OCTOBER', 'NOVEMBER', 'DECEMBER'];

/**
 * The skip and calendar entries that make a `cronExpressions: [cron]` + `timezone` schedule follow
 * Sluice's DST policy (see the module comment) for every transition of `timezone` from
 * `options.from` (default now) for `options.years` (default 5). Empty for zones without DST.
 * Entries are grouped per local day and hour (minutes and seconds as ranges), so even a
 * `*\/5 * * * *` cron gets a handful of entries per transition. The schedule must be refreshed
 * within the horizon, or fires after it fall back to Temporal's raw behaviour.
 */
export function dstAdjustments(cron: string, timezone: string, options: { from?: Date; years?: number } = {}): DstAdjustments {
  const fields = parseCron(cron);
  const from = (options.from ?? new Date()).getTime();
  const until = new Date(from);
  until.setUTCFullYear(until.getUTCFullYear() + (options.years ?? 5));
  const skipped: number[] = [];
  const moved: number[] = [];
  for (const t of transitionsBetween(timezone, from, until.getTime())) {
    // The wall times the transition removes (gap) or repeats (overlap): [start, start + |shift|).
    const start = t.at + Math.min(t.before, t.after);
    const end = t.at + Math.max(t.before, t.after) - 1;
    for (const wall of wallClockFires(fields, start, end)) {
      if (t.after < t.before) skipped.push(wall);
      moved.push(policyFire(timezone, wall).wall);
    }
  }
  return {
    skip: calendarEntries(skipped, 'Sluice DST: repeated wall time, fires moved forward'),
    calendars: calendarEntries([...new Set(moved)], 'Sluice DST: fire moved out of a gap or overlap'),
  };
}

/**
 * Exact calendar entries for a set of wall times: one per local day + hour + set of seconds,
 * whose minutes (and seconds) are written as ranges. Each entry matches only listed wall times.
 */
function calendarEntries(walls: number[], comment: string): StructuredCalendarSpec[] {
  const byHour = new Map<number, Map<number, number[]>>(); // hour start -> minute -> seconds
  for (const wall of [...walls].sort((a, b) => a - b)) {
    const hourStart = Math.floor(wall / HOUR) * HOUR;
    const minutes = byHour.get(hourStart) ?? new Map<number, number[]>();
    byHour.set(hourStart, minutes);
    const minute = Math.floor((wall - hourStart) / MINUTE);
    minutes.set(minute, [...(minutes.get(minute) ?? []), Math.floor((wall % MINUTE) / SECOND)]);
  }
  const entries: StructuredCalendarSpec[] = [];
  for (const [hourStart, minutes] of byHour) {
    const bySeconds = new Map<string, { seconds: number[]; minutes: number[] }>();
    for (const [minute, seconds] of minutes) {
      const group = bySeconds.get(seconds.join()) ?? { seconds, minutes: [] };
      group.minutes.push(minute);
      bySeconds.set(seconds.join(), group);
    }
    const d = new Date(hourStart);
    for (const group of bySeconds.values()) {
      entries.push({
        year: d.getUTCFullYear(),
        month: MONTH_NAMES[d.getUTCMonth()] as Month,
        dayOfMonth: d.getUTCDate(),
        hour: d.getUTCHours(),
        minute: ranges(group.minutes),
        second: ranges(group.seconds),
        comment,
      });
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
    const step = next - start;
    let j = i + 1;
    while (j + 1 < values.length && (values[j + 1] as number) - (values[j] as number) === step) j++;
    out.push({ start, end: values[j] as number, step });
    i = j + 1;
  }
  return out;
}
