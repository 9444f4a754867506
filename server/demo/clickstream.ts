/**
 * `shop.events`: the clickstream around the orders. Each order gets a session ending in its
 * purchase; further sessions only browse (some add to cart, fewer reach checkout), about 30% of
 * all sessions anonymous.
 */
import { timeOfDay, type DemoDay } from './calendar';
import type { Catalog } from './products';
import { derive, type Random } from './random';

export type EventType = 'page_view' | 'add_to_cart' | 'checkout' | 'purchase';

export interface EventRow {
  eventId: number;
  sessionId: string;
  customerId: number | null;
  eventType: EventType;
  productId: number | null;
  occurredAt: number;
}

/** Event ids of a day are `day.number * EVENT_ID_STRIDE + n`. */
const EVENT_ID_STRIDE = 1_000_000_000;
const ANONYMOUS_SHARE = 0.3;
/** Seconds between two clicks of a session. */
const MIN_GAP_MS = 5_000;
const MAX_GAP_MS = 90_000;

interface Step {
  type: EventType;
  productId: number | null;
}

export class Clickstream {
  /** Events generated since the caller last took them. */
  events: EventRow[] = [];
  readonly purchaseSessions: number;
  readonly browseSessions: number;
  private readonly rng: Random;
  private readonly anonymousBrowseShare: number;
  private eventSeq = 0;
  private sessionSeq = 0;
  private browsed = 0;

  constructor(
    seed: number,
    private readonly day: DemoDay,
    private readonly catalog: Catalog,
    sessionsPerOrder: number,
    private readonly orders: number,
    private readonly visitor: (rng: Random) => number,
  ) {
    this.rng = derive(seed, day.number, 'events');
    const sessions = Math.round(sessionsPerOrder * orders);
    this.purchaseSessions = Math.min(orders, sessions);
    this.browseSessions = sessions - this.purchaseSessions;
    // Purchase sessions are never anonymous, so browsing ones make up the share.
    this.anonymousBrowseShare = this.browseSessions > 0 ? Math.min(1, (ANONYMOUS_SHARE * sessions) / this.browseSessions) : 0;
  }

  /** Whether order `index` (0-based) of the day came with a session; all do at 1+ sessions per order. */
  hasPurchaseSession(index: number): boolean {
    const ratio = this.orders > 0 ? this.purchaseSessions / this.orders : 0;
    return Math.floor((index + 1) * ratio) > Math.floor(index * ratio);
  }

  /** The session that ended in an order: a look around, each bought product viewed and carted, checkout, purchase. */
  purchase(customerId: number, orderedAt: number, productIds: readonly number[]): void {
    const steps: Step[] = this.lookAround();
    for (const productId of productIds) steps.push({ type: 'page_view', productId }, { type: 'add_to_cart', productId });
    steps.push({ type: 'checkout', productId: null }, { type: 'purchase', productId: null });
    // Backwards from the purchase, but never before the day began: a day's events stay in the day.
    const times = new Array<number>(steps.length);
    let at = orderedAt;
    for (let i = steps.length - 1; i >= 0; i--) {
      times[i] = Math.max(this.day.startMs, at);
      at -= this.gap();
    }
    this.emit(customerId, steps, times);
  }

  /** Up to `count` more browsing sessions; answers how many it made (0 once all are made). */
  browse(count: number): number {
    const made = Math.min(count, this.browseSessions - this.browsed);
    for (let session = 0; session < made; session++) {
      const customerId = this.rng.chance(this.anonymousBrowseShare) ? null : this.visitor(this.rng);
      const steps = this.lookAround();
      const viewed = steps.filter((step) => step.productId !== null);
      if (viewed.length > 0 && this.rng.chance(0.3)) {
        steps.push({ type: 'add_to_cart', productId: this.rng.pick(viewed).productId });
        if (this.rng.chance(0.25)) steps.push({ type: 'checkout', productId: null });
      }
      const times = new Array<number>(steps.length);
      let at = timeOfDay(this.day, this.rng);
      for (let i = 0; i < steps.length; i++) {
        times[i] = Math.min(this.day.endMs - 1, at);
        at += this.gap();
      }
      this.emit(customerId, steps, times);
    }
    this.browsed += made;
    return made;
  }

  /** Page views: product pages mostly, some home or category pages (no product). */
  private lookAround(): Step[] {
    const views = 1 + Math.min(14, this.rng.geometric(0.35));
    return Array.from({ length: views }, () => ({
      type: 'page_view' as const,
      productId: this.rng.chance(0.75) ? this.catalog.pick(this.rng) : null,
    }));
  }

  private gap(): number {
    return this.rng.int(MIN_GAP_MS, MAX_GAP_MS);
  }

  private emit(customerId: number | null, steps: Step[], times: number[]): void {
    const sessionId = `S${this.day.compact}-${String(++this.sessionSeq).padStart(7, '0')}`;
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i] as Step;
      this.events.push({
        eventId: this.day.number * EVENT_ID_STRIDE + ++this.eventSeq,
        sessionId,
        customerId,
        eventType: step.type,
        productId: step.productId,
        occurredAt: times[i] as number,
      });
    }
  }
}
