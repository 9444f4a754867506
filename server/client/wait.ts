import type { WorkflowHandle } from '@temporalio/client';
import { stateQuery, type DagRunStatus } from '../../workflows/messages';

/**
 * Waits until a run needs no more waiting: it closed, or it is awaiting an operator (which can
 * take hours, so a script must hear about it now). Returns the run's final or current status.
 */
export async function waitForOutcome(handle: WorkflowHandle, pollMs = 1000): Promise<DagRunStatus> {
  let closed = false;
  const result = handle.result().then(
    () => (closed = true),
    () => (closed = true),
  );
  for (;;) {
    await Promise.race([result, new Promise((resolve) => setTimeout(resolve, pollMs))]);
    if (closed) return handle.query(stateQuery);
    const status = await handle.query(stateQuery).catch(() => undefined);
    if (status?.state === 'awaiting_operator') return status;
  }
}
