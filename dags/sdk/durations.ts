/** Units accepted in duration strings: milliseconds, seconds, minutes, hours, days. */
export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd';

/**
 * A duration as written in DAG files: `'30s'`, `'5m'`, `'2h'`, `'1d'`, `'250ms'`, or a plain
 * number of milliseconds. Template-literal typed, so `'5 minutes'` is already a compile error.
 */
export type Duration = number | `${number}${DurationUnit}`;

const UNIT_MS: Record<DurationUnit, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;

/**
 * Converts a {@link Duration} to whole milliseconds.
 * @throws RangeError naming the offending value when it is not a valid, non-negative duration.
 */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
    throw new RangeError(`invalid duration ${value}: expected a non-negative number of milliseconds`);
  }
  const match = typeof value === 'string' ? PATTERN.exec(value.trim()) : null;
  if (!match) {
    throw new RangeError(`invalid duration ${JSON.stringify(value)}: expected e.g. '30s', '5m', '2h', '1d' or milliseconds`);
  }
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as DurationUnit]);
}
