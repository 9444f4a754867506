/** Loads every DAG module of a folder (the `dags/` folder), compiling and validating each. */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import type { DagSpec } from '../../workflows/spec';
import { isDagDefinition, type DagDefinition } from './dag';
import { compileDag } from './compile';
import type { AnyTaskDef, Catalog } from './task-def';

export interface LoadedDag {
  /** The file as shown in messages: relative to the working directory when inside it. */
  file: string;
  definition: DagDefinition;
  spec: DagSpec;
}

export interface LoadResult {
  /** DAGs that compiled without errors, by file name order. */
  dags: LoadedDag[];
  /** One line per problem, each naming the file (and the DAG and task where known). */
  errors: string[];
}

export interface LoadOptions {
  /** Re-import the DAG files even when already loaded (for reloading after edits). */
  fresh?: boolean;
}

/**
 * Requires every `*.ts` file directly in `dir` (not sub-folders such as `sdk/`); each must
 * `export default dag(...)`. Import failures, compile errors and dag ids defined twice are
 * collected, never thrown. DAGs with errors are left out of `dags`. Works under tsx, which
 * lets `require` load TypeScript.
 * @throws only when `dir` itself cannot be read.
 */
export function loadDagFolder(dir: string, catalog: Catalog | Iterable<AnyTaskDef>, options: LoadOptions = {}): LoadResult {
  const dags: LoadedDag[] = [];
  const errors: string[] = [];
  const root = path.resolve(dir);
  const files = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => e.name)
    .sort();
  const byDagId = new Map<string, string>();
  const defs: Catalog | AnyTaskDef[] = catalog instanceof Map ? (catalog as Catalog) : [...(catalog as Iterable<AnyTaskDef>)];

  for (const name of files) {
    const absolute = path.join(root, name);
    const file = displayPath(absolute);
    let exported: unknown;
    try {
      if (options.fresh) delete require.cache[require.resolve(absolute)];
      exported = (require(absolute) as { default?: unknown }).default;
    } catch (error) {
      errors.push(`${file}: failed to import: ${(error as Error)?.message ?? String(error)}`);
      continue;
    }
    if (!isDagDefinition(exported)) {
      errors.push(`${file}: must \`export default dag(...)\` (found ${exported === undefined ? 'no default export' : typeof exported})`);
      continue;
    }
    const { spec, errors: dagErrors } = compileDag(exported, { file, catalog: defs });
    const other = byDagId.get(spec.dagId);
    if (other !== undefined) {
      errors.push(`${file}: dag '${spec.dagId}' is already defined in ${other}; dag ids must be unique`);
      continue;
    }
    byDagId.set(spec.dagId, file);
    errors.push(...dagErrors.map((e) => e.message));
    if (dagErrors.length === 0) dags.push({ file, definition: exported, spec });
  }
  return { dags, errors };
}

function displayPath(absolute: string): string {
  const relative = path.relative(process.cwd(), absolute);
  return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative;
}
