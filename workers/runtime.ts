import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';

/** The SDK's Prometheus address of the runtime installed, once installed (undefined: none). */
let installed: { metricsAddress: string | undefined } | undefined;

/**
 * Installs the Temporal SDK's runtime for this process, once, before the first connection:
 * - its own log lines (worker state, activity failures with stacks) go into pino at WARN and
 *   above: task failures are already logged, with run and task, by the task runtime, and the
 *   SDK's INFO chatter would bury them;
 * - with `metricsAddress` (`SLUICE_WORKER_METRICS`), its Prometheus metrics (task slots, poll
 *   and schedule-to-start latencies, workflow and activity outcomes) are served at
 *   `http://<metricsAddress>/metrics`.
 * Returns the metrics address of the runtime in place: the first call's, as the runtime is per process.
 */
export function installRuntime(logger: Logger, opts: { level?: LogLevel; metricsAddress?: string } = {}): string | undefined {
  if (installed) return installed.metricsAddress;
  installed = { metricsAddress: opts.metricsAddress };
  Runtime.install({
    logger: new DefaultLogger(opts.level ?? 'WARN', (entry) => {
      const method = entry.level === 'ERROR' ? 'error' : entry.level === 'WARN' ? 'warn' : 'info';
      // pino serializes errors only under `err`; the SDK puts them under `error`.
      const { error, ...meta } = (entry.meta ?? {}) as { error?: unknown };
      logger[method]({ ...meta, ...(error === undefined ? {} : { err: error }) }, entry.message);
    }),
    ...(opts.metricsAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress: opts.metricsAddress, useSecondsForDurations: true } } } } : {}),
  });
  return opts.metricsAddress;
}
