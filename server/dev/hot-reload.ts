/**
 * Hot reload for `sluice up`: after an edit under the DAG folder or `activities/`, the DAGs are
 * loaded again from fresh modules; if that introduced no error, the worker process is restarted
 * (it registers the new task code), then the console gets the new DAG list and the schedules the
 * new specs. Runs in flight keep the spec recorded in their history; tasks already running finish
 * on the old worker process.
 *
 * A broken edit takes nothing down: its errors are logged and the last good DAGs stay in service
 * until the next edit fixes it. An error that was already there at the last load (a DAG broken
 * since start-up) does not block reloading the others.
 */
import type { Client } from '@temporalio/client';
import path from 'node:path';
import type { Logger } from '../../infra/logger';
import { loadDags, type LoadedDag, type LoadedDags } from '../dag-registry';
import { syncSchedules } from '../schedules/sync';
import type { WorkerSupervisor } from './worker-supervisor';

export interface ReloadDeps {
  dagsDir: string;
  /** Folders of task code outside the DAG folder, re-imported too. */
  codeDirs: readonly string[];
  /** The DAGs in service, and how to replace them (the console reads them through this). */
  current(): LoadedDags;
  replace(next: LoadedDags): void;
  client: Client;
  worker: WorkerSupervisor;
  log: Logger;
}

export interface Reloader {
  /** Reloads after an edit of `files`. */
  reload(files: string[]): void;
  /** Drops edits not yet reloaded and waits for the reload under way, if any. */
  close(): Promise<void>;
}

/** Reloads run one at a time; edits made during one are reloaded together right after it. */
export function createReloader(deps: ReloadDeps): Reloader {
  let pending: string[] = [];
  let running: Promise<void> | undefined;
  let closed = false;
  const drain = async () => {
    while (pending.length > 0 && !closed) {
      const batch = [...new Set(pending)];
      pending = [];
      await reload(deps, batch).catch((err: unknown) => deps.log.error({ err }, `reload after editing ${describeFiles(batch)} failed`));
    }
    running = undefined;
  };
  return {
    reload(files) {
      pending.push(...files);
      running ??= drain();
    },
    async close() {
      closed = true;
      await running;
    },
  };
}

async function reload(deps: ReloadDeps, files: string[]): Promise<void> {
  const { log } = deps;
  const edited = describeFiles(files);
  const before = deps.current();
  const next = loadDags(deps.dagsDir, { fresh: { alsoUnder: deps.codeDirs } });
  for (const error of next.errors) log.error(error);
  const introduced = next.errors.filter((e) => !before.errors.includes(e));
  if (introduced.length > 0) {
    log.error(
      { files, problems: introduced },
      `not reloaded: ${edited} has ${introduced.length === 1 ? 'a problem' : `${introduced.length} problems`} (above); ` +
        `still serving the last good DAGs (${before.dags.length}); worker not restarted`,
    );
    return;
  }

  // The worker first: once the console or a schedule can start a run of the new spec, the
  // worker that gets its tasks must have the new code.
  const worker = await deps.worker.restart().then(
    (pid) => `worker restarted (pid ${pid})`,
    (err: unknown) => `worker did not start (${(err as Error).message}); retrying`,
  );
  deps.replace(next);
  const schedules = await syncSchedules(deps.client, next.dags.map((d) => d.spec)).catch((err: unknown) => {
    log.error({ err }, 'schedules not synced after the reload; run `sluice schedules sync`');
    return undefined;
  });
  const changes = versionChanges(before.dags, next.dags);
  log.info(
    { files, dags: next.dags.map((d) => ({ dagId: d.spec.dagId, version: d.spec.version })), schedules },
    `reloaded ${edited}: ${next.dags.length} DAG${next.dags.length === 1 ? '' : 's'} (${changes.join(', ') || 'no DAG changed'}); ${worker}`,
  );
}

/** `daily_etl version a1b2 → c3d4`, `new_dag added`, `old_dag removed`. */
function versionChanges(before: readonly LoadedDag[], after: readonly LoadedDag[]): string[] {
  const old = new Map(before.map((d) => [d.spec.dagId, d.spec.version]));
  const changes: string[] = [];
  for (const { spec } of after) {
    const version = old.get(spec.dagId);
    old.delete(spec.dagId);
    if (version === undefined) changes.push(`${spec.dagId} added`);
    else if (version !== spec.version) changes.push(`${spec.dagId} version ${version} → ${spec.version}`);
  }
  return [...changes, ...[...old.keys()].map((dagId) => `${dagId} removed`)];
}

/** The edited files as a person wrote them: relative to the working directory when inside it. */
function describeFiles(files: readonly string[]): string {
  const shown = files.map((file) => {
    const relative = path.relative(process.cwd(), file);
    return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
  });
  return shown.length > 3 ? `${shown.slice(0, 3).join(', ')} and ${shown.length - 3} more` : shown.join(', ');
}
