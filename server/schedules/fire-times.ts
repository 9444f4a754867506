/**
 * A DAG's fire times under Sluice's DST policy: what its Temporal schedule fires (cron + time
 * zone + the adjustments of dst.ts), computed locally for backfills, previews, catch-up and data
 * intervals.
 *
 * **The policy.** A cron is read as local wall-clock time in the DAG's IANA time zone. A fire
 * whose wall time does not exist (spring-forward gap) or exists twice (autumn overlap) moves
 * forward by the transition's shift (normally 1 h) to a wall time that exists once: with
 * `30 2 * * *` in Europe/Berlin, 02:30 on the spring day fires at 03:30 CEST and 02:30 on the
 * autumn day at 03:30 CET, so every local day gets exactly one run. A moved fire that lands on a
 * regular fire is that one fire, never two. A run's data interval is previous fire → this fire,
 * so intervals stay contiguous and no data is lost; around a move an interval is just longer or
 * shorter (a sub-hourly cron has one 2 h 15 min interval on the autumn day: 01:45 CEST → 03:00 CET).
 *
 * **Cron semantics are Temporal's**, since the schedule is what fires: day-of-month AND
 * day-of-week must both match (cron-parser and Vixie cron OR them when both are restricted), and
 * `L`, `W`, `#`, `?` and `H` are rejected. cron-parser is used only to parse.
 *
 * We do not iterate cron-parser in the zone: at transitions it disagrees with Temporal and with
 * itself (cron-parser 5.10: `next()` moves a gap fire forward while `prev()` drops it; in an
 * overlap `next()` yields only the first 02:30 of a daily cron but both copies for sub-hourly
 * crons, and `prev()` yields both). The cron is enumerated in naive wall-clock time instead, and
 * each wall time is placed by the policy.
 *
 * Assumes a zone's transitions are more than a day apart (true of every tzdb zone this century).
 */
import { CronExpressionParser } from 'cron-parser';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

// ---------------------------------------------------------------------------------------------
// The cron, enumerated in naive wall-clock time
// ---------------------------------------------------------------------------------------------

/** Each field's allowed values: sorted arrays where we iterate, sets where we only test. */
export interface CronFields {
  second: number[];
  minute: number[];
  hour: number[];
  dayOfMonth: ReadonlySet<number>;
  month: ReadonlySet<number>;
  /** 0 = Sunday (7 folded into 0, as Temporal does). */
  dayOfWeek: ReadonlySet<number>;
}

const parsed = new Map<string, CronFields>();

/** Parses a 5-field or 6-field (seconds first) cron as Temporal will read it. */
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

/** Whether the cron fires on the day starting at wall time `day`; `ignoreWeekday` tests only month and day of month. */
export function cronDay(cron: CronFields, day: number, ignoreWeekday = false): boolean {
  const d = new Date(day);
  return cron.month.has(d.getUTCMonth() + 1) && cron.dayOfMonth.has(d.getUTCDate()) && (ignoreWeekday || cron.dayOfWeek.has(d.getUTCDay()));
}

/**
 * The cron's wall-clock fire times in [start, end], as epoch ms of the wall time read as if it
 * were UTC. No time zone is involved, so there is no DST here, by design.
 */
export function* wallClockFires(cron: CronFields, start: number, end: number): Generator<number> {
  for (let day = Math.floor(start / DAY) * DAY; day <= end; day += DAY) {
    if (!cronDay(cron, day)) continue;
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

/** The zone's UTC offset at an instant, from ICU (slow-ish, so cached per year below). */
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
 * A zone's transitions in one UTC year: sample the offset daily, bisect each change to the
 * second. The scan starts a day early so a transition at exactly 1 January is not lost.
 */
function zoneYear(timezone: string, year: number): ZoneYear {
  const key = `${timezone}\u0000${year}`;
  const hit = zoneYears.get(key);
  if (hit) return hit;
  const yearStart = Date.UTC(year, 0, 1);
  const yearEnd = Date.UTC(year + 1, 0, 1);
  const transitions: Transition[] = [];
  for (let lo = yearStart - DAY, loOffset = intlOffset(timezone, lo); lo < yearEnd; ) {
    const hi = lo + DAY;
    const hiOffset = intlOffset(timezone, hi);
    if (hiOffset !== loOffset) {
      let [a, b] = [lo, hi];
      while (b - a > SECOND) {
        const mid = a + Math.floor((b - a) / 2 / SECOND) * SECOND;
        if (intlOffset(timezone, mid) === loOffset) a = mid;
        else b = mid;
      }
      if (b >= yearStart && b < yearEnd) transitions.push({ at: b, before: loOffset, after: intlOffset(timezone, b) });
    }
    [lo, loOffset] = [hi, hiOffset];
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

/** The zone's transitions at instants in [from, to]. */
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

/** Where the policy fires a cron wall time: there if it exists once, else moved forward by the shift. */
export function policyFire(timezone: string, wall: number): { wall: number; at: number } {
  let w = wall;
  for (let hops = 0; hops < 3; hops++) {
    const instants = instantsOfWall(timezone, w);
    if (instants.length === 1) return { wall: w, at: instants[0] as number };
    w += Math.abs(offsetAt(timezone, w + DAY) - offsetAt(timezone, w - DAY));
  }
  throw new Error(`no single instant for wall time ${new Date(wall).toISOString().slice(0, 19)} in ${timezone}`);
}

/**
 * Wall times whose policy fire can land in [from, to]: wall clocks run back at most one shift
 * (≤ 2 h in tzdb) and moves go forward by one shift, so a few hours either side suffice.
 */
const WALL_MARGIN = 6 * HOUR;

function* policyFiresBetween(fields: CronFields, timezone: string, from: number, to: number): Generator<number> {
  const walls = wallClockFires(fields, from + offsetAt(timezone, from) - WALL_MARGIN, to + offsetAt(timezone, to) + WALL_MARGIN);
  for (const wall of walls) {
    const { at } = policyFire(timezone, wall);
    if (at >= from && at <= to) yield at;
  }
}

/**
 * The fire times of `cron` in `timezone` between `from` and `to` (both inclusive), sorted, each
 * once, under Sluice's DST policy: exactly what the Temporal schedule fires. Throws when there
 * are more than `limit`.
 */
export function fireTimes(cron: string, timezone: string, from: Date, to: Date, limit = 100_000): Date[] {
  const fires = new Set<number>(); // a moved fire may land on a regular one: one fire
  for (const at of policyFiresBetween(parseCron(cron), timezone, from.getTime(), to.getTime())) {
    fires.add(at);
    if (fires.size > limit) throw new Error(`more than ${limit} fire times of '${cron}' (${timezone}) between ${from.toISOString()} and ${to.toISOString()}`);
  }
  return [...fires].sort((a, b) => a - b).map((at) => new Date(at));
}

/** How far back previousFireTime looks (29 February on a given weekday recurs within 28 years). */
const MAX_LOOKBACK = 30 * 366 * DAY;

/**
 * The latest fire time strictly before `before`, under the same policy (so data intervals,
 * previous fire → this fire, stay contiguous across transitions); undefined if none in 30 years.
 */
export function previousFireTime(cron: string, timezone: string, before: Date): Date | undefined {
  const fields = parseCron(cron);
  const to = before.getTime() - 1;
  // Widening windows: dense crons are answered from the first hour, sparse ones in a few passes.
  for (let span = HOUR; ; span = Math.min(span * 8, MAX_LOOKBACK)) {
    let latest: number | undefined;
    for (const at of policyFiresBetween(fields, timezone, to - span, to)) if (latest === undefined || at > latest) latest = at;
    if (latest !== undefined) return new Date(latest);
    if (span === MAX_LOOKBACK) return undefined;
  }
}

/** The earliest fire time strictly after `after`, under the same policy; undefined if none in 30 years. */
export function nextFireTime(cron: string, timezone: string, after: Date): Date | undefined {
  const fields = parseCron(cron);
  const from = after.getTime() + 1;
  for (let span = HOUR; ; span = Math.min(span * 8, MAX_LOOKBACK)) {
    let earliest: number | undefined;
    for (const at of policyFiresBetween(fields, timezone, from, from + span)) if (earliest === undefined || at < earliest) earliest = at;
    if (earliest !== undefined) return new Date(earliest);
    if (span === MAX_LOOKBACK) return undefined;
  }
}
