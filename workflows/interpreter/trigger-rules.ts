import type { TaskState, TriggerRule } from '../spec';

/** What the interpreter does with a pending task, given its direct upstreams' states. */
export type Decision = 'run' | 'wait' | 'skipped' | 'upstream_failed';

const FAILED: ReadonlySet<TaskState> = new Set(['failed', 'upstream_failed']);
const TERMINAL: ReadonlySet<TaskState> = new Set(['success', 'failed', 'upstream_failed', 'skipped']);

export function isTerminal(state: TaskState): boolean {
  return TERMINAL.has(state);
}

/**
 * Airflow's trigger-rule semantics. `one_success` and `one_failed` fire as soon as one upstream
 * qualifies, without waiting for the rest (as in Airflow); every other rule waits until all
 * direct upstreams are terminal. A task with no upstream always runs.
 */
export function decide(rule: TriggerRule, upstream: readonly TaskState[]): Decision {
  if (upstream.length === 0) return 'run';
  const success = upstream.filter((s) => s === 'success').length;
  const failed = upstream.filter((s) => FAILED.has(s)).length;
  const done = upstream.filter((s) => TERMINAL.has(s)).length;
  const allDone = done === upstream.length;

  if (rule === 'one_success' && success > 0) return 'run';
  if (rule === 'one_failed' && failed > 0) return 'run';
  if (!allDone) return 'wait';

  switch (rule) {
    case 'all_success':
      if (success === upstream.length) return 'run';
      return failed > 0 ? 'upstream_failed' : 'skipped';
    case 'all_failed':
      return failed === upstream.length ? 'run' : 'skipped';
    case 'all_done':
    case 'always':
      return 'run';
    case 'one_success':
      return failed === upstream.length ? 'upstream_failed' : 'skipped';
    case 'one_failed':
      return 'skipped';
    case 'none_failed':
      return failed > 0 ? 'upstream_failed' : 'run';
    case 'none_failed_min_one_success':
      if (failed > 0) return 'upstream_failed';
      return success > 0 ? 'run' : 'skipped';
  }
}
