/**
 * Axis ticks: "nice" numbers (1, 2 or 5 × 10ⁿ) for values, and steps a person reads at a glance
 * for times (seconds, minutes, hours, days), either relative (`+1.5 s`, a Gantt chart from its
 * start) or as UTC clock times and dates.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface Ticks {
  /** The axis range, widened to whole steps. */
  lo: number;
  hi: number;
  values: number[];
}

/** At most about `target` + 1 ticks covering [min, max], at a 1-2-5 step. */
export function niceTicks(min: number, max: number, target = 5): Ticks {
  if (min === max) {
    // One value: show a band around it rather than a zero-height axis.
    const pad = min === 0 ? 1 : Math.abs(min) / 10;
    return niceTicks(min - pad, max + pad, target);
  }
  const step = niceStep((max - min) / target);
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  const lo = Math.floor(min / step) * step;
  const hi = Math.ceil(max / step) * step;
  const values: number[] = [];
  for (let i = 0; lo + i * step <= hi + step / 2; i++) values.push(Number((lo + i * step).toFixed(decimals)));
  return { lo: values[0] ?? lo, hi: values[values.length - 1] ?? hi, values };
}

function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

/** Numbers as people write them: `1,234`, `0.25`, `-3.5`. */
export function fmtNumber(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

const RELATIVE_STEPS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 2 * MINUTE,
  5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY,
];

/** Ticks from 0 to `span` ms, labelled as offsets from the start: `0`, `+500 ms`, `+1.5 s`, `+2 min`. */
export function relativeTimeTicks(span: number, target = 6): Array<{ at: number; label: string }> {
  const step = RELATIVE_STEPS.find((s) => span / s <= target) ?? Math.ceil(span / target / DAY) * DAY;
  // The unit follows the step, so every label on one axis uses the same one.
  const [unit, name] =
    step < 100 ? [1, 'ms'] : step < 30 * SECOND ? [SECOND, 's'] : step < 30 * MINUTE ? [MINUTE, 'min'] : step < 12 * HOUR ? [HOUR, 'h'] : [DAY, 'd'];
  const ticks: Array<{ at: number; label: string }> = [];
  for (let t = 0; t <= span; t += step) ticks.push({ at: t, label: t === 0 ? '0' : `+${Math.round((t / unit) * 10) / 10} ${name}` });
  return ticks;
}

const CLOCK_STEPS = [
  SECOND, 5 * SECOND, 15 * SECOND, 30 * SECOND, MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 365 * DAY,
];

/** Ticks at round UTC times within [min, max] ms since the epoch, labelled by what changes between them. */
export function clockTicks(min: number, max: number, target = 6): Array<{ at: number; label: string }> {
  const step = CLOCK_STEPS.find((s) => (max - min) / s <= target) ?? Math.ceil((max - min) / target / (365 * DAY)) * 365 * DAY;
  const multiDay = max - min > DAY || new Date(min).getUTCDate() !== new Date(max).getUTCDate();
  const label = (t: number) => {
    const iso = new Date(t).toISOString();
    if (step >= DAY) return iso.slice(0, 10);
    if (step < MINUTE) return iso.slice(11, 19);
    return multiDay ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
  };
  const ticks: Array<{ at: number; label: string }> = [];
  for (let t = Math.ceil(min / step) * step; t <= max; t += step) ticks.push({ at: t, label: label(t) });
  return ticks;
}

/** A UTC time the way the console prints them: `2026-11-30 04:00:05`. */
export function fmtUtc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** A duration: `850 ms`, `1.2 s`, `2 min 5 s`, `1 h 3 min`, `2 d 4 h`. */
export function fmtSpan(ms: number): string {
  if (ms < SECOND) return `${Math.round(ms)} ms`;
  if (ms < MINUTE) return `${Math.round(ms / 100) / 10} s`;
  const pair = (big: number, bigName: string, small: number, smallName: string) => {
    const whole = Math.floor(ms / big);
    const rest = Math.floor((ms - whole * big) / small);
    return rest === 0 ? `${whole} ${bigName}` : `${whole} ${bigName} ${rest} ${smallName}`;
  };
  if (ms < HOUR) return pair(MINUTE, 'min', SECOND, 's');
  if (ms < DAY) return pair(HOUR, 'h', MINUTE, 'min');
  return pair(DAY, 'd', HOUR, 'h');
}
