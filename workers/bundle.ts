/**
 * The workflow bundle: `workflows/` compiled by webpack into one file the workers load into their
 * sandbox. Building it takes about a second of CPU, so it is built once and shared: by every
 * worker of a process, and by `sluice up` for each worker process it (re)starts.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../infra/logger';

/** Bundles `workflows/` and returns the code. */
export async function bundleWorkflows(logger: Logger): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietBundler(logger) });
  return code;
}

/** Bundles `workflows/` into `<dir>/workflow-bundle.js` (`sluice up`: SLUICE_HOME; `npm run build`: dist/) and returns that path. */
export async function writeWorkflowBundle(dir: string, logger: Logger): Promise<string> {
  const started = Date.now();
  const code = await bundleWorkflows(logger);
  const file = path.join(dir, 'workflow-bundle.js');
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(file, code);
  logger.info({ file, ms: Date.now() - started }, 'workflow bundle built');
  return file;
}

/** webpack's per-module report is noise in a terminal; its warnings and errors still show. */
function quietBundler(logger: Logger) {
  const ignore = () => undefined;
  return {
    log: ignore,
    trace: ignore,
    debug: ignore,
    info: ignore,
    warn: (message: string, meta?: object) => logger.warn(meta ?? {}, message),
    error: (message: string, meta?: object) => logger.error(meta ?? {}, message),
  };
}
