import { legend, type LegendItem } from './legend';
import { clockTicks, fmtNumber, fmtUtc, niceTicks } from './ticks';
import { charsThatFit, escXml, n, noDataSvg, svgRoot, textWidth, truncate } from './xml';

/** Okabe-Ito: told apart under the common colour blindnesses. */
export const SERIES_COLORS = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000'];

const WIDTH = 600;
const FONT_SIZE = 12;
const TICK_FONT = 11;

export interface LinePoint {
  /** A number, or a time (Date or ISO string). A chart with any time has a time axis, where numbers are ms since the epoch. */
  x: string | number | Date;
  y: number;
}

export interface LineChartInput {
  series: Array<{ name: string; points: LinePoint[] }>;
  ariaLabel: string;
  yLabel?: string;
  /** Fixed ends of the y axis (e.g. 0); from the data when absent. */
  yMin?: number;
  yMax?: number;
  formatY?: (value: number) => string;
}

type Marker = 'circle' | 'square' | 'triangle' | 'diamond';
const MARKERS: Marker[] = ['circle', 'square', 'triangle', 'diamond'];

/**
 * Lines over a numeric or time axis (times in UTC). Series differ by colour and also by marker
 * shape (and, past four, by dashes), so the chart reads without colour; every point carries its
 * value in a tooltip.
 */
export function lineChartSvg(input: LineChartInput): string {
  const formatY = input.formatY ?? fmtNumber;
  const timeAxis = input.series.some((s) => s.points.some((p) => typeof p.x !== 'number'));
  const toX = (x: LinePoint['x']) => (x instanceof Date ? x.getTime() : typeof x === 'number' ? x : Date.parse(x));
  const series = input.series
    .map((s, i) => ({
      name: s.name,
      color: SERIES_COLORS[i % SERIES_COLORS.length] as string,
      marker: MARKERS[i % MARKERS.length] as Marker,
      dashed: Math.floor(i / MARKERS.length) % 2 === 1,
      points: s.points
        .map((p) => ({ x: toX(p.x), y: p.y }))
        .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
        .sort((a, b) => a.x - b.x),
    }))
    .filter((s) => s.points.length > 0);
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return noDataSvg(input.ariaLabel);

  const dataLo = input.yMin ?? Math.min(...all.map((p) => p.y));
  // A fixed yMin above all the data (or yMax below it) leaves a band at that end.
  const ys = niceTicks(dataLo, Math.max(dataLo, input.yMax ?? Math.max(...all.map((p) => p.y))));
  const yLo = input.yMin ?? ys.lo;
  const yHi = input.yMax ?? ys.hi;
  const yTicks = ys.values.filter((v) => v >= yLo && v <= yHi);
  let xLo = Math.min(...all.map((p) => p.x));
  let xHi = Math.max(...all.map((p) => p.x));
  if (xLo === xHi) {
    // A single x: centre it in an hour (times) or a unit (numbers) either side.
    const pad = timeAxis ? 3_600_000 : Math.max(1, Math.abs(xLo) / 10);
    [xLo, xHi] = [xLo - pad, xHi + pad];
  }
  const xTicks = timeAxis
    ? clockTicks(xLo, xHi)
    : niceTicks(xLo, xHi, 6).values.filter((v) => v >= xLo && v <= xHi).map((v) => ({ at: v, label: fmtNumber(v) }));
  const xText = (x: number) => (timeAxis ? `${fmtUtc(x)} UTC` : fmtNumber(x));

  const yLabelRoom = input.yLabel ? 18 : 0;
  const left = yLabelRoom + Math.max(0, ...yTicks.map((v) => textWidth(formatY(v), TICK_FONT))) + 10;
  const [top, right, plotBottom] = [12, WIDTH - 16, 232];
  const px = (x: number) => left + ((x - xLo) / (xHi - xLo)) * (right - left);
  // Values outside fixed axis ends are pinned to the edge; their tooltip still tells the truth.
  const py = (y: number) => plotBottom - ((Math.min(yHi, Math.max(yLo, y)) - yLo) / (yHi - yLo || 1)) * (plotBottom - top);

  const grid = [
    ...yTicks.map(
      (v) =>
        `<line x1="${n(left)}" y1="${n(py(v))}" x2="${right}" y2="${n(py(v))}" stroke="#e5e5e5"/>` +
        `<text x="${n(left - 6)}" y="${n(py(v))}" dy="0.35em" text-anchor="end" font-size="${TICK_FONT}" fill="#555555">${escXml(formatY(v))}</text>`,
    ),
    ...xTicks.map(
      (t) =>
        `<line x1="${n(px(t.at))}" y1="${plotBottom}" x2="${n(px(t.at))}" y2="${plotBottom + 4}" stroke="#555555"/>` +
        `<text x="${n(px(t.at))}" y="${plotBottom + 16}" text-anchor="middle" font-size="${TICK_FONT}" fill="#555555">${escXml(t.label)}</text>`,
    ),
    `<line x1="${n(left)}" y1="${plotBottom}" x2="${right}" y2="${plotBottom}" stroke="#555555"/>`,
    input.yLabel
      ? `<text x="12" y="${n((top + plotBottom) / 2)}" transform="rotate(-90 12 ${n((top + plotBottom) / 2)})" text-anchor="middle" font-size="${TICK_FONT}" fill="#333333">${escXml(input.yLabel)}</text>`
      : '',
  ];
  const lines = series.map((s) => {
    const path = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${n(px(p.x))},${n(py(p.y))}`).join(' ');
    const dots = s.points.map(
      (p) => `<g class="point">${markerShape(s.marker, px(p.x), py(p.y), s.color)}<title>${escXml(`${s.name}: ${xText(p.x)} → ${formatY(p.y)}`)}</title></g>`,
    );
    return (
      `<g class="series" data-series="${escXml(s.name)}"><path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 3"' : ''}/>` +
      `${dots.join('')}</g>`
    );
  });
  const key = legend(
    series.map(
      (s): LegendItem => ({
        fill: s.color,
        label: s.name,
        swatch: (cx, cy) =>
          `<line x1="${n(cx - 7)}" y1="${n(cy)}" x2="${n(cx + 7)}" y2="${n(cy)}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="3 2"' : ''}/>` +
          markerShape(s.marker, cx, cy, s.color),
      }),
    ),
    left,
    plotBottom + 30,
    WIDTH - left - 8,
  );
  return svgRoot({
    width: WIDTH,
    height: plotBottom + 30 + key.height + 4,
    ariaLabel: input.ariaLabel,
    className: 'chart line-chart',
    body: [`<g class="axes">${grid.join('')}</g>`, ...lines, key.svg].join('\n'),
  });
}

/** The shapes tell series apart without colour; the thin dark edge keeps the pale ones visible. */
function markerShape(marker: Marker, x: number, y: number, color: string): string {
  const r = 3.5;
  const paint = `fill="${color}" stroke="#333333" stroke-width="0.75"`;
  switch (marker) {
    case 'circle':
      return `<circle cx="${n(x)}" cy="${n(y)}" r="${r}" ${paint}/>`;
    case 'square':
      return `<rect x="${n(x - r)}" y="${n(y - r)}" width="${2 * r}" height="${2 * r}" ${paint}/>`;
    case 'triangle':
      return `<path d="M${n(x)},${n(y - r * 1.2)} L${n(x + r * 1.1)},${n(y + r * 0.8)} L${n(x - r * 1.1)},${n(y + r * 0.8)} Z" ${paint}/>`;
    case 'diamond':
      return `<path d="M${n(x)},${n(y - r * 1.3)} L${n(x + r * 1.3)},${n(y)} L${n(x)},${n(y + r * 1.3)} L${n(x - r * 1.3)},${n(y)} Z" ${paint}/>`;
  }
}

export interface BarChartInput {
  bars: Array<{ label: string; value: number; series?: string }>;
  ariaLabel: string;
  formatValue?: (value: number) => string;
  /** Bars grow rightwards from labels on the left (default: long labels fit on a phone); false for columns. */
  horizontal?: boolean;
}

/**
 * Bars with their values printed beside them (so no axis needs reading), from a zero line that
 * sits inside the chart when values are negative. Bars with a `series` get its colour and a legend.
 */
export function barChartSvg(input: BarChartInput): string {
  const format = input.formatValue ?? fmtNumber;
  const bars = input.bars.filter((b) => Number.isFinite(b.value));
  if (bars.length === 0) return noDataSvg(input.ariaLabel);
  const seriesNames = [...new Set(bars.map((b) => b.series ?? ''))];
  const colorOf = (b: (typeof bars)[number]) => SERIES_COLORS[seriesNames.indexOf(b.series ?? '') % SERIES_COLORS.length] as string;
  const lo = Math.min(0, ...bars.map((b) => b.value));
  const hi = Math.max(0, ...bars.map((b) => b.value));
  const range = hi - lo || 1;
  const valueRoom = Math.max(...bars.map((b) => textWidth(format(b.value), TICK_FONT))) + 8;
  const tooltip = (b: (typeof bars)[number]) => `${b.label}${b.series ? ` (${b.series})` : ''}: ${format(b.value)}`;
  const items = seriesNames
    .filter((name) => name !== '')
    .map((name): LegendItem => ({ fill: SERIES_COLORS[seriesNames.indexOf(name) % SERIES_COLORS.length] as string, label: name }));

  const parts: string[] = [];
  let plotBottom: number;
  if (input.horizontal ?? true) {
    const rowHeight = 24;
    const labelWidth = Math.min(220, Math.max(40, ...bars.map((b) => textWidth(b.label, FONT_SIZE) + 8)));
    // Room for value labels beyond the longest bar on each side that has bars.
    const x0 = labelWidth + 8 + (lo < 0 ? valueRoom : 0);
    const x1 = WIDTH - 8 - (hi > 0 ? valueRoom : 0);
    const px = (v: number) => x0 + ((v - lo) / range) * (x1 - x0);
    plotBottom = 8 + bars.length * rowHeight;
    bars.forEach((b, i) => {
      const mid = 8 + i * rowHeight + rowHeight / 2;
      const [a, z] = [px(0), px(b.value)];
      const valueX = b.value < 0 ? z - 4 : z + 4;
      parts.push(
        `<g class="bar" data-label="${escXml(b.label)}"><title>${escXml(tooltip(b))}</title>` +
          `<text x="${n(labelWidth)}" y="${n(mid)}" dy="0.35em" text-anchor="end" fill="#222222">${escXml(truncate(b.label, charsThatFit(labelWidth - 8, FONT_SIZE)))}</text>` +
          `<rect x="${n(Math.min(a, z))}" y="${n(mid - 8)}" width="${n(Math.abs(z - a))}" height="16" fill="${colorOf(b)}"/>` +
          `<text class="value" x="${n(valueX)}" y="${n(mid)}" dy="0.35em" text-anchor="${b.value < 0 ? 'end' : 'start'}" font-size="${TICK_FONT}" fill="#222222">${escXml(format(b.value))}</text></g>`,
      );
    });
    parts.push(`<line class="zero" x1="${n(px(0))}" y1="4" x2="${n(px(0))}" y2="${plotBottom + 4}" stroke="#555555"/>`);
  } else {
    const [top, baseHeight] = [8 + (hi > 0 ? 16 : 0), 200];
    const bottom = top + baseHeight;
    const py = (v: number) => bottom - ((v - lo) / range) * baseHeight;
    const slot = (WIDTH - 16) / bars.length;
    const barWidth = Math.max(2, slot * 0.7);
    const labelChars = charsThatFit(slot - 2, TICK_FONT);
    bars.forEach((b, i) => {
      const cx = 8 + slot * i + slot / 2;
      const [a, z] = [py(0), py(b.value)];
      parts.push(
        `<g class="bar" data-label="${escXml(b.label)}"><title>${escXml(tooltip(b))}</title>` +
          `<rect x="${n(cx - barWidth / 2)}" y="${n(Math.min(a, z))}" width="${n(barWidth)}" height="${n(Math.abs(z - a))}" fill="${colorOf(b)}"/>` +
          `<text class="value" x="${n(cx)}" y="${n(b.value < 0 ? z + 12 : z - 4)}" text-anchor="middle" font-size="${TICK_FONT}" fill="#222222">${escXml(format(b.value))}</text>` +
          `<text x="${n(cx)}" y="${n(bottom + (lo < 0 ? 16 : 0) + 16)}" text-anchor="middle" font-size="${TICK_FONT}" fill="#222222">${escXml(truncate(b.label, labelChars))}</text></g>`,
      );
    });
    parts.push(`<line class="zero" x1="4" y1="${n(py(0))}" x2="${WIDTH - 4}" y2="${n(py(0))}" stroke="#555555"/>`);
    plotBottom = bottom + (lo < 0 ? 16 : 0) + 20;
  }
  const key = legend(items, 8, plotBottom + 8, WIDTH - 16);
  return svgRoot({
    width: WIDTH,
    height: plotBottom + 8 + key.height + 4,
    ariaLabel: input.ariaLabel,
    className: 'chart bar-chart',
    body: [...parts, key.svg].join('\n'),
  });
}
