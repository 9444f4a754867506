import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { setTimeout as sleep } from 'node:timers/promises';
import { stateQuery, type DagRunStatus } from '../../workflows/messages';
import { askWorkflow, NoWorkerError } from './workers';

/**
 * How long no worker may serve the run before waiting is pointless. A restarted Temporal server
 * lists no poller until the workers poll again (seconds), which is no reason to give up.
 */
const NO_WORKER_GRACE_MS = 30_000;

/**
 * Waits until a run needs no more waiting: it closed, or it is awaiting an operator (which can
 * take hours, so a script must hear about it now). Returns the run's final or current status.
 * Gives up with NoWorkerError once no worker has served the run for NO_WORKER_GRACE_MS: it would
 * make no progress. Temporal being briefly unreachable is waited out.
 */
export async function waitForOutcome(handle: WorkflowHandle, pollMs = 1000): Promise<DagRunStatus> {
  const state = () => askWorkflow(handle, 'run', () => handle.query(stateQuery));
  let closed = false;
  void (async () => {
    for (;;) {
      try {
        await handle.result();
      } catch (err) {
        // Only a run's own ending closes it; a lost connection to the server does not.
        if (!(err instanceof WorkflowFailedError)) {
          await sleep(pollMs);
          continue;
        }
      }
      closed = true;
      return;
    }
  })();
  let noWorkerSince: number | undefined;
  for (;;) {
    await sleep(pollMs);
    if (closed) return state();
    // Other failures are passing: a run not yet started by its first workflow task, a busy worker.
    const status = await state().catch((err: unknown) => {
      if (!(err instanceof NoWorkerError)) return undefined;
      noWorkerSince ??= Date.now();
      if (Date.now() - noWorkerSince > NO_WORKER_GRACE_MS) throw err;
      return undefined;
    });
    if (status) noWorkerSince = undefined;
    if (status?.state === 'awaiting_operator') return status;
  }
}
