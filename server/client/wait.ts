import type { WorkflowHandle } from '@temporalio/client';
import { stateQuery, type DagRunStatus } from '../../workflows/messages';
import { askWorkflow, NoWorkerError } from './workers';

/**
 * Waits until a run needs no more waiting: it closed, or it is awaiting an operator (which can
 * take hours, so a script must hear about it now). Returns the run's final or current status.
 * Gives up with NoWorkerError once no worker serves the run: it would make no progress.
 */
export async function waitForOutcome(handle: WorkflowHandle, pollMs = 1000): Promise<DagRunStatus> {
  const state = () => askWorkflow(handle, 'run', () => handle.query(stateQuery));
  let closed = false;
  const result = handle.result().then(
    () => (closed = true),
    () => (closed = true),
  );
  for (;;) {
    await Promise.race([result, new Promise((resolve) => setTimeout(resolve, pollMs))]);
    if (closed) return state();
    // Other failures are passing: a run not yet started by its first workflow task, a busy worker.
    const status = await state().catch((err: unknown) => {
      if (err instanceof NoWorkerError) throw err;
      return undefined;
    });
    if (status?.state === 'awaiting_operator') return status;
  }
}
