/**
 * Run ids are `<dagId>-<logical time, RFC 3339 UTC to the second>`, the format Temporal
 * Schedules give scheduled runs, so a scheduled, a manual and a backfill run of one logical date
 * share an id and collide instead of duplicating.
 */
export function formatLogicalDate(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new Error('invalid logical date');
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function runIdFor(dagId: string, logicalDate: Date): string {
  return `${dagId}-${formatLogicalDate(logicalDate)}`;
}

/** Parses a user-given date: `2026-11-21` (midnight UTC) or any RFC 3339 / ISO 8601 time. */
export function parseLogicalDate(text: string): Date {
  const value = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text;
  const date = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) {
    throw new Error(`invalid date '${text}': use YYYY-MM-DD or an ISO 8601 time such as 2026-11-21T02:00:00Z`);
  }
  // Logical dates are kept to the second, like the run ids derived from them.
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}
