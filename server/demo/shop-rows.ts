/** The generator's rows as COPY text lines, in the column order of shop-schema.ts. */
import type { EventRow } from './clickstream';
import { COPY_NULL, copyText, copyTime } from './copy';
import type { CustomerRow } from './customers';
import { money } from './money';
import type { OrderItemRow, OrderRow } from './orders';
import type { ProductRow } from './products';

export function customerLine(c: CustomerRow): string {
  return `${c.customerId}\t${copyText(c.name)}\t${copyText(c.email)}\t${copyText(c.city)}\t${c.region}\t${c.segment}\t${copyTime(c.createdAt)}\t${copyTime(c.updatedAt)}\n`;
}

export function productLine(p: ProductRow): string {
  return `${p.productId}\t${p.sku}\t${copyText(p.name)}\t${copyText(p.category)}\t${money(p.priceCents)}\t${copyTime(p.createdAt)}\t${copyTime(p.updatedAt)}\n`;
}

export function orderLine(o: OrderRow): string {
  return `${o.orderId}\t${o.orderNumber}\t${o.customerId}\t${o.channel}\t${copyTime(o.orderedAt)}\n`;
}

/** Items of one order share its time: formatting it once per order saves a third of the work. */
export function orderItemLines(): (i: OrderItemRow) => string {
  let lastMs = Number.NaN;
  let lastText = '';
  return (i) => {
    if (i.createdAt !== lastMs) {
      lastMs = i.createdAt;
      lastText = copyTime(lastMs);
    }
    return `${i.orderItemId}\t${i.orderId}\t${i.productId}\t${i.quantity}\t${money(i.unitPriceCents)}\t${lastText}\n`;
  };
}

export function eventLine(e: EventRow): string {
  const customer = e.customerId === null ? COPY_NULL : String(e.customerId);
  const product = e.productId === null ? COPY_NULL : String(e.productId);
  return `${e.eventId}\t${e.sessionId}\t${customer}\t${e.eventType}\t${product}\t${copyTime(e.occurredAt)}\n`;
}
