/**
 * Exit codes scripts can rely on:
 * 0 success; 1 the operation ran and failed (a run failed, validation found problems, an
 * operator action was refused); 2 bad input (unknown DAG, bad date, bad params, bad flags);
 * 3 a server could not be reached, or no worker serves what the command needs.
 */
export const EXIT = { ok: 0, failed: 1, badInput: 2, unreachable: 3 } as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
    /** The command's result already says so (with `--json`, its one JSON document does). */
    readonly reported = false,
  ) {
    super(message);
  }
}

export const badInput = (message: string) => new CliError(message, EXIT.badInput);
