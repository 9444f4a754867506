/**
 * A DAG's fire times as its Temporal schedule fires them (cron + time zone + the DST adjustments
 * of dst.ts), computed locally for backfills, previews, catch-up and data intervals.
 *
 * We do not iterate cron-parser in the zone: it disagrees with Temporal and with itself at DST
 * transitions (observed with cron-parser 5.10: `next()` moves a gap fire forward while `prev()`
 * drops it; in an overlap `next()` yields only the first 02:30 of a daily cron but both of
 * sub-hourly ones, `prev()` yields both). Instead the cron is enumerated in naive wall-clock time
 * and each wall time is placed by the policy.
 */
import { HOUR, DAY, offsetAt, parseCron, policyFire, wallClockFires, type CronFields } from './dst';

/**
 * Wall times whose policy fire can land in [from, to]. Wall clocks run back at most one shift
 * (≤ 2 h in tzdb) and moves go forward by one shift, so a few hours either side suffices.
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
 * once, under Sluice's DST policy: exactly what the Temporal schedule fires. Throws when there are
 * more than `limit`.
 */
export function fireTimes(cron: string, timezone: string, from: Date, to: Date, limit = 100_000): Date[] {
  const fires = new Set<number>(); // a moved fire may land on a regular one: one fire
  for (const at of policyFiresBetween(parseCron(cron), timezone, from.getTime(), to.getTime())) {
    fires.add(at);
    if (fires.size > limit) throw new Error(`more than ${limit} fire times of '${cron}' (${timezone}) between ${from.toISOString()} and ${to.toISOString()}`);
  }
  return [...fires].sort((a, b) => a - b).map((at) => new Date(at));
}

/** How far back previousFireTime looks (Feb 29 on a given weekday recurs within 28 years). */
const MAX_LOOKBACK = 30 * 366 * DAY;

/**
 * The latest fire time strictly before `before` under the same policy (so data intervals, previous
 * fire → this fire, stay contiguous across transitions); undefined if none within 30 years.
 */
export function previousFireTime(cron: string, timezone: string, before: Date): Date | undefined {
  const fields = parseCron(cron);
  const to = before.getTime() - 1;
  // Widening windows: dense crons are answered from the first hour, sparse ones cost a few passes.
  for (let span = HOUR; ; span = Math.min(span * 8, MAX_LOOKBACK)) {
    let latest: number | undefined;
    for (const at of policyFiresBetween(fields, timezone, to - span, to)) if (latest === undefined || at > latest) latest = at;
    if (latest !== undefined) return new Date(latest);
    if (span === MAX_LOOKBACK) return undefined;
  }
}
