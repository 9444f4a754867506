/**
 * What a daily_etl run of one day leaves behind, as data a test can compare with a clean run's:
 * equal snapshots mean not one row or object lost, duplicated or left over.
 */
import { ListMultipartUploadsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Knex } from 'knex';
import { runIdFor } from '../../../server/client/run-id';
import { dailyRunDate, lakeListing, tableFingerprint } from '../../support/pipelines';

export type EtlSnapshot = Record<string, string | string[]>;

/**
 * The day's facts, the whole dimensions (surrogate keys and versions included: a rerun must mint
 * none), the day's exceptions and audit rows minus the columns a rerun legitimately renews
 * (serials and wall-clock times), and every bronze and silver object with its ETag and size.
 */
export async function etlSnapshot(warehouse: Knex, s3: S3Client, bucket: string, day: string): Promise<EtlSnapshot> {
  const ofDay = `dag_id = 'daily_etl' and logical_date = '${day}'`;
  return {
    facts: await tableFingerprint(warehouse, 'warehouse.fact_sales', 'source, line_id', [], `load_date = '${day}'`),
    customers: await tableFingerprint(warehouse, 'warehouse.dim_customer', 'customer_key'),
    products: await tableFingerprint(warehouse, 'warehouse.dim_product', 'product_key'),
    dates: await tableFingerprint(warehouse, 'warehouse.dim_date', 'date_key'),
    exceptions: await tableFingerprint(warehouse, 'ops.exceptions', 'logical_date, source, source_file, source_line, source_id, category', ['exception_id', 'created_at'], ofDay),
    audit: await tableFingerprint(warehouse, 'ops.audit_log', 'logical_date, source, stage', ['recorded_at'], ofDay),
    bronze: await lakeListing(s3, bucket, 'bronze/'),
    silver: await lakeListing(s3, bucket, 'silver/'),
  };
}

/** Audit rows of the day that break conservation (records in = loaded + quarantined), and how many there are. */
export async function conservationBreaks(warehouse: Knex, day: string): Promise<{ rows: number; broken: string[] }> {
  const audit = await warehouse('ops.audit_log').where({ dag_id: 'daily_etl', logical_date: day });
  const broken = audit
    .filter((r) => Number(r.records_in) !== Number(r.records_loaded) + Number(r.records_quarantined))
    .map((r) => `${String(r.source)}/${String(r.stage)}: ${String(r.records_in)} in, ${String(r.records_loaded)} loaded, ${String(r.records_quarantined)} quarantined`);
  return { rows: audit.length, broken };
}

/**
 * Multipart uploads begun and never completed or aborted. rclone serve s3 keeps them in memory
 * and answers NoSuchUpload for a bucket that has none: that is an empty list.
 */
export async function pendingMultipartUploads(s3: S3Client, bucket: string): Promise<string[]> {
  try {
    const out = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    return (out.Uploads ?? []).map((u) => `${String(u.Key)} ${String(u.UploadId)}`);
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchUpload') return [];
    throw err;
  }
}

/**
 * Takes out of the warehouse what daily_etl loaded for `days`: the warehouse is shared by every
 * test file, and dimension versions left behind would be found by later files' earlier days (their
 * sales would find no valid customer version), as console-data.test.ts also guards against.
 */
export async function forgetDailyEtlDays(warehouse: Knex, days: readonly string[]): Promise<void> {
  const runIds = days.map((day) => runIdFor('daily_etl', dailyRunDate(day)));
  await warehouse('warehouse.fact_sales').whereIn('load_date', days).delete();
  for (const table of ['warehouse.dim_customer', 'warehouse.dim_product', 'ops.exceptions', 'ops.audit_log', 'ops.lineage']) {
    await warehouse(table).whereIn('run_id', runIds).delete();
  }
}
