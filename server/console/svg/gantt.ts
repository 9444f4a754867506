import { stateStyle, type StateStyle } from '../html/states';
import { legend, stateLegendItems } from './legend';
import { fmtSpan, fmtUtc, relativeTimeTicks } from './ticks';
import { charsThatFit, escXml, n, noDataSvg, svgRoot, textWidth, truncate } from './xml';

export interface GanttBar {
  /** ISO time. */
  start: string;
  /** ISO time; a bar without one is still going and runs to `now`. */
  end?: string;
  state: string;
  /** E.g. `attempt 2`; printed in the bar when it fits, and in its tooltip. */
  label?: string;
}

export interface GanttRow {
  id: string;
  label: string;
  /** When the task could have started (its upstreams were done); the wait until its first bar is drawn as a queue gap. */
  readyAt?: string;
  /** One per attempt. */
  bars: GanttBar[];
}

export interface GanttInput {
  rows: GanttRow[];
  now: Date;
  ariaLabel: string;
}

const WIDTH = 960;
const ROW_HEIGHT = 24;
const BAR_HEIGHT = 14;
const AXIS_HEIGHT = 28;
const FONT_SIZE = 12;
const SYMBOL_SIZE = 10;
const HATCH_ID = 'sluice-gantt-hatch';
const HATCH = `url(#${HATCH_ID})`;

interface Span {
  start: number;
  end: number;
  open: boolean;
  bar: GanttBar;
}

interface Prepared {
  row: GanttRow;
  spans: Span[];
  /** From readyAt to the first attempt, or to now while none has started. */
  gap?: { from: number; to: number; waiting: boolean };
}

/**
 * A run's tasks on one time line: a row per task, a bar per attempt coloured (and marked with the
 * symbol of) its state, and a hatched queue gap from when the task was ready to when its first
 * attempt started, so time lost waiting for a worker shows as plainly as time spent running.
 * The axis counts from the earliest time shown (`+1.5 s`, `+2 min`).
 */
export function ganttSvg(input: GanttInput): string {
  const now = input.now.getTime();
  const rows = input.rows.map((row) => prepare(row, now));
  const times = rows.flatMap((r) => [...r.spans.flatMap((s) => [s.start, s.end]), ...(r.gap ? [r.gap.from, r.gap.to] : [])]);
  if (times.length === 0) return noDataSvg(input.ariaLabel, rows.length === 0 ? 'No tasks' : 'No task has started yet');

  const t0 = Math.min(...times);
  const span = Math.max(Math.max(...times) - t0, 1000);
  const labelWidth = Math.min(220, Math.max(100, ...rows.map((r) => textWidth(r.row.label, FONT_SIZE) + 12)));
  const plotLeft = labelWidth + 12;
  const plotRight = WIDTH - 28;
  const x = (t: number) => plotLeft + ((t - t0) / span) * (plotRight - plotLeft);
  const plotBottom = AXIS_HEIGHT + rows.length * ROW_HEIGHT;

  const ticks = relativeTimeTicks(span).map(
    (tick) =>
      `<line x1="${n(x(t0 + tick.at))}" y1="${AXIS_HEIGHT - 4}" x2="${n(x(t0 + tick.at))}" y2="${plotBottom}" stroke="#e0e0e0"/>` +
      `<text x="${n(x(t0 + tick.at))}" y="${AXIS_HEIGHT - 10}" text-anchor="middle" font-size="11" fill="#555555">${escXml(tick.label)}</text>`,
  );
  const rowsSvg = rows.map((r, i) => renderRow(r, i, { labelWidth, x, plotRight }));

  const live = rows.some((r) => r.gap?.waiting || r.spans.some((s) => s.open));
  const nowLine = live
    ? `<line class="now" x1="${n(x(now))}" y1="${AXIS_HEIGHT - 4}" x2="${n(x(now))}" y2="${plotBottom}" stroke="#222222" stroke-dasharray="3 3"><title>now, ${escXml(fmtUtc(now))} UTC</title></line>`
    : '';

  const caption = `<text class="caption" x="4" y="${plotBottom + 18}" font-size="11" fill="#555555">0 = ${escXml(fmtUtc(t0))} UTC</text>`;
  const items = stateLegendItems(rows.flatMap((r) => r.spans.map((s) => s.bar.state)));
  if (rows.some((r) => r.gap)) items.push({ fill: HATCH, label: 'waiting to start (queued)' });
  const key = legend(items, 4, plotBottom + 30, WIDTH - 8);
  const defs =
    `<defs><pattern id="${HATCH_ID}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
    `<rect width="6" height="6" fill="#f2f2f2"/><line x1="0" y1="0" x2="0" y2="6" stroke="#999999" stroke-width="2"/></pattern></defs>`;
  return svgRoot({
    width: WIDTH,
    height: plotBottom + 30 + key.height + 4,
    ariaLabel: input.ariaLabel,
    className: 'gantt',
    body: [defs, `<g class="axis">${ticks.join('')}</g>`, `<g class="rows">${rowsSvg.join('\n')}</g>`, nowLine, caption, key.svg].join('\n'),
  });
}

function prepare(row: GanttRow, now: number): Prepared {
  const spans = row.bars
    .flatMap((bar): Span[] => {
      const start = Date.parse(bar.start);
      if (!Number.isFinite(start)) return [];
      const end = bar.end === undefined ? NaN : Date.parse(bar.end);
      const open = !Number.isFinite(end);
      // A clock a little off must not draw a bar backwards.
      return [{ start, end: Math.max(start, open ? now : end), open, bar }];
    })
    .sort((a, b) => a.start - b.start);
  const ready = row.readyAt === undefined ? NaN : Date.parse(row.readyAt);
  const firstStart = spans[0]?.start ?? now;
  const gap = Number.isFinite(ready) && ready < firstStart ? { from: ready, to: firstStart, waiting: spans.length === 0 } : undefined;
  return { row, spans, gap };
}

function renderRow(r: Prepared, i: number, scale: { labelWidth: number; x: (t: number) => number; plotRight: number }): string {
  const top = AXIS_HEIGHT + i * ROW_HEIGHT;
  const mid = top + ROW_HEIGHT / 2;
  const barTop = mid - BAR_HEIGHT / 2;
  const { x } = scale;
  const parts: string[] = [];
  // Stripes guide the eye from a label to its bars across a wide chart.
  if (i % 2 === 1) parts.push(`<rect x="0" y="${top}" width="${WIDTH}" height="${ROW_HEIGHT}" fill="#f6f6f6"/>`);
  const label = truncate(r.row.label, charsThatFit(scale.labelWidth - 12, FONT_SIZE));
  parts.push(
    `<g class="label"><title>${escXml(r.row.label)}</title><text x="${n(scale.labelWidth)}" y="${n(mid)}" dy="0.35em" text-anchor="end" fill="#222222">${escXml(label)}</text></g>`,
  );
  if (r.gap) {
    const wait = fmtSpan(r.gap.to - r.gap.from);
    parts.push(
      `<rect class="queue-gap" x="${n(x(r.gap.from))}" y="${n(barTop)}" width="${n(Math.max(1, x(r.gap.to) - x(r.gap.from)))}" height="${BAR_HEIGHT}" fill="${HATCH}" stroke="#999999">` +
        `<title>${escXml(r.gap.waiting ? `queued ${wait} so far, not started yet` : `queued ${wait}`)}</title></rect>`,
    );
  }
  r.spans.forEach((s, k) => {
    const style = stateStyle(s.bar.state);
    const left = x(s.start);
    const width = Math.max(1.5, x(s.end) - left);
    const next = r.spans[k + 1];
    const nextLeft = next ? x(next.start) : scale.plotRight + 20;
    const tooltip =
      `${s.bar.label ? `${s.bar.label}: ` : ''}${style.label}, ${fmtUtc(s.start)} → ` +
      `${s.open ? 'now (still going)' : fmtUtc(s.end).slice(11)} (${fmtSpan(s.end - s.start)})`;
    const mark = barMark(style, s.bar.label, left, width, mid, nextLeft - (left + width));
    parts.push(
      `<g class="bar" data-state="${escXml(s.bar.state)}"><title>${escXml(tooltip)}</title>` +
        `<rect x="${n(left)}" y="${n(barTop)}" width="${n(width)}" height="${BAR_HEIGHT}" rx="2" fill="${style.color}" stroke="#444444" stroke-width="0.5"/>${mark}</g>`,
    );
  });
  const last = r.spans[r.spans.length - 1];
  const state = last ? ` data-state="${escXml(last.bar.state)}"` : '';
  return `<g class="row" data-task="${escXml(r.row.id)}"${state}>${parts.join('')}</g>`;
}

/** The state's symbol in the bar (with the bar's label when that fits too), else just after it if there is room, else none. */
function barMark(style: StateStyle, label: string | undefined, left: number, width: number, mid: number, roomAfter: number): string {
  const text = (x: number, fill: string, content: string) =>
    `<text x="${n(x)}" y="${n(mid)}" dy="0.35em" font-size="${SYMBOL_SIZE}" fill="${fill}">${escXml(content)}</text>`;
  const withLabel = label ? `${style.symbol} ${label}` : style.symbol;
  if (width >= textWidth(withLabel, SYMBOL_SIZE) + 6) return text(left + 3, style.ink, withLabel);
  if (width >= 12) return text(left + 3, style.ink, style.symbol);
  return roomAfter >= 12 ? text(left + width + 2, '#333333', style.symbol) : '';
}
