/**
 * Recorded workflow histories for the replay test. A test that finishes a run calls
 * `recordHistory`; with SLUICE_RECORD_HISTORIES=1 (`npm run record-histories`) the history is
 * written to test/fixtures/histories/, to be committed. Replaying those files against the current
 * interpreter is what catches a change that would break runs already in flight.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

export const HISTORY_DIR = path.resolve(__dirname, '../fixtures/histories');

export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.SLUICE_RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  await writeFile(path.join(HISTORY_DIR, `${name}.json`), historyToJSON(history));
}
