/**
 * What the `runSlots` gate and `dagRun` need from outside a workflow: starting the gate when a
 * run first asks (signal-with-start is a client call), and telling which holders' runs ended.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/common';
import { requestSlotSignal, runSlotsId, type SlotRequest } from '../workflows/run-slots';

export function createRunSlotActivities(options: { gateCheckIntervalMs?: number } = {}) {
  return {
    /** Asks the DAG's gate for a slot, starting the gate if it is not running. */
    async requestRunSlot(args: SlotRequest & { dagId: string; taskQueue: string }): Promise<void> {
      const { dagId, taskQueue, ...request } = args;
      await Context.current().client.workflow.signalWithStart('runSlots', {
        workflowId: runSlotsId(dagId, taskQueue),
        taskQueue,
        args: [{ dagId, maxActiveRuns: request.maxActiveRuns, holders: [], waiting: [], ...(options.gateCheckIntervalMs ? { checkEveryMs: options.gateCheckIntervalMs } : {}) }],
        signal: requestSlotSignal,
        signalArgs: [request],
        staticSummary: `maxActiveRuns gate of ${dagId}`,
      });
    },

    /** The run ids among `runIds` whose latest execution is no longer running. */
    async closedRuns(runIds: string[]): Promise<string[]> {
      const client = Context.current().client;
      const ended = await Promise.all(
        runIds.map(async (runId) => {
          try {
            return (await client.workflow.getHandle(runId).describe()).status.name === 'RUNNING' ? undefined : runId;
          } catch (err) {
            if (err instanceof WorkflowNotFoundError) return runId;
            throw err;
          }
        }),
      );
      return ended.filter((id): id is string => id !== undefined);
    },
  };
}

export type RunSlotActivities = ReturnType<typeof createRunSlotActivities>;
