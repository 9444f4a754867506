/**
 * The star schema's dimensions. dim_date is a calendar; dim_product keeps each product's current
 * attributes (type 1); dim_customer keeps every version of a customer (type 2), each valid from
 * the source's `updated_at` of the change until the next one. Versions are keyed on the source's
 * own timestamps, so loading days out of order, or again, gives the same dimension.
 */
import { defineTask, type TaskContext } from 'sluice/sdk';
import { lakeDataset, quoteQualified, recordLineage, warehouseTable } from '../lib';
import { etlDay } from './day';
import type { Extracted } from './extract';

/** Serialises merges of one dimension across concurrent runs (a backfill loads days in parallel). */
async function lockDimension(trx: TaskContext['resources']['warehouse'], table: string): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [table]);
}

export const loadDimDate = defineTask(
  'loadDimDate',
  async (_input: Record<string, never>, ctx): Promise<{ days: number }> => {
    const { day } = etlDay(ctx);
    const year = Number(day.slice(0, 4));
    // The calendar from the year before to the year after: every date a partner line may carry
    // (business rules keep order dates within a week of the day) is already there.
    const { rowCount } = await ctx.resources.warehouse.raw<{ rowCount: number }>(
      `insert into warehouse.dim_date
         select to_char(d, 'YYYYMMDD')::int, d, extract(year from d), extract(quarter from d), extract(month from d),
                trim(to_char(d, 'Month')), extract(day from d), extract(isodow from d), trim(to_char(d, 'Day')),
                extract(isoyear from d), extract(week from d), extract(isodow from d) >= 6
         from generate_series(make_date(?, 1, 1), make_date(?, 12, 31), interval '1 day') as g(d)
       on conflict (date_key) do nothing`,
      [year - 1, year + 1],
    );
    await recordLineage(ctx, { inputs: [], outputs: [warehouseTable('warehouse.dim_date', { rows: rowCount })] });
    return { days: rowCount };
  },
  { doc: 'Makes sure dim_date covers the year before to the year after the day.', retries: 3 },
);

export const loadDimProduct = defineTask(
  'loadDimProduct',
  async (input: { products: Extracted }, ctx): Promise<{ inserted: number; updated: number }> => {
    const result = await ctx.resources.warehouse.transaction(async (trx) => {
      await lockDimension(trx, 'warehouse.dim_product');
      // Type 1: overwrite, but only with a newer source row, and only when something changed,
      // so a rerun (or an older day loaded late) writes nothing.
      const { rows } = await trx.raw<{ rows: { inserted: boolean }[] }>(
        `insert into warehouse.dim_product as d (product_id, sku, name, category, price, updated_at, run_id)
           select product_id, sku, name, category, price, updated_at, ? from ${quoteQualified(input.products.staging)}
         on conflict (product_id) do update
           set sku = excluded.sku, name = excluded.name, category = excluded.category, price = excluded.price,
               updated_at = excluded.updated_at, run_id = excluded.run_id
           where d.updated_at < excluded.updated_at
             and (d.sku, d.name, d.category, d.price) is distinct from (excluded.sku, excluded.name, excluded.category, excluded.price)
         returning (xmax = 0) as inserted`,
        [ctx.runId],
      );
      return { inserted: rows.filter((r) => r.inserted).length, updated: rows.filter((r) => !r.inserted).length };
    });
    await recordLineage(ctx, { inputs: [lakeDataset(input.products.bronze.prefix)], outputs: [warehouseTable('warehouse.dim_product', { rows: result.inserted + result.updated })] });
    ctx.log.info({ ...result, extracted: input.products.rows }, 'dim_product merged');
    return result;
  },
  { doc: 'Type-1 merge of products into dim_product.', retries: 3 },
);

export const loadDimCustomer = defineTask(
  'loadDimCustomer',
  async (input: { customers: Extracted }, ctx): Promise<{ newCustomers: number; newVersions: number }> => {
    const staged = quoteQualified(input.customers.staging);
    const result = await ctx.resources.warehouse.transaction(async (trx) => {
      await lockDimension(trx, 'warehouse.dim_customer');
      // Customers whose attributes differ from their current version, as of a later change.
      await trx.raw(
        `create temp table changed_customers on commit drop as
           select s.* from ${staged} s
           join warehouse.dim_customer d on d.customer_id = s.customer_id and d.is_current
           where s.updated_at > d.valid_from
             and (s.name, s.email, s.city, s.region, s.segment) is distinct from (d.name, d.email, d.city, d.region, d.segment)`,
      );
      // A change closes the current version where the new one starts...
      await trx.raw(
        `update warehouse.dim_customer d set valid_to = c.updated_at, is_current = false
           from changed_customers c where d.customer_id = c.customer_id and d.is_current`,
      );
      const opened = await trx.raw<{ rowCount: number }>(
        `insert into warehouse.dim_customer (customer_id, name, email, city, region, segment, valid_from, valid_to, is_current, run_id)
           select customer_id, name, email, city, region, segment, updated_at, null, true, ? from changed_customers`,
        [ctx.runId],
      );
      // ...and a customer seen for the first time gets one version, valid since sign-up.
      const added = await trx.raw<{ rowCount: number }>(
        `insert into warehouse.dim_customer (customer_id, name, email, city, region, segment, valid_from, valid_to, is_current, run_id)
           select s.customer_id, s.name, s.email, s.city, s.region, s.segment, s.created_at, null, true, ?
           from ${staged} s
           where not exists (select 1 from warehouse.dim_customer d where d.customer_id = s.customer_id)`,
        [ctx.runId],
      );
      return { newCustomers: added.rowCount, newVersions: opened.rowCount };
    });
    await recordLineage(ctx, { inputs: [lakeDataset(input.customers.bronze.prefix)], outputs: [warehouseTable('warehouse.dim_customer', { rows: result.newCustomers + result.newVersions })] });
    ctx.log.info({ ...result, extracted: input.customers.rows }, 'dim_customer merged (type 2)');
    return result;
  },
  { doc: 'Type-2 merge of customers into dim_customer: a change closes the current version and opens a new one.', retries: 3 },
);
