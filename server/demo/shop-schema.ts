/**
 * The source database `shop`, deliberately loose like a real OLTP: no foreign keys (orphan items
 * are possible) and order numbers that are not unique (a double-submitted checkout repeats one).
 * Indexes on the timestamps the extracts filter on.
 */
import type { Knex } from 'knex';

const DDL = `
create table if not exists customers (
  customer_id bigint primary key,
  name text not null,
  email text not null,
  city text not null,
  region text not null,
  segment text not null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index if not exists customers_updated_at on customers (updated_at);

create table if not exists products (
  product_id bigint primary key,
  sku text unique not null,
  name text not null,
  category text not null,
  price numeric(10,2) not null,
  created_at timestamptz not null,
  updated_at timestamptz not null
);
create index if not exists products_updated_at on products (updated_at);

create table if not exists orders (
  order_id bigint primary key,
  order_number text not null,
  customer_id bigint not null,
  channel text not null,
  ordered_at timestamptz not null
);
create index if not exists orders_ordered_at on orders (ordered_at);

create table if not exists order_items (
  order_item_id bigint primary key,
  order_id bigint not null,
  product_id bigint not null,
  quantity int not null,
  unit_price numeric(10,2) not null,
  created_at timestamptz not null
);
create index if not exists order_items_created_at on order_items (created_at);

create table if not exists events (
  event_id bigint primary key,
  session_id text not null,
  customer_id bigint null,
  event_type text not null,
  product_id bigint null,
  occurred_at timestamptz not null
);
create index if not exists events_occurred_at on events (occurred_at);
`;

/**
 * Marks a database as the demo's: seeding deletes and rewrites rows by day and id, which must
 * never happen to a real shop's tables that `SOURCE_DATABASE_URL` may point at.
 */
const DEMO_MARKER = 'sluice_demo';

/**
 * Creates the tables and indexes that are missing; leaves existing ones and their rows alone.
 * Refuses a database that has shop tables the demo did not create.
 */
export async function createShopSchema(source: Knex): Promise<void> {
  // One transaction-scoped lock, so two seeds starting at once do not race on `create ... if not exists`.
  await source.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', ['sluice.demo.shop-schema']);
    const tables: string[] = await trx('information_schema.tables').where('table_schema', 'public').whereIn('table_name', [...Object.keys(COLUMNS), DEMO_MARKER]).pluck('table_name');
    const foreign = tables.filter((t) => t !== DEMO_MARKER);
    if (foreign.length > 0 && !tables.includes(DEMO_MARKER)) {
      const { rows } = await trx.raw<{ rows: { name: string }[] }>('select current_database() as name');
      throw new Error(
        `the source database '${rows[0]?.name ?? '?'}' already has tables ${foreign.join(', ')} that the demo did not create; demo data is only written to an empty database or one it seeded before (point SOURCE_DATABASE_URL elsewhere)`,
      );
    }
    await trx.raw(`create table if not exists ${DEMO_MARKER} (created_at timestamptz not null default now())`);
    await trx.raw(`comment on table ${DEMO_MARKER} is 'This database holds Sluice demo data (sluice demo seed).'`);
    await trx.raw(DDL);
  });
}

export const COLUMNS = {
  customers: ['customer_id', 'name', 'email', 'city', 'region', 'segment', 'created_at', 'updated_at'],
  products: ['product_id', 'sku', 'name', 'category', 'price', 'created_at', 'updated_at'],
  orders: ['order_id', 'order_number', 'customer_id', 'channel', 'ordered_at'],
  order_items: ['order_item_id', 'order_id', 'product_id', 'quantity', 'unit_price', 'created_at'],
  events: ['event_id', 'session_id', 'customer_id', 'event_type', 'product_id', 'occurred_at'],
} as const;

export type ShopTable = keyof typeof COLUMNS;

/** `orders (order_id, ...)`, as COPY names its target; `into` names another table of the same columns. */
export function copyInto(table: ShopTable, into: string = table): string {
  return `${into} (${COLUMNS[table].join(', ')})`;
}
