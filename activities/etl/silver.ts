/**
 * Silver: the validated records of a day as typed Parquet (`silver/<source>/dt=<day>/`), read
 * from the `*_checked` staging table. Only records that passed every rule are written.
 */
import { defineTask } from 'sluice/sdk';
import { copyOut, lakeDataset, quoteQualified, recordLineage, writeParquetParts, type ParquetColumn } from '../lib';
import { etlDay } from './day';
import type { Validated } from './validate';

interface SilverSpec {
  /** Lake table name under `silver/`. */
  table: string;
  /** SELECT list over the checked row `c`, matching `columns`. */
  select: string;
  orderBy: string;
  columns: readonly ParquetColumn[];
}

const SPECS: Record<string, SilverSpec> = {
  'shop.orders': {
    table: 'orders',
    select: 'c.order_id, c.order_number, c.customer_id, c.customer_key, c.region, c.channel, c.ordered_at',
    orderBy: 'c.order_id',
    columns: [
      { name: 'order_id', type: 'int64' },
      { name: 'order_number', type: 'string' },
      { name: 'customer_id', type: 'int64' },
      { name: 'customer_key', type: 'int64' },
      { name: 'region', type: 'string' },
      { name: 'channel', type: 'string' },
      { name: 'ordered_at', type: 'timestamp' },
    ],
  },
  'shop.order_items': {
    table: 'order_items',
    select: 'c.order_item_id, c.order_id, c.product_id, c.product_key, c.quantity, c.unit_price, c.quantity * c.unit_price, c.created_at',
    orderBy: 'c.order_item_id',
    columns: [
      { name: 'order_item_id', type: 'int64' },
      { name: 'order_id', type: 'int64' },
      { name: 'product_id', type: 'int64' },
      { name: 'product_key', type: 'int64' },
      { name: 'quantity', type: 'int32' },
      { name: 'unit_price', type: 'decimal', decimal: [12, 2] },
      { name: 'revenue', type: 'decimal', decimal: [14, 2] },
      { name: 'created_at', type: 'timestamp' },
    ],
  },
  partner_sales: {
    table: 'partner_sales',
    select: `trim(c.order_id), trim(c.order_date)::date, trim(c.region), trim(c.product), c.product_key, trim(c.quantity)::int, trim(c.revenue)::numeric, c._source_file, c._source_line`,
    orderBy: 'c._source_file, c._source_line',
    columns: [
      { name: 'order_id', type: 'string' },
      { name: 'order_date', type: 'date' },
      { name: 'region', type: 'string' },
      { name: 'sku', type: 'string' },
      { name: 'product_key', type: 'int64' },
      { name: 'quantity', type: 'int32' },
      { name: 'revenue', type: 'decimal', decimal: [14, 2] },
      { name: 'source_file', type: 'string' },
      { name: 'source_line', type: 'int32' },
    ],
  },
};

export const writeSilver = defineTask(
  'writeSilver',
  async (input: { validated: Validated }, ctx): Promise<{ prefix: string; rows: number; bytes: number }> => {
    const spec = SPECS[input.validated.source];
    if (!spec) throw new Error(`no silver layout for ${input.validated.source}`);
    const { day } = etlDay(ctx);
    const prefix = `silver/${spec.table}/dt=${day}/`;
    const db = ctx.resources.warehouse;
    const bytes = await copyOut(db, `select ${spec.select} from ${quoteQualified(input.validated.checked)} c where c._category is null order by ${spec.orderBy}`);
    const written = await writeParquetParts(ctx, { prefix, columns: spec.columns, csv: bytes });
    if (written.rows !== input.validated.valid) throw new Error(`${prefix}: wrote ${written.rows} rows, expected ${input.validated.valid} valid records`);
    await recordLineage(ctx, { inputs: [], outputs: [lakeDataset(prefix, { rows: written.rows, bytes: written.bytes })] });
    return { prefix, rows: written.rows, bytes: written.bytes };
  },
  { doc: "Writes a source's validated records of the day to silver Parquet.", retries: 3 },
);
