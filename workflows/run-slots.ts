/**
 * `runSlots`: one per DAG (workflow id `sluice-run-slots-<taskQueue>-<dagId>`), the gate that holds each
 * DAG to its `maxActiveRuns` across scheduled, manual and backfill runs. Runs ask for a slot
 * (through an activity's signal-with-start, so the gate exists whenever a run needs it), wait in
 * `queued`, and are let in oldest logical date first as slots free up; a run gives its slot
 * back when it ends. A run that ends without saying so (terminated, or its workflow failed) is
 * found by a check of the holders every 30 s, so a crash never keeps a slot for longer.
 *
 * Changes here must keep gates in flight replaying, as for `dagRun`.
 */
import * as wf from '@temporalio/workflow';
import type { RunSlotActivities } from '../activities/run-slots';
import { slotGrantedSignal } from './messages';

export interface SlotRequest {
  runId: string;
  logicalDate: string;
  /** The DAG's `maxActiveRuns` as the asking run's version has it; the latest ask wins. */
  maxActiveRuns: number;
}

export interface RunSlotsState {
  dagId: string;
  maxActiveRuns: number;
  holders: Array<{ runId: string; logicalDate: string; since: string }>;
  waiting: Array<{ runId: string; logicalDate: string; since: string }>;
  /** How often holders are checked for runs that ended without a word (default 30 s). */
  checkEveryMs?: number;
}

export const requestSlotSignal = wf.defineSignal<[SlotRequest]>('requestSlot');
export const releaseSlotSignal = wf.defineSignal<[{ runId: string }]>('releaseSlot');
export const slotsQuery = wf.defineQuery<RunSlotsState>('slots');

/**
 * One gate per DAG and task queue, running on that queue: the DAG's workers are the ones sure to
 * serve it (a gate on a queue nobody polls would hold its runs in `queued` for good). Moving a
 * DAG to another queue starts a new gate; runs of the old queue finish under the old one.
 */
export function runSlotsId(dagId: string, taskQueue: string): string {
  return `sluice-run-slots-${taskQueue}-${dagId}`;
}

/** How often holders are checked for runs that ended without giving their slot back, unless the state says. */
const CHECK_EVERY_MS = 30_000;
/** Patch: holders are checked every interval, however busy the gate (before, only after a quiet interval). */
const CHECK_ON_TIME = 'sluice-gate-check-on-time';
/** A gate with nobody holding or waiting ends after this long; the next ask starts it again. */
const IDLE_MS = 10 * 60_000;
const CONTINUE_AS_NEW_AFTER_EVENTS = 5_000;

const { closedRuns } = wf.proxyActivities<RunSlotActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

export async function runSlots(input: RunSlotsState): Promise<void> {
  const onTime = wf.patched(CHECK_ON_TIME);
  const state: RunSlotsState = { ...input, holders: [...input.holders], waiting: [...input.waiting] };
  const checkEvery = state.checkEveryMs ?? CHECK_EVERY_MS;
  let lastCheck = Date.now();
  let changed = false;
  wf.setHandler(slotsQuery, () => state);
  wf.setHandler(requestSlotSignal, (request) => {
    state.maxActiveRuns = request.maxActiveRuns;
    const holder = state.holders.find((h) => h.runId === request.runId);
    if (holder) {
      // Asked again (the run's activity retried, or a new execution of the run): say yes again.
      void grant(holder.runId);
      return;
    }
    if (!state.waiting.some((w) => w.runId === request.runId)) {
      state.waiting.push({ runId: request.runId, logicalDate: request.logicalDate, since: new Date().toISOString() });
    }
    changed = true;
  });
  wf.setHandler(releaseSlotSignal, ({ runId }) => {
    state.holders = state.holders.filter((h) => h.runId !== runId);
    state.waiting = state.waiting.filter((w) => w.runId !== runId);
    changed = true;
  });

  for (;;) {
    admit();
    if (wf.workflowInfo().historyLength > CONTINUE_AS_NEW_AFTER_EVENTS) {
      await wf.condition(wf.allHandlersFinished);
      return await wf.continueAsNew<typeof runSlots>(state);
    }
    if (state.holders.length === 0 && state.waiting.length === 0) {
      if (!(await wf.condition(() => changed, IDLE_MS))) {
        await wf.condition(wf.allHandlersFinished);
        if (state.holders.length === 0 && state.waiting.length === 0) return;
      }
      changed = false;
      continue;
    }
    // A busy gate (signals every few seconds) still checks on time: a terminated holder must
    // not keep its slot for as long as other runs come and go.
    const woken = await wf.condition(() => changed, onTime ? Math.max(1000, lastCheck + checkEvery - Date.now()) : checkEvery);
    changed = false;
    const due = onTime ? Date.now() - lastCheck >= checkEvery : !woken;
    if (due && state.holders.length > 0) {
      lastCheck = Date.now();
      // Holders whose run ended without a word (terminated, failed) give their slot back.
      const ended = new Set(await closedRuns(state.holders.map((h) => h.runId)));
      if (ended.size > 0) state.holders = state.holders.filter((h) => !ended.has(h.runId));
    }
  }

  /** Lets waiting runs in, oldest logical date first, while slots are free. */
  function admit(): void {
    state.waiting.sort((a, b) => a.logicalDate.localeCompare(b.logicalDate) || a.since.localeCompare(b.since));
    while (state.holders.length < state.maxActiveRuns && state.waiting.length > 0) {
      const next = state.waiting.shift() as RunSlotsState['waiting'][number];
      state.holders.push({ ...next, since: new Date().toISOString() });
      void grant(next.runId);
    }
  }

  async function grant(runId: string): Promise<void> {
    try {
      await wf.getExternalWorkflowHandle(runId).signal(slotGrantedSignal);
    } catch {
      // The run is gone: its slot is free again.
      state.holders = state.holders.filter((h) => h.runId !== runId);
      changed = true;
    }
  }
}
