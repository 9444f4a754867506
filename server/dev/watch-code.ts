/**
 * Watches folders of code, recursively, and reports edits in bursts: one call per save (editors
 * write a file in several steps, and "save all" writes many), with the files changed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../infra/logger';

/** What Node can load: anything else (notes, data files, editor swap and backup files) is no edit to code. */
const CODE_FILE = /\.(ts|mts|cts|js|mjs|cjs|json)$/;
const QUIET_MS = 300;

export interface CodeWatcher {
  close(): void;
}

export interface WatchOptions {
  /** Folders inside the watched ones whose edits are ignored. */
  ignore?: readonly string[];
  log: Logger;
}

/**
 * Calls `onChange` with the absolute paths of the code files created, changed or deleted under
 * `folders`, once they have been quiet for 300 ms. Hidden files and folders and `node_modules`
 * are ignored, and so are temp files editors write before renaming them into place.
 */
export function watchCode(folders: readonly string[], onChange: (files: string[]) => void, options: WatchOptions): CodeWatcher {
  const ignored = (options.ignore ?? []).map((dir) => path.resolve(dir) + path.sep);
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const watchers = folders.map((folder) => {
    const watcher = fs.watch(folder, { recursive: true }, (_event, filename) => {
      if (!filename) return;
      const file = path.join(folder, filename);
      if (!isCode(filename) || ignored.some((dir) => file.startsWith(dir))) return;
      changed.add(file);
      clearTimeout(timer);
      timer = setTimeout(() => {
        const files = [...changed].sort();
        changed.clear();
        onChange(files);
      }, QUIET_MS);
    });
    watcher.on('error', (err) => options.log.warn({ err, folder }, `stopped watching ${folder}`));
    return watcher;
  });
  return {
    close() {
      clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

function isCode(relative: string): boolean {
  const parts = relative.split(path.sep);
  return CODE_FILE.test(relative) && !parts.some((p) => p.startsWith('.') || p === 'node_modules');
}
