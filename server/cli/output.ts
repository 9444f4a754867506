/**
 * Every command prints either for people (aligned tables, short lines) or, with `--json`, one
 * JSON document on stdout for scripts. Progress and diagnostics go to stderr in both modes.
 */
export interface Output {
  json: boolean;
  /** The command's result: a JSON document, or the human text built by `human`. */
  result(value: unknown, human: () => string): void;
  info(message: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
    },
    info(message) {
      process.stderr.write(`${message}\n`);
    },
  };
}

/** A plain-text table: a header row and left-aligned columns. */
export function table(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
