/**
 * The few helpers every SVG renderer shares: escaping, the root element, rough text widths.
 * SVGs are inlined in console pages under a strict CSP, so nothing here emits `style=`, scripts or
 * event attributes: looks come from presentation attributes and classes, tooltips from `<title>`.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for SVG element content and attribute values (same rules as HTML). */
export function escXml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** Rounds a coordinate: a tenth of a unit is invisible and keeps the markup short. */
export function n(value: number): number {
  return Math.round(value * 10) / 10;
}

/** Average glyph width of a sans-serif font, as a share of its size: good enough to size boxes. */
const GLYPH_WIDTH = 0.6;

export function textWidth(text: string, fontSize: number): number {
  return [...text].length * fontSize * GLYPH_WIDTH;
}

/** Shortens text to `max` characters (code points, so no emoji is cut in half) with an ellipsis. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, Math.max(1, max - 1)).join('')}…`;
}

/** How many characters fit in `width` at `fontSize`. */
export function charsThatFit(width: number, fontSize: number): number {
  return Math.max(1, Math.floor(width / (fontSize * GLYPH_WIDTH)));
}

/**
 * Links only to our own pages or to http(s): escaping alone would still let a `javascript:` URL
 * from data through (the CSP blocks it too, but a link that does nothing is a bug either way).
 */
export function safeHref(href: string | undefined): string | undefined {
  if (href === undefined) return undefined;
  const scheme = /^\s*([a-z][a-z0-9+.-]*):/i.exec(href)?.[1]?.toLowerCase();
  return scheme === undefined || scheme === 'http' || scheme === 'https' ? href : undefined;
}

/**
 * The root `<svg>`: its natural size in pixels, which the stylesheet lets shrink to a narrow
 * container (`max-width: 100%`) but never blow up on a wide one; drawn from the top left, and
 * announced to screen readers as one image with a label.
 */
export function svgRoot(opts: { width: number; height: number; ariaLabel: string; className: string; body: string }): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="${escXml(opts.className)}" viewBox="0 0 ${n(opts.width)} ${n(opts.height)}"` +
    ` width="${n(opts.width)}" preserveAspectRatio="xMinYMin meet" role="img" aria-label="${escXml(opts.ariaLabel)}"` +
    ` font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" font-size="12">\n${opts.body}\n</svg>`
  );
}

/** What a chart shows when there is nothing to draw: still an image with a label, and readable. */
export function noDataSvg(ariaLabel: string, message = 'No data'): string {
  return svgRoot({
    width: 600,
    height: 80,
    ariaLabel,
    className: 'chart no-data',
    body:
      `<rect x="0.5" y="0.5" width="599" height="79" rx="4" fill="#f7f7f7" stroke="#cccccc"/>` +
      `<text x="300" y="40" dy="0.35em" text-anchor="middle" font-size="14" fill="#555555">${escXml(message)}</text>`,
  });
}
