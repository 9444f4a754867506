/**
 * Days and times of the demo (all UTC): which day is which, how busy it is, and when in the day
 * things happen.
 */
import type { Random } from './random';

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** One seeded day. `number` (days since 1970-01-01) names its RNG streams and its ids. */
export interface DemoDay {
  /** YYYY-MM-DD */
  date: string;
  /** YYYYMMDD, as it appears in order numbers and partner order ids. */
  compact: string;
  /** 0 for the first seeded day. */
  index: number;
  /** Days since 1970-01-01: the same date always gets the same ids, whatever `--start` was. */
  number: number;
  startMs: number;
  endMs: number;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The day for YYYY-MM-DD, or undefined when it is no real date. */
export function parseDay(text: string): number | undefined {
  const m = DATE.exec(text);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).toISOString().slice(0, 10) === text ? ms / DAY_MS : undefined;
}

export function dayAt(start: string, index: number): DemoDay {
  const first = parseDay(start);
  if (first === undefined) throw new Error(`not a YYYY-MM-DD date: ${start}`);
  const number = first + index;
  const date = new Date(number * DAY_MS).toISOString().slice(0, 10);
  return { date, compact: date.replaceAll('-', ''), index, number, startMs: number * DAY_MS, endMs: (number + 1) * DAY_MS };
}

/**
 * How busy a day is relative to `--orders-per-day`: weekends ~30% busier than weekdays, scaled so
 * a whole week averages 1, with a few percent of day-to-day noise.
 */
export function dayVolume(day: DemoDay, rng: Random): number {
  const weekday = new Date(day.startMs).getUTCDay();
  const weekend = weekday === 0 || weekday === 6;
  const base = (weekend ? 1.3 : 1) * (7 / 7.6);
  return base * Math.max(0.85, Math.min(1.15, 1 + 0.04 * rng.normal()));
}

/** Relative activity per UTC hour: quiet nights, a lunch peak and a bigger evening peak. */
const HOURLY = [0.5, 0.3, 0.2, 0.15, 0.15, 0.25, 0.6, 1.1, 1.7, 2.1, 2.5, 3.2, 4.1, 3.7, 2.9, 2.7, 2.9, 3.5, 4.3, 5.0, 4.7, 3.8, 2.4, 1.2];
const HOURLY_CDF = cumulative(HOURLY);

/** A moment in the day, following the daily curve (millisecond precision). */
export function timeOfDay(day: DemoDay, rng: Random): number {
  const u = rng.float();
  let hour = 0;
  while (hour < 23 && (HOURLY_CDF[hour] as number) <= u) hour++;
  return day.startMs + hour * HOUR_MS + Math.floor(rng.float() * HOUR_MS);
}

/** A moment anywhere in the day, uniformly (for changes to customers and prices). */
export function anyTime(day: DemoDay, rng: Random): number {
  return day.startMs + Math.floor(rng.float() * DAY_MS);
}

function cumulative(weights: number[]): number[] {
  const total = weights.reduce((s, w) => s + w, 0);
  let sum = 0;
  return weights.map((w) => (sum += w / total));
}

/** The first of `days` days that end yesterday (UTC): the default span of a demo seed. */
export function recentDaysStart(days: number, now = Date.now()): string {
  const today = Math.floor(now / DAY_MS) * DAY_MS;
  return new Date(today - days * DAY_MS).toISOString().slice(0, 10);
}
