/** Helpers for tests that run DAGs on the real stack. */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Knex } from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import { compileDag, type AnyTaskDef, type DagDefinition } from '../../dags/sdk';
import { startDagRun, type StartedRun } from '../../server/client/start-run';
import { stateQuery, type DagRunStatus } from '../../workflows/messages';
import type { DagSpec } from '../../workflows/spec';

export function compileOrThrow(definition: DagDefinition, catalog: readonly AnyTaskDef[]): DagSpec {
  const { spec, errors } = compileDag(definition, { catalog });
  if (errors.length > 0) throw new Error(`DAG does not compile:\n${errors.map((e) => e.message).join('\n')}`);
  return spec;
}

let clock = Math.floor(Date.now() / 1000) * 1000;
/** A logical date no other test in this process uses. */
export function uniqueLogicalDate(): Date {
  clock += 1000;
  return new Date(clock);
}

export function startRun(client: Client, spec: DagSpec, params: Record<string, unknown> = {}): Promise<StartedRun> {
  return startDagRun(client, spec, { logicalDate: uniqueLogicalDate(), params, trigger: 'manual' });
}

/** Polls the run's `state` query until `predicate` holds. */
export async function waitForStatus(
  handle: WorkflowHandle,
  predicate: (status: DagRunStatus) => boolean,
  timeoutMs = 60_000,
): Promise<DagRunStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: DagRunStatus | undefined;
  while (Date.now() < deadline) {
    last = await handle.query(stateQuery).catch(() => last);
    if (last && predicate(last)) return last;
    await sleep(200);
  }
  throw new Error(`run ${handle.workflowId} did not reach the expected state; last: ${JSON.stringify(last?.tasks.map((t) => [t.id, t.state]))}`);
}

export const taskStates = (status: DagRunStatus): Record<string, string> =>
  Object.fromEntries(status.tasks.map((t) => [t.id, t.state]));

/** How many attempts of each task the worker recorded in Postgres for a run id. */
export async function attemptCounts(db: Knex, runId: string): Promise<Record<string, number>> {
  const rows = await db.withSchema('sluice').table('task_attempts').where('run_id', runId).groupBy('task_id').select('task_id').count<{ task_id: string; count: string }[]>('* as count');
  return Object.fromEntries(rows.map((r) => [r.task_id, Number(r.count)]));
}
