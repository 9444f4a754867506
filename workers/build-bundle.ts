/**
 * `npm run build`: bundles `workflows/` into `dist/workflow-bundle.js`, so that a production
 * worker started with `SLUICE_WORKFLOW_BUNDLE=dist/workflow-bundle.js` skips webpack at start.
 * Build it from the same source the worker runs: a bundle from other workflow code would replay
 * running workflows differently.
 */
import path from 'node:path';
import { createLogger } from '../infra/logger';
import { writeWorkflowBundle } from './bundle';

const DIST = path.resolve(__dirname, '../dist');

writeWorkflowBundle(DIST, createLogger('build')).then(
  (file) => process.stdout.write(`${path.relative(process.cwd(), file) || file}\n`),
  (err: unknown) => {
    process.stderr.write(`npm run build: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
