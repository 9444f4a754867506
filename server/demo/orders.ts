/**
 * A day of `shop.orders`, `shop.order_items` and `shop.events`, generated in time order and
 * handed out in batches so a day of a million items never sits in memory at once. The injected
 * problems (double-submitted checkouts, bad quantities, unknown products, orphan items) are
 * recorded as they are made.
 */
import { timeOfDay, type DemoDay } from './calendar';
import { Clickstream, type EventRow } from './clickstream';
import type { SeededProblem } from './manifest';
import {
  DUPLICATE_ORDER,
  DUPLICATE_ORDER_ITEM,
  ORDER_ITEM_PROBLEMS,
  ORPHAN_ITEM,
  problemCount,
  UNKNOWN_PRODUCT_ID_BASE,
} from './problems';
import type { Catalog, PriceChange } from './products';
import { derive, ExactPicker, type Random } from './random';

export interface OrderRow {
  orderId: number;
  orderNumber: string;
  customerId: number;
  channel: 'web' | 'app';
  orderedAt: number;
}

export interface OrderItemRow {
  orderItemId: number;
  orderId: number;
  productId: number;
  quantity: number;
  unitPriceCents: number;
  createdAt: number;
}

export interface ShopBatch {
  orders: OrderRow[];
  items: OrderItemRow[];
  events: EventRow[];
}

/** What a day of orders needs from the rest of the world, as of that day. */
export interface ShopDayInput {
  seed: number;
  day: DemoDay;
  /** Orders placed (duplicates come on top). */
  orders: number;
  sessionsPerOrder: number;
  catalog: Catalog;
  /** Prices at the end of the day by product id - 1, and the changes made during it. */
  prices: Int32Array;
  priceChanges: ReadonlyMap<number, PriceChange>;
  customer: (rng: Random, at: number) => number;
  visitor: (rng: Random) => number;
}

// Ids are the day number times a stride plus a sequence: stable across seeds, never from a sequence.
const ORDER_ID_STRIDE = 10_000_000;
const ITEM_ID_STRIDE = 100_000_000;
/** Orphan items point at order ids from here on, which no order of their day reaches. */
const ORPHAN_ORDER_OFFSET = 9_000_000;
/** Items per order 1..5 (mean ~2.5) and units per item 1..5. */
const ITEM_COUNT_WEIGHTS = [25, 30, 20, 15, 10];
const QUANTITY_WEIGHTS = [70, 20, 7, 2, 1];
const BATCH_ORDERS = 2_000;
const BATCH_SESSIONS = 2_000;

export function* shopDay(input: ShopDayInput, problems: SeededProblem[]): Generator<ShopBatch> {
  const { seed, day, orders: n, catalog } = input;
  const rng = derive(seed, day.number, 'orders');
  const clicks = new Clickstream(seed, day, catalog, input.sessionsPerOrder, n, input.visitor);
  const priceAt = (productId: number, at: number): number => {
    const change = input.priceChanges.get(productId);
    return change && at < change.at ? change.oldCents : (input.prices[productId - 1] as number);
  };
  const problem = (p: Omit<SeededProblem, 'day'>) => problems.push({ day: day.date, ...p });

  const times = Float64Array.from({ length: n }, () => timeOfDay(day, rng)).sort();
  const itemCounts = Uint8Array.from({ length: n }, () => 1 + rng.weighted(ITEM_COUNT_WEIGHTS));
  // Duplicates copy clean orders, so which orders are duplicated is settled before item problems.
  const duplicatePicker = new ExactPicker(rng, n, [problemCount(DUPLICATE_ORDER.rate, n)]);
  const duplicated = Uint8Array.from({ length: n }, () => (duplicatePicker.next() === 0 ? 1 : 0));
  let cleanable = 0;
  for (let i = 0; i < n; i++) if (!duplicated[i]) cleanable += itemCounts[i] as number;
  const itemPicker = new ExactPicker(rng, cleanable, ORDER_ITEM_PROBLEMS.map((p) => problemCount(p.rate, cleanable)));

  let batch: ShopBatch = { orders: [], items: [], events: [] };
  const take = (): ShopBatch => {
    const full = { ...batch, events: clicks.events };
    batch = { orders: [], items: [], events: [] };
    clicks.events = [];
    return full;
  };
  let orderSeq = 0;
  let itemSeq = 0;
  const nextOrderId = () => day.number * ORDER_ID_STRIDE + ++orderSeq;
  const nextItemId = () => day.number * ITEM_ID_STRIDE + ++itemSeq;

  for (let i = 0; i < n; i++) {
    const orderedAt = times[i] as number;
    const order: OrderRow = {
      orderId: nextOrderId(),
      orderNumber: `ORD-${day.compact}-${String(i + 1).padStart(6, '0')}`,
      customerId: input.customer(rng, orderedAt),
      channel: rng.chance(0.55) ? 'web' : 'app',
      orderedAt,
    };
    batch.orders.push(order);
    const items: OrderItemRow[] = [];
    for (const productId of distinctProducts(catalog, rng, itemCounts[i] as number)) {
      const item: OrderItemRow = {
        orderItemId: nextItemId(),
        orderId: order.orderId,
        productId,
        quantity: 1 + rng.weighted(QUANTITY_WEIGHTS),
        unitPriceCents: priceAt(productId, orderedAt),
        createdAt: orderedAt,
      };
      const kind = duplicated[i] ? -1 : itemPicker.next();
      if (kind >= 0) {
        const { kind: name, category } = ORDER_ITEM_PROBLEMS[kind] as (typeof ORDER_ITEM_PROBLEMS)[number];
        if (name === 'bad_quantity') item.quantity = rng.pick([0, -1, -2]);
        else item.productId = UNKNOWN_PRODUCT_ID_BASE + rng.int(0, 99_999);
        const detail = name === 'bad_quantity' ? `quantity ${item.quantity} is not positive` : `product_id ${item.productId} is not in shop.products`;
        problem({ category, kind: name, source: 'shop.order_items', sourceId: String(item.orderItemId), detail });
      }
      items.push(item);
    }
    batch.items.push(...items);
    if (clicks.hasPurchaseSession(i)) clicks.purchase(order.customerId, orderedAt, items.map((it) => it.productId));

    if (duplicated[i]) {
      // A double-submitted checkout: same order number and basket, seconds later, new ids.
      const again: OrderRow = { ...order, orderId: nextOrderId(), orderedAt: Math.min(day.endMs - 1, orderedAt + rng.int(2_000, 30_000)) };
      batch.orders.push(again);
      const seconds = Math.round((again.orderedAt - orderedAt) / 1000);
      problem({
        category: DUPLICATE_ORDER.category,
        kind: DUPLICATE_ORDER.kind,
        source: 'shop.orders',
        sourceId: String(again.orderId),
        detail: `order_number ${order.orderNumber} submitted again ${seconds} s after order ${order.orderId}`,
      });
      for (const item of items) {
        const copy = { ...item, orderItemId: nextItemId(), orderId: again.orderId, createdAt: again.orderedAt };
        batch.items.push(copy);
        problem({
          category: DUPLICATE_ORDER_ITEM.category,
          kind: DUPLICATE_ORDER_ITEM.kind,
          source: 'shop.order_items',
          sourceId: String(copy.orderItemId),
          detail: `copy of order item ${item.orderItemId} in duplicate order ${again.orderId}`,
        });
      }
    }
    if (batch.orders.length >= BATCH_ORDERS) yield take();
  }

  const orphans = problemCount(ORPHAN_ITEM.rate, itemSeq);
  for (let j = 1; j <= orphans; j++) {
    const productId = catalog.pick(rng);
    const createdAt = timeOfDay(day, rng);
    const orderId = day.number * ORDER_ID_STRIDE + ORPHAN_ORDER_OFFSET + j;
    const item = { orderItemId: nextItemId(), orderId, productId, quantity: 1, unitPriceCents: priceAt(productId, createdAt), createdAt };
    batch.items.push(item);
    problem({
      category: ORPHAN_ITEM.category,
      kind: ORPHAN_ITEM.kind,
      source: 'shop.order_items',
      sourceId: String(item.orderItemId),
      detail: `order_id ${orderId} matches no order`,
    });
  }

  while (clicks.browse(BATCH_SESSIONS) > 0) yield take();
  yield take();
}

/** `count` different products for one order (a basket lists each product once). */
function distinctProducts(catalog: Catalog, rng: Random, count: number): number[] {
  const chosen: number[] = [];
  for (let tries = 0; chosen.length < count && tries < count * 10; tries++) {
    const productId = catalog.pick(rng);
    if (!chosen.includes(productId)) chosen.push(productId);
  }
  return chosen;
}

