/**
 * Recorded workflow histories for the replay test. A test that finishes a run calls
 * `recordHistory`; with SLUICE_RECORD_HISTORIES=1 (`npm run record-histories`) the history is
 * written to test/fixtures/histories/, to be committed. Replaying those files against the current
 * interpreter is what catches a change that would break runs already in flight.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

export const HISTORY_DIR = path.resolve(__dirname, '../fixtures/histories');

export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.SLUICE_RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  await writeFile(path.join(HISTORY_DIR, `${name}.json`), `${JSON.stringify(toJson(history), null, 1)}\n`);
}

const History = temporal.api.history.v1.History;

/** protobufjs's JSON form (enums and 64-bit ints as strings), which `readHistory` reverses. */
function toJson(history: temporal.api.history.v1.IHistory): unknown {
  return History.toObject(History.fromObject(history), { longs: String, enums: String, bytes: String });
}

export function readHistory(json: unknown): temporal.api.history.v1.History {
  return History.fromObject(json as Record<string, unknown>);
}
