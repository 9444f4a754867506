/**
 * The asset activity `dagRun` calls when a run with outlets succeeds: records what it updated and
 * starts the DAGs scheduled on those assets (server/assets/asset-events.ts). The consumer specs
 * are the DAG folder this worker process loaded: the same specs its tasks come from.
 */
import { Context } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { DagSpec } from '../workflows/spec';
import { recordAssetEvents, triggerAssetConsumers, type AssetUpdate } from '../server/assets/asset-events';

export type { AssetUpdate } from '../server/assets/asset-events';

export function createAssetActivities(deps: { db: Knex; dags: readonly DagSpec[] }) {
  return {
    /** Returns the run ids of the DAGs it started. Safe to retry: events merge, starts happen once. */
    async recordAssetEvents(update: AssetUpdate): Promise<{ started: string[] }> {
      await recordAssetEvents(deps.db, update);
      const started = await triggerAssetConsumers(deps.db, Context.current().client, deps.dags, update);
      if (started.length > 0) Context.current().log.info(`assets of ${update.runId} started ${started.join(', ')}`);
      return { started };
    },
  };
}

export type AssetActivities = ReturnType<typeof createAssetActivities>;
