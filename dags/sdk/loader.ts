/**
 * Loads every DAG module of a folder (the `dags/` folder), compiling and validating each, and
 * discovers the task definitions they use: the worker registers exactly those, so there is no
 * hand-kept catalog to forget a task in.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { DagSpec } from '../../workflows/spec';
import { isDagDefinition, type DagDefinition } from './dag';
import { compileDag } from './compile';
import type { AnyTaskDef } from './task-def';

export interface LoadedDag {
  /** The file as shown in messages: relative to the working directory when inside it. */
  file: string;
  definition: DagDefinition;
  spec: DagSpec;
  /** The task definitions this DAG uses (tasks and callbacks). */
  tasks: AnyTaskDef[];
}

export interface LoadResult {
  /** DAGs that compiled without errors, by file name order. */
  dags: LoadedDag[];
  /** One line per problem, each naming the file (and the DAG and task where known). */
  errors: string[];
  /** Every task definition the loaded DAGs use, once each: what a worker registers. */
  tasks: AnyTaskDef[];
}

export interface LoadOptions {
  /**
   * Re-import after edits instead of using Node's module cache: every module under `dir` (the DAG
   * files, and the task code and helpers in its sub-folders) and, given `alsoUnder`, under those
   * folders too (task code kept elsewhere, like `activities/`). The SDK itself is kept: it is
   * Sluice's code, not the DAG author's, and this loader is part of it.
   */
  fresh?: boolean | { alsoUnder: readonly string[] };
}

/**
 * Requires every `*.ts` file directly in `dir` (not sub-folders, where task code and helpers
 * live); each must `export default dag(...)`. Import failures, compile errors, dag ids defined
 * twice and two different task definitions sharing an activity name across DAGs are collected,
 * never thrown. DAGs with errors are left out of `dags`, and their tasks out of `tasks`. Works
 * under tsx, which lets `require` load TypeScript.
 * @throws only when `dir` itself cannot be read.
 */
export function loadDagFolder(dir: string, options: LoadOptions = {}): LoadResult {
  const dags: LoadedDag[] = [];
  const errors: string[] = [];
  const root = path.resolve(dir);
  const files = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => e.name)
    .sort();
  if (options.fresh) forgetModules([root, ...(options.fresh === true ? [] : options.fresh.alsoUnder)]);
  const byDagId = new Map<string, string>();
  // Activity names are global to a worker: one name, one definition, across every DAG.
  const byActivity = new Map<string, { def: AnyTaskDef; file: string }>();

  for (const name of files) {
    const absolute = path.join(root, name);
    const file = displayPath(absolute);
    let exported: unknown;
    try {
      exported = (require(absolute) as { default?: unknown }).default;
    } catch (error) {
      errors.push(`${file}: failed to import: ${(error as Error)?.message ?? String(error)}`);
      continue;
    }
    if (!isDagDefinition(exported)) {
      errors.push(`${file}: must \`export default dag(...)\` (found ${exported === undefined ? 'no default export' : typeof exported})`);
      continue;
    }
    const { spec, errors: dagErrors, tasks } = compileDag(exported, { file });
    const other = byDagId.get(spec.dagId);
    if (other !== undefined) {
      errors.push(`${file}: dag '${spec.dagId}' is already defined in ${other}; dag ids must be unique`);
      continue;
    }
    byDagId.set(spec.dagId, file);
    const conflicts = tasks.flatMap((def) => {
      const seen = byActivity.get(def.name);
      return seen && seen.def !== def
        ? [`${file}: dag '${spec.dagId}': task definition '${def.name}' differs from the one ${seen.file} uses; activity names must be unique across the DAG folder`]
        : [];
    });
    errors.push(...dagErrors.map((e) => e.message), ...conflicts);
    if (dagErrors.length > 0 || conflicts.length > 0) continue;
    for (const def of tasks) if (!byActivity.has(def.name)) byActivity.set(def.name, { def, file });
    dags.push({ file, definition: exported, spec, tasks });
  }
  return { dags, errors, tasks: [...byActivity.values()].map((a) => a.def) };
}

/** Drops the cached modules under `folders`, except the SDK's and packages under node_modules. */
function forgetModules(folders: readonly string[]): void {
  const under = folders.map((folder) => path.resolve(folder) + path.sep);
  const keep = [__dirname + path.sep, `${path.sep}node_modules${path.sep}`];
  for (const file of Object.keys(require.cache)) {
    if (under.some((u) => file.startsWith(u)) && !keep.some((k) => file.includes(k))) delete require.cache[file];
  }
}

function displayPath(absolute: string): string {
  const relative = path.relative(process.cwd(), absolute);
  return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative;
}
