/**
 * CSV as RFC 4180 defines it, for reports people open in spreadsheets: CRLF line ends, and a field
 * is quoted (its quotes doubled) only when it holds a comma, a quote, CR or LF. Leading or trailing
 * spaces are kept as they are, so they are quoted too: some readers trim unquoted fields.
 */

/** A CSV cell: null and undefined become an empty field. */
export type CsvValue = string | number | boolean | null | undefined;

const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

export function csvField(value: CsvValue): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One record, CRLF included. */
export function csvRecord(values: readonly CsvValue[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/** A whole document: the header record, then one record per row. */
export function csvDocument(header: readonly string[], rows: readonly (readonly CsvValue[])[]): string {
  return csvRecord(header) + rows.map(csvRecord).join('');
}
