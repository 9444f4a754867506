/**
 * A timestamptz column as the API shows times (`2026-11-30T04:00:00.000Z`, as `toISOString()`),
 * formatted by Postgres. Pages that list hundreds of times per request spend more on parsing
 * them into Dates and formatting them back than on the query itself. `column` is SQL, never input.
 */
export function isoTime(column: string): string {
  return `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}
