/**
 * The frame every console page shares: navigation, the session's CSRF token for the page's
 * buttons, the stylesheet and the one script (served by assets.ts, so the strict CSP in
 * security.ts needs no inline code). Pages render their own body as an HTML string.
 */
import type { Request, Response } from 'express';
import { csrfMeta } from '../csrf';

export type Section = 'dags' | 'runs' | 'backfills' | 'data' | 'reports' | 'schedules' | 'pools';

const NAV: Array<[Section, string, string]> = [
  ['dags', 'DAGs', '/'],
  ['runs', 'Runs', '/runs'],
  ['backfills', 'Backfills', '/backfills'],
  ['schedules', 'Schedules', '/schedules'],
  ['pools', 'Pools', '/pools'],
  ['data', 'Data', '/data/quality'],
  ['reports', 'Reports', '/reports'],
];

export interface PageOptions {
  title: string;
  section: Section;
  body: string;
  /** Where the page sits, shown above its title: `[label, href]`, the last one without a link. */
  crumbs?: Array<[label: string, href?: string]>;
}

export function page(res: Response, opts: PageOptions): string {
  const nav = NAV.map(
    ([section, label, href]) => `<a href="${href}"${section === opts.section ? ' aria-current="page"' : ''}>${label}</a>`,
  ).join('');
  const crumbs = opts.crumbs?.length
    ? `<nav class="crumbs" aria-label="breadcrumb">${opts.crumbs
        .map(([label, href]) => (href ? `<a href="${esc(href)}">${esc(label)}</a>` : `<span>${esc(label)}</span>`))
        .join(' <span aria-hidden="true">›</span> ')}</nav>`
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">${csrfMeta(res)}
<title>${esc(opts.title)} · Sluice</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/console.css"><script src="/assets/console.js" defer></script></head>
<body><header class="top"><a class="brand" href="/">Sluice</a><nav class="sections" aria-label="sections">${nav}</nav></header>
<main>${crumbs}<h1>${esc(opts.title)}</h1><div id="outcome" role="status" aria-live="polite" hidden></div>
${opts.body}</main></body></html>`;
}

/** HTML-escapes anything shown from data (ids, errors, log lines, raw records). */
export function esc(text: unknown): string {
  const s = String(text ?? '');
  // Most text needs nothing; a grid page escapes thousands of ids, so look before replacing.
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPED, (c) => `&#${c.charCodeAt(0)};`) : s;
}

const NEEDS_ESCAPE = /[&<>"']/;
const ESCAPED = /[&<>"']/g;

/** Whether the request is a live region's refresh (console.js), which wants the region's HTML only. */
export function isFragment(req: Request): boolean {
  return req.get('x-sluice-fragment') === '1';
}

/**
 * Sends a page whose `live` part refreshes itself every 2 s while `open`; a refresh gets just
 * that part, and the header that stops the polling once nothing will change any more.
 */
export function sendLive(req: Request, res: Response, opts: Omit<PageOptions, 'body'> & { before?: string; live: string; after?: string; open: boolean }): void {
  if (isFragment(req)) {
    if (!opts.open) res.set('x-sluice-live', 'done');
    res.type('html').send(opts.live);
    return;
  }
  const region = opts.open ? `<div data-live="${esc(req.originalUrl)}">${opts.live}</div>` : `<div>${opts.live}</div>`;
  res.type('html').send(page(res, { ...opts, body: `${opts.before ?? ''}${region}${opts.after ?? ''}` }));
}
