import { loadDagFolder, type LoadOptions } from '../dags/sdk';
import { loadConfig } from '../infra/config';
import { parseCron } from './schedules/fire-times';

export type LoadedDags = ReturnType<typeof loadDagFolder>;
export type LoadedDag = LoadedDags['dags'][number];

/**
 * Loads and validates every DAG in the DAG folder (`dags/`, or SLUICE_DAGS_DIR), with the task
 * definitions they use (what the worker registers). `options.fresh` re-imports edited code.
 */
export function loadDags(dir: string = loadConfig().dagsDir, options: LoadOptions = {}): LoadedDags {
  const loaded = loadDagFolder(dir, options);
  // The SDK checks cron syntax the classic way; Temporal Schedules accept less (no L, W, #, ?).
  const usable = loaded.dags.filter(({ file, spec }) => {
    if (!spec.schedule) return true;
    try {
      parseCron(spec.schedule.cron);
      return true;
    } catch (err) {
      loaded.errors.push(`${file}: dag '${spec.dagId}': ${(err as Error).message}`);
      return false;
    }
  });
  return { dags: usable, errors: loaded.errors, tasks: [...new Set(usable.flatMap((d) => d.tasks))] };
}

/** One DAG by id, or an error that lists the ones that exist. */
export function findDag(loaded: LoadedDags, dagId: string): LoadedDag {
  const found = loaded.dags.find((d) => d.spec.dagId === dagId);
  if (found) return found;
  const known = loaded.dags.map((d) => d.spec.dagId).join(', ') || 'none';
  throw new UnknownDagError(`unknown DAG '${dagId}' (known: ${known})`);
}

export class UnknownDagError extends Error {}

/** Every task queue the DAGs use (the DAGs' own and any task's), plus the default `sluice`. */
export function taskQueuesOf(dags: readonly LoadedDag[]): string[] {
  const queues = dags.flatMap((d) => [d.spec.taskQueue, ...d.spec.tasks.flatMap((t) => (t.taskQueue ? [t.taskQueue] : []))]);
  return [...new Set(['sluice', ...queues])];
}
