/** Small pieces the pages share, so a state, a time or a button looks the same everywhere. */
import { esc } from './layout';
import { stateStyle } from './states';

/** A state as symbol and word on its colour: readable without colour too. */
export function stateBadge(state: string): string {
  const s = stateStyle(state);
  return `<span class="badge state-${esc(state)}" data-state="${esc(state)}"><span aria-hidden="true">${s.symbol}</span> ${esc(s.label)}</span>`;
}

/** `2026-11-30 04:00:05` in UTC, the time zone every page uses; empty for no time. */
export function fmtTime(value: string | Date | null | undefined): string {
  if (value === null || value === undefined || value === '') return '';
  const date = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toISOString().replace('T', ' ').replace(/(\.\d+)?Z$/, '');
}

/** `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 10 min`. */
export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 60) return `${minutes} min ${String(Math.floor((ms % 60_000) / 1000)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

export function emptyState(text: string): string {
  return `<p class="empty">${esc(text)}</p>`;
}

/** A GET form of filters; `fields` is its inputs' HTML. */
export function filterForm(fields: string, action: string): string {
  return `<form method="get" action="${esc(action)}" class="filters">${fields}<button type="submit">Filter</button> <a href="${esc(action)}">clear</a></form>`;
}

/** Previous / next links that keep the other query parameters. */
export function pager(basePath: string, query: Record<string, string | undefined>, page: number, hasMore: boolean): string {
  const href = (p: number) => {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '' && key !== 'page') params.set(key, value);
    if (p > 1) params.set('page', String(p));
    const qs = params.toString();
    return esc(qs ? `${basePath}?${qs}` : basePath);
  };
  const prev = page > 1 ? `<a rel="prev" href="${href(page - 1)}">← newer</a>` : '';
  const next = hasMore ? `<a rel="next" href="${href(page + 1)}">older →</a>` : '';
  return prev || next ? `<nav class="pager">${prev} <span>page ${page}</span> ${next}</nav>` : '';
}

/**
 * A button that POSTs JSON to the API (console.js adds the CSRF token), after asking `confirm`
 * when given, and shows the answer in the page's outcome line.
 *
 * `kind`: `action` (the page's main action, filled), `secondary` (outlined) or `danger`.
 */
export function postButton(label: string, url: string, body: unknown, opts: { confirm?: string; kind?: 'action' | 'secondary' | 'danger'; id?: string } = {}): string {
  return `<button type="button"${opts.id ? ` id="${esc(opts.id)}"` : ''} class="${opts.kind ?? 'action'}" data-post="${esc(url)}" data-body="${esc(JSON.stringify(body))}"${
    opts.confirm ? ` data-confirm="${esc(opts.confirm)}"` : ''
  }>${esc(label)}</button>`;
}

/** `<input>`s for a from/to date range filter. */
export function dateRangeInputs(from: string | undefined, to: string | undefined): string {
  return `<label>from <input type="date" name="from" value="${esc(from ?? '')}"></label> <label>to <input type="date" name="to" value="${esc(to ?? '')}"></label>`;
}

/** A `<select>` of options, the current one selected; `''` means "any". */
export function selectInput(name: string, label: string, options: readonly string[], current: string | undefined, any = 'any'): string {
  const opts = [`<option value="">${esc(any)}</option>`, ...options.map((o) => `<option${o === current ? ' selected' : ''}>${esc(o)}</option>`)];
  return `<label>${esc(label)} <select name="${esc(name)}">${opts.join('')}</select></label>`;
}
