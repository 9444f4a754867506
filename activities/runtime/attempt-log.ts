import type { Logger } from 'pino';

/** Most log lines kept per attempt in Postgres; the rest still reach the worker's log. */
const MAX_LINES = 1000;

export interface LogLine {
  at: string;
  level: 'info' | 'warn' | 'error';
  msg: string;
  data?: Record<string, unknown>;
}

export interface TaskLogger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

/**
 * A task's logger: every line goes to the worker's pino log (with run, task and attempt) and is
 * kept for the attempt's row in `sluice.task_attempts`, so `sluice` and the console can show the
 * log of one attempt long after the worker's own logs are gone.
 */
export class AttemptLog implements TaskLogger {
  readonly lines: LogLine[] = [];
  private dropped = 0;

  constructor(private readonly logger: Logger) {}

  info(msg: string, data?: Record<string, unknown>): void {
    this.write('info', msg, data);
  }

  warn(msg: string, data?: Record<string, unknown>): void {
    this.write('warn', msg, data);
  }

  error(msg: string, data?: Record<string, unknown>): void {
    this.write('error', msg, data);
  }

  /** The kept lines, with a marker when some were dropped. */
  kept(): LogLine[] {
    if (this.dropped === 0) return this.lines;
    return [...this.lines, { at: new Date().toISOString(), level: 'warn', msg: `${this.dropped} more lines not kept` }];
  }

  private write(level: LogLine['level'], msg: string, data?: Record<string, unknown>): void {
    this.logger[level](data ?? {}, msg);
    if (this.lines.length >= MAX_LINES) {
      this.dropped += 1;
      return;
    }
    this.lines.push({ at: new Date().toISOString(), level, msg, ...(data ? { data } : {}) });
  }
}
