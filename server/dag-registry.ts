import { taskCatalog } from '../activities';
import { catalogFrom, loadDagFolder } from '../dags/sdk';
import { loadConfig } from '../infra/config';

export type LoadedDags = ReturnType<typeof loadDagFolder>;
export type LoadedDag = LoadedDags['dags'][number];

/**
 * Loads and validates every DAG in the DAG folder (`dags/`, or SLUICE_DAGS_DIR) against the
 * activity catalog the worker registers.
 */
export function loadDags(dir: string = loadConfig().dagsDir): LoadedDags {
  return loadDagFolder(dir, catalogFrom([...taskCatalog]));
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
