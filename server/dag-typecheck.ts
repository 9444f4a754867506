/**
 * Type-checks the DAG folder with the TypeScript compiler, as `tsc --noEmit` would: the SDK's
 * typed wiring (an output of the wrong shape, a label a branch cannot return, a misspelled
 * option) only protects a DAG whose file is type-checked, and `sluice` itself loads DAGs through
 * tsx, which strips types without checking them.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Used when the DAG folder has no tsconfig.json of its own (or above it): strict, Node 20 style. */
const DEFAULT_OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  esModuleInterop: true,
  skipLibCheck: true,
};

/**
 * One line per type error in the DAG files and the code they import (libraries excepted), as
 * `file:line:col: message`; empty when everything type-checks.
 */
export function typecheckDagFolder(dir: string): string[] {
  const root = path.resolve(dir);
  const files = readdirSync(root)
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.d.ts'))
    .map((name) => path.join(root, name));
  return typecheckFiles(files, root);
}

/** The same for any files, with the tsconfig.json found from `dir` upwards (or strict defaults). */
export function typecheckFiles(files: readonly string[], dir: string): string[] {
  if (files.length === 0) return [];
  const program = ts.createProgram(files, { ...compilerOptions(path.resolve(dir)), noEmit: true });
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.category === ts.DiagnosticCategory.Error && !d.file?.fileName.includes('/node_modules/'))
    .map(format);
}

function compilerOptions(dir: string): ts.CompilerOptions {
  const configFile = ts.findConfigFile(dir, ts.sys.fileExists, 'tsconfig.json');
  if (!configFile) return DEFAULT_OPTIONS;
  const parsed = ts.getParsedCommandLineOfConfigFile(configFile, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
  return parsed?.options ?? DEFAULT_OPTIONS;
}

function format(d: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n    ');
  if (!d.file || d.start === undefined) return `type error TS${d.code}: ${message}`;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  const relative = path.relative(process.cwd(), d.file.fileName);
  const file = relative.startsWith('..') ? d.file.fileName : relative;
  return `${file}:${line + 1}:${character + 1}: type error TS${d.code}: ${message}`;
}
