import { KNOWN_STATES, stateStyle } from '../html/states';
import { escXml, n, textWidth } from './xml';

/** One legend entry: a swatch (colour, optional symbol on it) and a word. */
export interface LegendItem {
  /** Swatch fill: a colour or a `url(#pattern)`. */
  fill: string;
  label: string;
  symbol?: string;
  /** Colour of the symbol. */
  ink?: string;
  /** Draws the swatch instead (a line chart's marker), given the swatch's centre. */
  swatch?: (cx: number, cy: number) => string;
}

const SWATCH = 14;
const ROW_HEIGHT = 20;
const FONT_SIZE = 11;

/**
 * Legend entries in rows that wrap at `maxWidth`, so a phone-width drawing does not grow sideways
 * just for its legend. Returns the markup and the height it takes.
 */
export function legend(items: LegendItem[], x: number, y: number, maxWidth: number): { svg: string; height: number } {
  if (items.length === 0) return { svg: '', height: 0 };
  let cx = 0;
  let row = 0;
  const parts = items.map((item) => {
    const width = SWATCH + 6 + textWidth(item.label, FONT_SIZE) + 14;
    if (cx > 0 && cx + width > maxWidth) {
      cx = 0;
      row += 1;
    }
    const ix = x + cx;
    const iy = y + row * ROW_HEIGHT;
    cx += width;
    const symbol = item.symbol
      ? `<text x="${n(ix + SWATCH / 2)}" y="${n(iy + SWATCH / 2)}" dy="0.35em" text-anchor="middle" font-size="10" fill="${escXml(item.ink ?? '#000000')}">${escXml(item.symbol)}</text>`
      : '';
    const swatch = item.swatch
      ? item.swatch(ix + SWATCH / 2, iy + SWATCH / 2)
      : `<rect x="${n(ix)}" y="${n(iy)}" width="${SWATCH}" height="${SWATCH}" rx="2" fill="${escXml(item.fill)}" stroke="#555555"/>${symbol}`;
    return (
      `<g class="legend-item">${swatch}` +
      `<text x="${n(ix + SWATCH + 6)}" y="${n(iy + SWATCH / 2)}" dy="0.35em" font-size="${FONT_SIZE}" fill="#333333">${escXml(item.label)}</text></g>`
    );
  });
  return { svg: `<g class="legend">${parts.join('')}</g>`, height: (row + 1) * ROW_HEIGHT };
}

/** Legend entries for the states drawn, known ones in their usual order, then any others by name. */
export function stateLegendItems(states: Iterable<string>): LegendItem[] {
  const present = new Set(states);
  const known = KNOWN_STATES.filter((s) => present.has(s));
  const others = [...present].filter((s) => !KNOWN_STATES.includes(s)).sort();
  return [...known, ...others].map((state) => {
    const style = stateStyle(state);
    return { fill: style.color, ink: style.ink, symbol: style.symbol, label: style.label };
  });
}
