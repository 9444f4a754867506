/**
 * Extract: the day's rows from the shop database and the day's partner files, written once to
 * bronze Parquet (the lake's record of what came in, with ingestion metadata) and, in the same
 * pass, to a staging table in the warehouse where validation runs set-based. One read of the
 * source feeds both, so the lake and the warehouse see exactly the same records.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { PassThrough, Readable } from 'node:stream';
import { defineTask, type TaskContext } from 'sluice/sdk';
import { copyIn, copyOut, csvLine, lakeDataset, listLakeKeys, recordLineage, sourceTable, writeParquetParts, type ConstantColumn, type ParquetColumn } from '../lib';
import { etlDay, type EtlDay } from './day';
import { PARTNER_COLUMNS, readPartnerFile } from './partner-files';
import { SHOP_SOURCES, type ShopTable } from './shop-sources';
import { restage, stagingTable, type StagingColumn } from './staging';

/** What an extract hands downstream: counts and where the data is, never the data. */
export interface Extracted {
  source: string;
  day: string;
  rows: number;
  bronze: { prefix: string; parts: number; bytes: number };
  staging: string;
}

export const extractShopTable = defineTask(
  'extractShopTable',
  async (input: { table: ShopTable }, ctx): Promise<Extracted> => {
    const day = etlDay(ctx);
    const spec = SHOP_SOURCES[input.table];
    const source = `shop.${input.table}`;
    const staging = stagingTable(input.table, day.suffix);
    const prefix = `bronze/${input.table}/dt=${day.day}/`;

    const bytes = await copyOut(ctx.resources.source, spec.select(ctx.resources.source, day));
    const [toStaging, toLake] = tee(bytes);
    const [rows, lake] = await Promise.all([
      stage(ctx, staging, spec.columns, toStaging),
      writeParquetParts(ctx, {
        prefix,
        csv: toLake,
        columns: spec.columns.map((c): ParquetColumn => ({ name: c.name, type: c.parquet })),
        constants: bronzeMetadata(ctx.runId, day, source),
      }),
    ]).catch((err: unknown) => {
      bytes.destroy();
      throw err;
    });
    sameRecords(prefix, lake.rows, staging, rows);
    await recordLineage(ctx, { inputs: [sourceTable(input.table)], outputs: [lakeDataset(prefix, { rows: lake.rows, bytes: lake.bytes })] });
    ctx.log.info({ source, rows, parts: lake.keys.length, bytes: lake.bytes }, 'extracted');
    return { source, day: day.day, rows, bronze: { prefix, parts: lake.keys.length, bytes: lake.bytes }, staging };
  },
  { doc: "Copies the day's rows of one shop table to bronze Parquet and a staging table in one pass.", retries: 3 },
);

/**
 * Partner records in bronze and staging alike: the six fields as text as the partner sent them,
 * then the ingestion metadata, and why a record could not be read (with its raw text).
 */
const PARTNER_BRONZE: readonly (ParquetColumn & { sqlType: string })[] = [
  ...PARTNER_COLUMNS.map((name) => ({ name, type: 'string' as const, sqlType: 'text' })),
  { name: '_run_id', type: 'string', sqlType: 'text' },
  { name: '_ingested_at', type: 'timestamp', sqlType: 'timestamptz' },
  { name: '_source', type: 'string', sqlType: 'text' },
  { name: '_source_file', type: 'string', sqlType: 'text' },
  { name: '_source_line', type: 'int32', sqlType: 'integer' },
  { name: '_error', type: 'string', sqlType: 'text' },
  { name: '_raw', type: 'string', sqlType: 'text' },
  { name: '_unreadable', type: 'bool', sqlType: 'boolean' },
];

export const PARTNER_LANDING = 'landing/partner_sales';

export const extractPartnerSales = defineTask(
  'extractPartnerSales',
  async (_input: Record<string, never>, ctx): Promise<Extracted & { files: string[] }> => {
    const day = etlDay(ctx);
    const landing = `${PARTNER_LANDING}/dt=${day.day}/`;
    const files = (await listLakeKeys(ctx, landing)).sort();
    if (files.length === 0) ctx.log.warn({ landing }, 'no partner files landed for the day');
    const staging = stagingTable('partner_sales', day.suffix);
    const prefix = `bronze/partner_sales/dt=${day.day}/`;
    const lines = Readable.from(partnerLines(ctx, files, [ctx.runId, ingestedAt(day), 'partner_sales']));
    const [toStaging, toLake] = tee(lines);
    const [rows, lake] = await Promise.all([
      stage(ctx, staging, PARTNER_BRONZE, toStaging),
      writeParquetParts(ctx, { prefix, csv: toLake, columns: PARTNER_BRONZE }),
    ]).catch((err: unknown) => {
      lines.destroy();
      throw err;
    });
    sameRecords(prefix, lake.rows, staging, rows);
    await recordLineage(ctx, {
      inputs: files.map((key) => lakeDataset(key)),
      outputs: [lakeDataset(prefix, { rows: lake.rows, bytes: lake.bytes })],
    });
    ctx.log.info({ files: files.length, rows, bytes: lake.bytes }, 'extracted partner files');
    return { source: 'partner_sales', day: day.day, rows, bronze: { prefix, parts: lake.keys.length, bytes: lake.bytes }, staging, files };
  },
  { doc: "Reads the day's partner files (CSV, CSV.gz, NDJSON) to bronze Parquet and a staging table; unreadable content is kept as marked records.", retries: 3 },
);

/**
 * Ingestion time is the end of the data interval, not the wall clock: it is when the data was
 * complete, and it keeps a rerun's bronze files byte-identical to the first run's (the lake's
 * idempotence is checked by ETag). When the run actually happened is in the run history.
 */
function ingestedAt(day: EtlDay): string {
  return day.end;
}

/** Bronze and staging come from one stream; a count that differs means a record went missing. */
function sameRecords(prefix: string, lakeRows: number, staging: string, stagedRows: number): void {
  if (lakeRows !== stagedRows) throw new Error(`${prefix} got ${lakeRows} records but ${staging} ${stagedRows}`);
}

/** Recreates the staging table and COPYs the rows in, in one transaction. */
async function stage(ctx: TaskContext, table: string, columns: readonly StagingColumn[], rows: Readable): Promise<number> {
  return ctx.resources.warehouse.transaction(async (trx) => {
    await restage(trx, table, columns);
    return copyIn(trx, table, columns.map((c) => c.name), rows);
  });
}

/** Two readers of one byte stream; the faster waits for the slower (backpressure). */
function tee(bytes: Readable): [PassThrough, PassThrough] {
  const outputs: [PassThrough, PassThrough] = [new PassThrough(), new PassThrough()];
  for (const out of outputs) bytes.pipe(out);
  bytes.once('error', (err) => outputs.forEach((out) => out.destroy(err)));
  return outputs;
}

/** Ingestion metadata appended to every bronze row of a shop table (no file or line: rows of a table). */
function bronzeMetadata(runId: string, day: EtlDay, source: string): ConstantColumn[] {
  return [
    { name: '_run_id', type: 'string', value: runId },
    { name: '_ingested_at', type: 'timestamp', value: ingestedAt(day) },
    { name: '_source', type: 'string', value: source },
    { name: '_source_file', type: 'string', value: null },
    { name: '_source_line', type: 'int32', value: null },
  ];
}

/** Every record of every file, in file then line order, as CSV lines of `PARTNER_BRONZE`. */
async function* partnerLines(ctx: TaskContext, files: readonly string[], metadata: readonly unknown[]): AsyncGenerator<string> {
  for (const key of files) {
    const object = await ctx.resources.s3.send(new GetObjectCommand({ Bucket: ctx.resources.bucket, Key: key }));
    for await (const batch of readPartnerFile(object.Body as Readable, key)) {
      yield batch.map((r) => csvLine([...r.fields, ...metadata, key, r.line, r.error, r.raw, r.unreadable])).join('');
    }
  }
}
