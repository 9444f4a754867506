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
