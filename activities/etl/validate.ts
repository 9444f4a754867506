/**
 * Validation, in layers and set-based: each staged record is classified by the first rule it
 * breaks, in the order schema and types → required fields → business rules → duplicates →
 * referential integrity, in one SQL pass per source that writes a `*_checked` staging table
 * (the staged columns plus `_category`, `_stage`, `_reason`; all null for a valid record).
 * Rejected records then go to quarantine (ops.exceptions) and valid ones on to silver and the
 * facts; nothing is deleted anywhere.
 */
import type { Knex } from 'knex';
import { defineTask, type TaskContext } from 'sluice/sdk';
import { copyIn, copyOut, lakeDataset, quoteQualified, recordLineage, sourceTable, warehouseTable, type DatasetRef } from '../lib';
import { etlDay, type EtlDay } from './day';
import type { Extracted } from './extract';
import { quarantine } from './quarantine';
import { restage, stagingTable } from './staging';

/** The regions partner files and customers may name. */
export const REGIONS = ['North', 'South', 'East', 'West', 'Central'] as const;
/** How far from the file's day a partner's order date may be (late lines happen; a year off does not). */
const PARTNER_DATE_WINDOW_DAYS = 7;

export interface Validated {
  source: string;
  checked: string;
  records: number;
  valid: number;
  quarantined: number;
}

/**
 * `case when <test> then array[category, stage, reason] ... end`: the first broken rule wins.
 * Rules never contain `?`: knex would read it as a bind placeholder (regexes use `{0,1}`).
 */
type Rule = [test: string, category: string, stage: string, reason: string];
const classify = (rules: readonly Rule[]) =>
  `case ${rules.map(([test, category, stage, reason]) => `when ${test} then array['${category}', '${stage}', ${reason}]`).join('\n  ')} end`;

const REGION_LIST = REGIONS.map((r) => `'${r}'`).join(', ');

/** Rules for partner lines, all fields text as the partner sent them. */
function partnerRules(day: string): Rule[] {
  const present = (c: string) => `nullif(trim(s.${c}), '') is not null`;
  const missing = (c: string): Rule => [`not ${present(c)}`, 'MISSING_REQUIRED_FIELD', 'required', `'${c} is missing'`];
  return [
    ['s._unreadable', 'FILE_UNREADABLE', 'extract', `s._error`],
    ['s._error is not null', 'DATA_FORMAT_ERROR', 'schema', `s._error`],
    [`${present('order_date')} and not (trim(s.order_date) ~ '^\\d{4}-\\d{2}-\\d{2}$' and pg_input_is_valid(trim(s.order_date), 'date'))`, 'DATA_FORMAT_ERROR', 'schema', `format('order_date %L is not a date (YYYY-MM-DD)', s.order_date)`],
    [`${present('quantity')} and trim(s.quantity) !~ '^-{0,1}\\d{1,9}$'`, 'DATA_FORMAT_ERROR', 'schema', `format('quantity %L is not a whole number', s.quantity)`],
    // 10 digits: fact_sales.unit_price (numeric(12,2)) is revenue / quantity, so with quantity 1 a
    // larger amount overflowed it and stopped the fact load.
    [`${present('revenue')} and trim(s.revenue) !~ '^-{0,1}\\d{1,10}(\\.\\d{1,2}){0,1}$'`, 'DATA_FORMAT_ERROR', 'schema', `format('revenue %L is not an amount (at most 10 digits and 2 decimals)', s.revenue)`],
    missing('order_id'),
    missing('order_date'),
    missing('region'),
    missing('product'),
    missing('quantity'),
    missing('revenue'),
    ['trim(s.quantity)::int <= 0', 'BUSINESS_RULE_VIOLATION', 'business', `format('quantity %s is not positive', trim(s.quantity))`],
    ['trim(s.revenue)::numeric < 0', 'BUSINESS_RULE_VIOLATION', 'business', `format('revenue %s is negative', trim(s.revenue))`],
    [`trim(s.region) not in (${REGION_LIST})`, 'BUSINESS_RULE_VIOLATION', 'business', `format('region %L is not one of ${REGIONS.join(', ')}', s.region)`],
    [
      `abs(trim(s.order_date)::date - date '${day}') > ${PARTNER_DATE_WINDOW_DAYS}`,
      'BUSINESS_RULE_VIOLATION',
      'business',
      `format('order_date %s is more than ${PARTNER_DATE_WINDOW_DAYS} days from the file''s day ${day}', trim(s.order_date))`,
    ],
  ];
}

export const validatePartnerSales = defineTask(
  'validatePartnerSales',
  async (input: { extracted: Extracted }, ctx): Promise<Validated> => {
    const { day, suffix } = etlDay(ctx);
    const staged = quoteQualified(input.extracted.staging);
    const checked = stagingTable('partner_sales', suffix, 'checked');
    const db = ctx.resources.warehouse;
    await db.transaction(async (trx) => {
      await trx.raw(`drop table if exists ${quoteQualified(checked)}`);
      await trx.raw(`
        create table ${quoteQualified(checked)} as
        with layered as (
          select s.*, ${classify(partnerRules(day))} as problem from ${staged} s
        ), deduplicated as (
          -- Among lines that passed so far, the first occurrence of an order id (by file, line) is the original.
          select l.*, case when l.problem is null and row_number() over same_order > 1
            then array['DUPLICATE_RECORD', 'duplicate', format('order %s already came in %s', trim(l.order_id), first_value(l._source_file || ' line ' || l._source_line) over same_order)]
            else l.problem end as problem2
          from layered l
          window same_order as (partition by trim(l.order_id), l.problem is null order by l._source_file, l._source_line)
        )
        select d.order_id, d.order_date, d.region, d.product, d.quantity, d.revenue, d._source_file, d._source_line, d._error, d._raw, d._unreadable,
               p.product_key,
               coalesce(d.problem2, case when p.product_key is null then array['REFERENTIAL_INTEGRITY', 'referential', format('product %L is not a known SKU', d.product)] end) as problem
        from deduplicated d left join warehouse.dim_product p on p.sku = trim(d.product)`);
      await splitProblem(trx, checked);
    });
    return finish(ctx, { source: 'partner_sales', checked, inputs: [input.extracted] });
  },
  { doc: 'Classifies partner lines (types, required fields, business rules, duplicates, products) and quarantines the rejects.', retries: 3 },
);

export const validateShopSales = defineTask(
  'validateShopSales',
  async (input: { orders: Extracted; items: Extracted }, ctx): Promise<{ orders: Validated; items: Validated }> => {
    const day = etlDay(ctx);
    const orders = quoteQualified(input.orders.staging);
    const items = quoteQualified(input.items.staging);
    const ordersChecked = stagingTable('orders', day.suffix, 'checked');
    const itemsChecked = stagingTable('order_items', day.suffix, 'checked');
    const earlier = stagingTable('orders', day.suffix, 'earlier');
    await ctx.resources.warehouse.transaction(async (trx) => {
      await stageEarlierOrders(ctx, trx, earlier, day);
      await trx.raw(`drop table if exists ${quoteQualified(ordersChecked)}`);
      // A double-submitted checkout repeats the order number: the earliest order keeps it, be it
      // the day's own or one placed in the day before (a checkout submitted again after midnight).
      await trx.raw(`
        create table ${quoteQualified(ordersChecked)} as
        select o.*, ${classify([
          ['o.customer_id is null', 'MISSING_REQUIRED_FIELD', 'required', `'customer_id is missing'`],
          [`nullif(trim(o.order_number), '') is null`, 'MISSING_REQUIRED_FIELD', 'required', `'order_number is missing'`],
          ['o.ordered_at is null', 'MISSING_REQUIRED_FIELD', 'required', `'ordered_at is missing'`],
          ['e.order_id is not null', 'DUPLICATE_RECORD', 'duplicate', `format('order number %s was already placed as order %s at %s', o.order_number, e.order_id, e.ordered_at)`],
          ['row_number() over same_number > 1', 'DUPLICATE_RECORD', 'duplicate', `format('order number %s was already placed as order %s', o.order_number, first_value(o.order_id) over same_number)`],
          [
            'c.customer_key is null',
            'REFERENTIAL_INTEGRITY',
            'referential',
            `format('customer %s has no version valid at %s', o.customer_id, o.ordered_at)`,
          ],
        ])} as problem, c.customer_key, c.region
        from ${orders} o
        left join ${quoteQualified(earlier)} e on e.order_number = o.order_number
        left join warehouse.dim_customer c
          on c.customer_id = o.customer_id and c.valid_from <= o.ordered_at and (c.valid_to is null or c.valid_to > o.ordered_at)
        window same_number as (partition by o.order_number order by o.ordered_at, o.order_id)`);
      await splitProblem(trx, ordersChecked);
      await trx.raw(`drop table if exists ${quoteQualified(itemsChecked)}`);
      await trx.raw(`
        create table ${quoteQualified(itemsChecked)} as
        select i.*, ${classify([
          ['i.quantity is null', 'MISSING_REQUIRED_FIELD', 'required', `'quantity is missing'`],
          ['i.unit_price is null', 'MISSING_REQUIRED_FIELD', 'required', `'unit_price is missing'`],
          ['i.quantity <= 0', 'BUSINESS_RULE_VIOLATION', 'business', `format('quantity %s is not positive', i.quantity)`],
          ['i.unit_price < 0', 'BUSINESS_RULE_VIOLATION', 'business', `format('unit_price %s is negative', i.unit_price)`],
          [`o._category = 'DUPLICATE_RECORD'`, 'DUPLICATE_RECORD', 'duplicate', `format('belongs to duplicate order %s: %s', i.order_id, o._reason)`],
          ['o.order_id is null', 'REFERENTIAL_INTEGRITY', 'referential', `format('order %s does not exist', i.order_id)`],
          ['o._category is not null', 'REFERENTIAL_INTEGRITY', 'referential', `format('its order %s was rejected: %s', i.order_id, o._reason)`],
          ['p.product_key is null', 'REFERENTIAL_INTEGRITY', 'referential', `format('product %s does not exist', i.product_id)`],
        ])} as problem, p.product_key
        from ${items} i
        left join ${quoteQualified(ordersChecked)} o on o.order_id = i.order_id
        left join warehouse.dim_product p on p.product_id = i.product_id`);
      await splitProblem(trx, itemsChecked);
    });
    return {
      orders: await finish(ctx, { source: 'shop.orders', checked: ordersChecked, inputs: [input.orders], alsoRead: [sourceTable('orders')] }),
      items: await finish(ctx, { source: 'shop.order_items', checked: itemsChecked, inputs: [input.items] }),
    };
  },
  { doc: 'Classifies orders and order items (required fields, quantities, duplicate orders, orphans, unknown products) and quarantines the rejects.', retries: 3 },
);

/** How far back a repeated order number counts as a double submission. */
const DUPLICATE_LOOKBACK_HOURS = 24;

/**
 * The first order of each order number the day uses that was placed in the 24 hours before the
 * day, from the source: reference data for the duplicate rule, like a dimension (they are not
 * the day's records and are not counted in its audit).
 */
async function stageEarlierOrders(ctx: TaskContext, trx: Knex.Transaction, table: string, day: EtlDay): Promise<void> {
  const { source } = ctx.resources;
  const since = new Date(Date.parse(day.start) - DUPLICATE_LOOKBACK_HOURS * 3_600_000).toISOString();
  const query = source
    .select(source.raw('distinct on (p.order_number) p.order_number, p.order_id, p.ordered_at'))
    .from('orders as p')
    .where('p.ordered_at', '>=', since)
    .andWhere('p.ordered_at', '<', day.start)
    .whereIn('p.order_number', source('orders').select('order_number').where('ordered_at', '>=', day.start).andWhere('ordered_at', '<', day.end))
    .orderBy([{ column: 'p.order_number' }, { column: 'p.ordered_at' }, { column: 'p.order_id' }]);
  await restage(trx, table, [
    { name: 'order_number', sqlType: 'text' },
    { name: 'order_id', sqlType: 'bigint' },
    { name: 'ordered_at', sqlType: 'timestamptz' },
  ]);
  await copyIn(trx, table, ['order_number', 'order_id', 'ordered_at'], await copyOut(source, query));
}

/** Turns the `problem` array into `_category`, `_stage`, `_reason` columns. */
async function splitProblem(trx: Knex.Transaction, checked: string): Promise<void> {
  const table = quoteQualified(checked);
  await trx.raw(`alter table ${table} add column _category text, add column _stage text, add column _reason text`);
  await trx.raw(`update ${table} set _category = problem[1], _stage = problem[2], _reason = problem[3] where problem is not null`);
  await trx.raw(`alter table ${table} drop column problem`);
}

/** Quarantines the rejects, records lineage, and reports the counts. */
async function finish(
  ctx: TaskContext,
  spec: { source: string; checked: string; inputs: Extracted[]; alsoRead?: DatasetRef[] },
): Promise<Validated> {
  const db = ctx.resources.warehouse;
  const counts = await db(spec.checked).first<{ records: number; rejected: number }>(db.raw('count(*)::int as records'), db.raw('count(_category)::int as rejected'));
  const quarantined = await quarantine(ctx, { source: spec.source, checked: spec.checked });
  if (!counts || quarantined !== counts.rejected) throw new Error(`${spec.source}: ${counts?.rejected} records rejected but ${quarantined} quarantined`);
  await recordLineage(ctx, { inputs: [...spec.inputs.map((e) => lakeDataset(e.bronze.prefix)), ...(spec.alsoRead ?? [])], outputs: [warehouseTable('ops.exceptions', { rows: quarantined })] });
  ctx.log.info({ source: spec.source, records: counts.records, quarantined }, 'validated');
  return { source: spec.source, checked: spec.checked, records: counts.records, valid: counts.records - quarantined, quarantined };
}
