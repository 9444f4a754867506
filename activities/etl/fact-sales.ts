/**
 * fact_sales for the day: the valid shop order items and partner lines, with their dimension
 * keys, as a new partition (`load_date` = the day) swapped in for the old one in one
 * transaction. It reads the same
 * validated staging rows silver is written from, so it runs alongside the silver writes.
 */
import { defineTask } from 'sluice/sdk';
import { lakeDataset, quoteQualified, recordLineage, swapPartition, warehouseTable } from '../lib';
import { etlDay } from './day';
import type { Validated } from './validate';

export interface FactLoad {
  shop: number;
  partner: number;
}

export const loadFactSales = defineTask(
  'loadFactSales',
  async (input: { orders: Validated; items: Validated; partner: Validated }, ctx): Promise<FactLoad> => {
    const { day } = etlDay(ctx);
    const items = quoteQualified(input.items.checked);
    const orders = quoteQualified(input.orders.checked);
    const partner = quoteQualified(input.partner.checked);
    const result = await swapPartition(ctx.resources.warehouse, {
      table: 'warehouse.fact_sales',
      column: 'load_date',
      value: day,
      suffix: day.replaceAll('-', ''),
      load: async (trx, partition) => {
        const target = quoteQualified(partition);
        // Valid items have a valid order (validation made sure), whose customer version and region it carries.
        const shop = await trx.raw<{ rowCount: number }>(
          `insert into ${target} (source, line_id, order_id, date_key, ordered_at, customer_key, product_key, region, channel, quantity, unit_price, revenue, load_date, run_id)
           select 'shop', i.order_item_id::text, i.order_id::text, to_char(o.ordered_at at time zone 'UTC', 'YYYYMMDD')::int, o.ordered_at,
                  o.customer_key, i.product_key, o.region, o.channel, i.quantity, i.unit_price, i.quantity * i.unit_price, ?, ?
           from ${items} i join ${orders} o on o.order_id = i.order_id
           where i._category is null`,
          [day, ctx.runId],
        );
        const partnerLines = await trx.raw<{ rowCount: number }>(
          `insert into ${target} (source, line_id, order_id, date_key, ordered_at, customer_key, product_key, region, channel, quantity, unit_price, revenue, load_date, run_id)
           select 'partner_sales', c._source_file || ':' || c._source_line, trim(c.order_id), to_char(trim(c.order_date)::date, 'YYYYMMDD')::int, null,
                  null, c.product_key, trim(c.region), 'partner', trim(c.quantity)::int,
                  round(trim(c.revenue)::numeric / trim(c.quantity)::int, 2), trim(c.revenue)::numeric, ?, ?
           from ${partner} c where c._category is null`,
          [day, ctx.runId],
        );
        // Validation counted the valid records: fewer rows here means the work tables lost rows
        // (Postgres emptied them, say), and swapping in a short partition would lose the day's
        // sales without an error. Throwing rolls the swap back and keeps the old partition.
        if (shop.rowCount !== input.items.valid || partnerLines.rowCount !== input.partner.valid) {
          throw new Error(
            `fact_sales ${day}: ${shop.rowCount} shop and ${partnerLines.rowCount} partner rows from the staging tables, but validation passed ${input.items.valid} and ${input.partner.valid}: the staging tables changed since validation; clear the validate tasks to rebuild them`,
          );
        }
        return { shop: shop.rowCount, partner: partnerLines.rowCount };
      },
    });
    await recordLineage(ctx, {
      inputs: [...['orders', 'order_items', 'partner_sales'].map((t) => lakeDataset(`silver/${t}/dt=${day}/`)), warehouseTable('warehouse.dim_customer'), warehouseTable('warehouse.dim_product')],
      outputs: [warehouseTable('warehouse.fact_sales', { rows: result.shop + result.partner })],
    });
    ctx.log.info(result, 'fact_sales partition swapped in');
    return result;
  },
  { doc: "Replaces the day's fact_sales rows with the valid shop items and partner lines.", retries: 3 },
);
