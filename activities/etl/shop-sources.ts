/**
 * What daily_etl extracts from the shop database, per table: the columns (with their staging and
 * Parquet types) and which rows belong to a day. Rows are ordered by key so that a rerun writes
 * byte-identical bronze files.
 */
import type { Knex } from 'knex';
import type { ParquetColumn } from '../lib';
import type { EtlDay } from './day';
import type { StagingColumn } from './staging';

export type ShopTable = 'orders' | 'order_items' | 'customers' | 'products';

export interface ShopColumn extends StagingColumn {
  parquet: ParquetColumn['type'];
}

export interface ShopSource {
  columns: readonly ShopColumn[];
  /** The day's rows, in key order. */
  select(db: Knex, day: EtlDay): Knex.QueryBuilder;
}

const col = (name: string, sqlType: string, parquet: ParquetColumn['type']): ShopColumn => ({ name, sqlType, parquet });
const names = (columns: readonly ShopColumn[]) => columns.map((c) => c.name);

const ORDERS = [
  col('order_id', 'bigint', 'int64'),
  col('order_number', 'text', 'string'),
  col('customer_id', 'bigint', 'int64'),
  col('channel', 'text', 'string'),
  col('ordered_at', 'timestamptz', 'timestamp'),
];
const ORDER_ITEMS = [
  col('order_item_id', 'bigint', 'int64'),
  col('order_id', 'bigint', 'int64'),
  col('product_id', 'bigint', 'int64'),
  col('quantity', 'integer', 'int32'),
  col('unit_price', 'numeric(12,2)', 'decimal'),
  col('created_at', 'timestamptz', 'timestamp'),
];
const CUSTOMERS = [
  col('customer_id', 'bigint', 'int64'),
  col('name', 'text', 'string'),
  col('email', 'text', 'string'),
  col('city', 'text', 'string'),
  col('region', 'text', 'string'),
  col('segment', 'text', 'string'),
  col('created_at', 'timestamptz', 'timestamp'),
  col('updated_at', 'timestamptz', 'timestamp'),
];
const PRODUCTS = [
  col('product_id', 'bigint', 'int64'),
  col('sku', 'text', 'string'),
  col('name', 'text', 'string'),
  col('category', 'text', 'string'),
  col('price', 'numeric(12,2)', 'decimal'),
  col('created_at', 'timestamptz', 'timestamp'),
  col('updated_at', 'timestamptz', 'timestamp'),
];

export const SHOP_SOURCES: Record<ShopTable, ShopSource> = {
  orders: {
    columns: ORDERS,
    select: (db, day) => db('orders').select(names(ORDERS)).where('ordered_at', '>=', day.start).andWhere('ordered_at', '<', day.end).orderBy('order_id'),
  },
  order_items: {
    columns: ORDER_ITEMS,
    // By the item's own timestamp, not through its order: an item whose order is missing (an
    // orphan) must still be extracted, to be quarantined rather than silently skipped.
    select: (db, day) => db('order_items').select(names(ORDER_ITEMS)).where('created_at', '>=', day.start).andWhere('created_at', '<', day.end).orderBy('order_item_id'),
  },
  customers: {
    columns: CUSTOMERS,
    // Changed in the interval, plus everyone who ordered in it: the source keeps only a
    // customer's latest row, so a customer whose change came later is still known to the day.
    // A union of two joins rather than `or customer_id in (...)`, which Postgres may run as a
    // scan of the day's orders per customer once the ids outgrow work_mem.
    select: (db, day) =>
      db
        .select(names(CUSTOMERS))
        .from('customers')
        .where('updated_at', '>=', day.start)
        .andWhere('updated_at', '<', day.end)
        .union((q) =>
          q
            .select(names(CUSTOMERS).map((c) => `c.${c}`))
            .from('customers as c')
            .join(db('orders').distinct('customer_id').where('ordered_at', '>=', day.start).andWhere('ordered_at', '<', day.end).as('o'), 'o.customer_id', 'c.customer_id'),
        )
        .orderBy('customer_id'),
  },
  products: {
    columns: PRODUCTS,
    // The whole catalogue (a few thousand rows): partner files name products by SKU, so the
    // day's referential checks need every product, not only those that changed.
    select: (db) => db('products').select(names(PRODUCTS)).orderBy('product_id'),
  },
};
