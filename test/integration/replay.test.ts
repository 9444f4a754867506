/**
 * Determinism guard: every recorded `dagRun` history in test/fixtures/histories replays against
 * the current interpreter without a non-determinism error. When this fails, the interpreter
 * change must be guarded with `patched()` (see workflows/README in the main README), not the
 * fixtures re-recorded.
 */
import { Worker } from '@temporalio/worker';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { HISTORY_DIR, readHistory } from '../support/histories';

test('every recorded dagRun history replays on the current interpreter', async () => {
  const files = (await readdir(HISTORY_DIR)).filter((f) => f.endsWith('.json')).sort();
  assert.ok(files.length >= 5, `expected recorded histories in ${HISTORY_DIR}, found ${files.length}`);
  const histories = await Promise.all(
    files.map(async (file) => ({ workflowId: file, history: readHistory(JSON.parse(await readFile(path.join(HISTORY_DIR, file), 'utf8'))) })),
  );
  const bundlePath = process.env.SLUICE_WORKFLOW_BUNDLE;
  const options = bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: require.resolve('../../workflows') };
  const failures: string[] = [];
  let replayed = 0;
  for await (const result of Worker.runReplayHistories(options, histories)) {
    replayed += 1;
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.equal(replayed, files.length);
  assert.deepEqual(failures, []);
});
