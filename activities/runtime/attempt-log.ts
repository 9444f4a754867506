import type { Logger } from 'pino';
import type { LogFn, TaskLogger } from '../../dags/sdk/task-def';

/** Most log lines kept per attempt in Postgres; the rest still reach the worker's log. */
const MAX_LINES = 1000;

export interface LogLine {
  at: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  data?: object;
}

/**
 * A task's logger: every line goes to the worker's pino log (with run, task and attempt) and is
 * kept for the attempt's row in `sluice.task_attempts`, so the CLI and the console can show the
 * log of one attempt long after the worker's own logs are gone.
 */
export class AttemptLog implements TaskLogger {
  private readonly lines: LogLine[] = [];
  private dropped = 0;
  readonly debug = this.method('debug');
  readonly info = this.method('info');
  readonly warn = this.method('warn');
  readonly error = this.method('error');

  constructor(private readonly logger: Logger) {}

  /** The kept lines, with a marker when some were dropped. */
  kept(): LogLine[] {
    if (this.dropped === 0) return this.lines;
    return [...this.lines, { at: new Date().toISOString(), level: 'warn', msg: `${this.dropped} more lines not kept` }];
  }

  private method(level: LogLine['level']): LogFn {
    return ((first: string | object, msg?: string) => {
      const [data, text] = typeof first === 'string' ? [undefined, first] : [first, msg ?? ''];
      this.logger[level](data ?? {}, text);
      if (level === 'debug') return;
      if (this.lines.length >= MAX_LINES) {
        this.dropped += 1;
        return;
      }
      this.lines.push({ at: new Date().toISOString(), level, msg: text, ...(data ? { data } : {}) });
    }) as LogFn;
  }
}
