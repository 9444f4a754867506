import { CliError, EXIT } from './errors';

/**
 * Every command prints either for people (aligned tables, short lines) or, with `--json`, one
 * JSON document on stdout for scripts. Progress and diagnostics go to stderr in both modes.
 */
export interface Output {
  json: boolean;
  /** The command's result: a JSON document, or the human text built by `human`. */
  result(value: unknown, human: () => string): void;
  /**
   * The result of an operation that ran and failed (a run failed, validation found problems):
   * one JSON document that also holds `error` and `exitCode`, then exit 1 saying why.
   */
  failed(value: Record<string, unknown>, human: () => string, message: string): never;
  info(message: string): void;
}

export function createOutput(json: boolean): Output {
  const result = (value: unknown, human: () => string) => {
    process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${human()}\n`);
  };
  return {
    json,
    result,
    failed(value, human, message) {
      result({ ...value, error: message, exitCode: EXIT.failed }, human);
      throw new CliError(message, EXIT.failed, true);
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
