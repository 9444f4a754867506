/** `ctx.vars`: variables read once when the worker starts (a change needs a worker restart). */
import { ApplicationFailure } from '@temporalio/common';
import type { Variables } from '../dags/sdk/connections';
import type { Setting } from './secrets';

/**
 * Errors are non-retryable: the variables cannot change while this worker runs, so a retry
 * would fail the same way. An operator fixes the setting, restarts the worker and retries.
 */
export function createVariables(settings: readonly Setting[], secretsFile: string): Variables {
  const values = new Map(settings.map((s) => [s.name, s.value]));
  const missing = (name: string) =>
    ApplicationFailure.nonRetryable(
      `variable '${name}' is not set; set SLUICE_VAR_${name.toUpperCase()} or "variables": { "${name}": ... } in ${secretsFile}`,
      'VariableNotSet',
    );
  return {
    get(name: string, fallback?: string): string {
      const value = values.get(name) ?? fallback;
      if (value === undefined) throw missing(name);
      return value;
    },
    json<T = unknown>(name: string, fallback?: T): T {
      const value = values.get(name);
      if (value === undefined) {
        if (fallback === undefined) throw missing(name);
        return fallback;
      }
      try {
        return JSON.parse(value) as T;
      } catch {
        throw ApplicationFailure.nonRetryable(`variable '${name}' is not valid JSON`, 'VariableNotJson');
      }
    },
  };
}
