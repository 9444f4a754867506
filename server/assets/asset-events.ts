/**
 * Asset events and the runs they trigger. When a run with `outlets` succeeds, each asset its
 * succeeded tasks wrote counts as updated for the run's logical date (`sluice.asset_events`).
 * Then every DAG scheduled on those assets whose assets all have an event for that date is
 * started for it, exactly once: the `sluice.asset_triggers` row for (DAG, date) is inserted and
 * the run started in one transaction, so a failed start leaves no row (a retry starts it) and a
 * rerun of the upstream date, or a second producer finishing at the same moment, starts nothing.
 */
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { DagSpec } from '../../workflows/spec';
import { runIdFor } from '../client/run-id';
import { startDagRun } from '../client/start-run';
import { consumersOf } from './asset-graph';

/** What a successful run updated: sent by `dagRun` as it finishes. */
export interface AssetUpdate {
  dagId: string;
  runId: string;
  logicalDate: string;
  dataIntervalStart: string;
  dataIntervalEnd: string;
  /** The succeeded tasks that have outlets, with them. */
  outlets: Array<{ taskId: string; assets: string[] }>;
}

/** Puts the update on record; a rerun of the same run and task only moves `created_at`. */
export async function recordAssetEvents(db: Knex, update: AssetUpdate): Promise<void> {
  const rows = update.outlets.flatMap((o) =>
    [...new Set(o.assets)].map((asset) => ({ asset, logical_date: update.logicalDate, dag_id: update.dagId, run_id: update.runId, task_id: o.taskId })),
  );
  if (rows.length === 0) return;
  await db('sluice.asset_events')
    .insert(rows)
    .onConflict(['asset', 'logical_date', 'run_id', 'task_id'])
    .merge({ created_at: db.fn.now() });
}

/**
 * Starts, for the update's logical date, each DAG of `specs` scheduled on an asset it updated
 * whose assets are now all updated for that date, once per (DAG, date). Returns the run ids it
 * started. The runs get the update's data interval, so their `ds` and windows match upstream.
 */
export async function triggerAssetConsumers(db: Knex, client: Client, specs: readonly DagSpec[], update: AssetUpdate): Promise<string[]> {
  const started: string[] = [];
  for (const spec of consumersOf(specs, update.outlets.flatMap((o) => o.assets))) {
    const assets = [...new Set(spec.assetSchedule)];
    const { rows } = await db.raw<{ rows: Array<{ n: number }> }>(
      'select count(distinct asset)::int as n from sluice.asset_events where logical_date = ? and asset = any(?)',
      [update.logicalDate, assets],
    );
    if ((rows[0]?.n ?? 0) < assets.length) continue;
    const logicalDate = new Date(update.logicalDate);
    const runId = await db.transaction(async (tx) => {
      // A concurrent insert of the same key waits for this transaction, then does nothing.
      const claimed = await tx('sluice.asset_triggers')
        .insert({ dag_id: spec.dagId, logical_date: update.logicalDate, run_id: runIdFor(spec.dagId, logicalDate), upstream_run_id: update.runId })
        .onConflict(['dag_id', 'logical_date'])
        .ignore()
        .returning('dag_id');
      if (claimed.length === 0) return undefined;
      // A run of that date that already exists (started by hand, say) counts as this one.
      const run = await startDagRun(client, spec, {
        logicalDate,
        params: {},
        trigger: 'asset',
        dataInterval: { start: update.dataIntervalStart, end: update.dataIntervalEnd },
      });
      return run.started ? run.runId : undefined;
    });
    if (runId) started.push(runId);
  }
  return started;
}
