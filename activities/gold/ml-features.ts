/**
 * Tasks of `ml_features`: point-in-time customer features for the as-of date of the run's data
 * interval, in `features.customer_features` and as a Parquet snapshot in the lake. Both replace
 * their as-of partition, so a rerun (or a recompute after late data arrived) leaves one snapshot.
 */
import { defineTask } from 'sluice/sdk';
import { copyIn, copyOut, lakeDataset, recordLineage, replacePartition, sourceTable, warehouseTable, writeParquetParts } from '../lib';
import { ACTIVITY_COLUMNS, ACTIVITY_TABLE, createActivityTable, customerActivityQuery, insertFeaturesQuery, snapshotQuery, SNAPSHOT_COLUMNS } from './features-sql';
import { asOfFor, type AsOf } from './periods';

export interface FeaturesResult extends AsOf {
  customers: number;
}

export const computeCustomerFeatures = defineTask(
  'computeCustomerFeatures',
  async (_input: Record<string, never>, ctx): Promise<FeaturesResult> => {
    const asOf = asOfFor(ctx.dataIntervalEnd);
    const { warehouse, source } = ctx.resources;
    const { customers, activity } = await replacePartition(warehouse, {
      table: 'features.customer_features',
      where: { as_of: asOf.asOf },
      load: async (trx) => {
        // The temporary table lives on the transaction's connection, which copyIn and the insert share.
        await createActivityTable(trx);
        const activity = await copyIn(trx, ACTIVITY_TABLE, ACTIVITY_COLUMNS, await copyOut(source, customerActivityQuery(source, asOf)));
        const inserted = await insertFeaturesQuery(trx, asOf, ctx.runId);
        return { activity, customers: inserted.rowCount ?? 0 };
      },
    });
    ctx.log.info({ ...asOf, activity, customers }, 'customer features computed');
    await recordLineage(ctx, {
      inputs: [
        warehouseTable('warehouse.fact_sales'),
        warehouseTable('warehouse.dim_customer'),
        warehouseTable('warehouse.dim_product'),
        sourceTable('customers'),
        sourceTable('events'),
      ],
      outputs: [warehouseTable('features.customer_features', { rows: customers })],
    });
    return { ...asOf, customers };
  },
  { doc: 'Recency, frequency, monetary value, basket, tenure, category affinity, sessions and a 12-month value estimate per customer, as of the end of the data interval.' },
);

export interface SnapshotResult {
  prefix: string;
  keys: string[];
  rows: number;
  bytes: number;
}

export const exportCustomerFeatures = defineTask(
  'exportCustomerFeatures',
  async (input: FeaturesResult, ctx): Promise<SnapshotResult> => {
    const prefix = `features/customer/as_of=${input.asOf}/`;
    const { warehouse } = ctx.resources;
    const written = await writeParquetParts(ctx, {
      prefix,
      columns: SNAPSHOT_COLUMNS,
      csv: await copyOut(warehouse, snapshotQuery(warehouse, input)),
    });
    ctx.log.info({ prefix, parts: written.keys.length, rows: written.rows }, 'snapshot written');
    await recordLineage(ctx, {
      inputs: [warehouseTable('features.customer_features')],
      outputs: [lakeDataset(prefix, { rows: written.rows, bytes: written.bytes })],
    });
    return { prefix, ...written };
  },
  { doc: 'The as-of date\'s features as a Parquet snapshot under features/customer/as_of=YYYY-MM-DD/.' },
);
