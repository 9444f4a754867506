import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';

let installed = false;

/**
 * Routes the Temporal SDK's own log lines (worker state, activity failures with stacks) into
 * pino at WARN and above: task failures are already logged, with run and task, by the task
 * runtime, and the SDK's INFO chatter would bury them. Must run before the first connection.
 */
export function installRuntimeLogger(logger: Logger, level: LogLevel = 'WARN'): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      const method = entry.level === 'ERROR' ? 'error' : entry.level === 'WARN' ? 'warn' : 'info';
      // pino serializes errors only under `err`; the SDK puts them under `error`.
      const { error, ...meta } = (entry.meta ?? {}) as { error?: unknown };
      logger[method]({ ...meta, ...(error === undefined ? {} : { err: error }) }, entry.message);
    }),
  });
}
