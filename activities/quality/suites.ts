/**
 * The suites `quality_checks` runs, one per table. To add a check, add an object to a suite's
 * `checks` (the types in `suite.ts` say what each kind takes); to check another table, add a
 * suite to `QUALITY_SUITES`: the DAG gets a task for it.
 */
import { REGIONS } from '../etl/validate';
import { EXCEPTION_CATEGORIES } from '../lib';
import type { CountQuery, QualitySuite } from './suite';


/** The day's records daily_etl quarantined from one source (its `logical_date` is the day loaded). */
const quarantined = (source: string): CountQuery => ({
  database: 'warehouse',
  table: 'ops.exceptions',
  where: { dag_id: 'daily_etl', source },
  day: { column: 'logical_date', value: 'date' },
});

/**
 * The sales daily_etl loaded that day: one row per shop order item or partner line. By
 * `load_date`, not `date_key`: a partner line dated another day is still checked, once, with the
 * load that brought it.
 */
export const factSales: QualitySuite = {
  table: 'warehouse.fact_sales',
  partition: { column: 'load_date', value: 'date' },
  checks: [
    { name: 'line_id_not_null', kind: 'notNull', column: 'line_id', severity: 'blocking' },
    { name: 'order_id_not_null', kind: 'notNull', column: 'order_id', severity: 'blocking' },
    { name: 'product_key_not_null', kind: 'notNull', column: 'product_key', severity: 'blocking' },
    // Partner lines have no customer; every shop order has one.
    { name: 'shop_customer_key_not_null', kind: 'notNull', column: 'customer_key', where: { source: 'shop' }, severity: 'blocking' },
    { name: 'line_unique', kind: 'unique', columns: ['source', 'line_id'], severity: 'blocking' },
    { name: 'quantity_positive', kind: 'range', column: 'quantity', gt: 0, severity: 'blocking' },
    { name: 'revenue_not_negative', kind: 'range', column: 'revenue', gte: 0, severity: 'blocking' },
    { name: 'region_accepted', kind: 'acceptedValues', column: 'region', values: REGIONS, severity: 'blocking' },
    { name: 'product_exists', kind: 'relationships', column: 'product_key', to: { table: 'warehouse.dim_product', column: 'product_key' }, severity: 'blocking' },
    { name: 'customer_exists', kind: 'relationships', column: 'customer_key', to: { table: 'warehouse.dim_customer', column: 'customer_key' }, severity: 'blocking' },
    { name: 'date_exists', kind: 'relationships', column: 'date_key', to: { table: 'warehouse.dim_date', column: 'date_key' }, severity: 'blocking' },
    // Every item the shop recorded that day is either in the fact table or quarantined.
    {
      name: 'shop_rows_match_source',
      kind: 'rowCountMatchesSource',
      where: { source: 'shop' },
      expected: { database: 'source', table: 'public.order_items', day: { column: 'created_at', value: 'timestamp' } },
      minus: [quarantined('shop.order_items')],
      tolerance: 0,
      severity: 'blocking',
    },
    // A day whose last order is hours before midnight smells of a partial extract; a quiet
    // evening is possible, hence a warning.
    { name: 'orders_fresh', kind: 'freshness', column: 'ordered_at', maxAge: '6h', severity: 'warning' },
  ],
};

/** Customers, type 2: one current version each, closed versions with a valid range. */
export const dimCustomer: QualitySuite = {
  table: 'warehouse.dim_customer',
  checks: [
    { name: 'one_current_version', kind: 'unique', columns: ['customer_id'], where: { is_current: true }, severity: 'blocking' },
    { name: 'region_accepted', kind: 'acceptedValues', column: 'region', values: REGIONS, severity: 'blocking' },
    { name: 'email_complete', kind: 'completeness', column: 'email', threshold: 0.99, severity: 'blocking' },
    // Deliberately loose: it catches typos and placeholders, not every RFC 5322 oddity.
    { name: 'email_format', kind: 'regex', column: 'email', pattern: '^[^@[:space:]]+@[^@[:space:]]+\\.[^@[:space:]]+$', severity: 'warning' },
    { name: 'valid_from_before_valid_to', kind: 'compare', left: 'valid_from', op: '<', right: 'valid_to', severity: 'blocking' },
  ],
};

/** Products, type 1. */
export const dimProduct: QualitySuite = {
  table: 'warehouse.dim_product',
  checks: [
    { name: 'sku_unique', kind: 'unique', columns: ['sku'], severity: 'blocking' },
    { name: 'price_not_negative', kind: 'range', column: 'price', gte: 0, severity: 'blocking' },
    { name: 'category_not_null', kind: 'notNull', column: 'category', severity: 'blocking' },
  ],
};

/** The day's quarantined records. */
export const exceptions: QualitySuite = {
  table: 'ops.exceptions',
  partition: { column: 'logical_date', value: 'date' },
  checks: [
    { name: 'category_accepted', kind: 'acceptedValues', column: 'category', values: EXCEPTION_CATEGORIES, severity: 'blocking' },
    // Some quarantine is normal (the demo injects a few percent); a tenth of the day means a
    // source broke. Records in: daily_etl's audit counts every source once, at stage 'conservation'.
    {
      name: 'quarantine_rate',
      kind: 'rowRatio',
      where: { dag_id: 'daily_etl' },
      of: { database: 'warehouse', table: 'ops.audit_log', sum: 'records_in', where: { dag_id: 'daily_etl', stage: 'conservation' }, day: { column: 'logical_date', value: 'date' } },
      below: 0.1,
      severity: 'warning',
    },
  ],
};

export const QUALITY_SUITES: readonly QualitySuite[] = [factSales, dimCustomer, dimProduct, exceptions];
