/**
 * The demo shop as the seed walks through its days, without any I/O: the catalog, the customers,
 * and for each day its sign-ups, changes, orders and partner files. seed.ts writes what this
 * generates; the unit tests read it directly.
 */
import { dayAt, dayVolume, type DemoDay } from './calendar';
import { baseCustomerCount, CustomerBase, type CustomerRow } from './customers';
import type { SeededDay, SeededProblem } from './manifest';
import { shopDay, type ShopBatch } from './orders';
import { partnerFiles, type PartnerFile } from './partner-files';
import { Catalog, productCount, type ProductRow } from './products';
import { derive, type Random } from './random';

export interface DemoOptions {
  seed: number;
  /** First day, YYYY-MM-DD (UTC). */
  start: string;
  days: number;
  ordersPerDay: number;
  /** Clickstream sessions per order; 0 makes no events. */
  sessionsPerOrder: number;
}

/** Bounds that keep every id inside its day's range (see orders.ts, clickstream.ts, customers.ts). */
export const DEMO_LIMITS = { days: 3660, ordersPerDay: 2_000_000, sessionsPerOrder: 10 } as const;

/** One day as generated. Consume `shop()` once; `summary()` counts what it yielded. */
export interface GeneratedDay {
  day: DemoDay;
  signups: CustomerRow[];
  /** Customers changed during the day, in their new state. */
  customerChanges: CustomerRow[];
  productsChanged: number;
  /** The day's partner files, and the problems in them. */
  partnerFiles(): PartnerFile[];
  /** The day's orders, items and events in batches. */
  shop(): Generator<ShopBatch>;
  /** The day's injected problems: the shop's (once `shop()` is consumed), then the partner files'. */
  problems(): SeededProblem[];
  summary(): SeededDay;
}

export class DemoWorld {
  readonly catalog: Catalog;
  readonly customers: CustomerBase;
  private readonly firstDay: DemoDay;

  constructor(readonly options: DemoOptions) {
    this.firstDay = dayAt(options.start, 0);
    this.catalog = new Catalog(options.seed, this.firstDay, productCount(options.ordersPerDay));
    this.customers = new CustomerBase(options.seed, this.firstDay, baseCustomerCount(options.ordersPerDay));
  }

  /** Every customer as it is now, after all days generated so far: the base, then the sign-ups. */
  customerRows(): Iterable<CustomerRow> {
    return this.customers.latest();
  }

  /** The catalog as it is now, after all days generated so far. */
  products(): readonly ProductRow[] {
    return this.catalog.products;
  }

  /**
   * Day after day. Each day's data depends on the seed, the start and the days before it, never
   * on how many days follow, so `--days 4` repeats the first three days of `--days 3`.
   */
  *days(): Generator<GeneratedDay> {
    const { seed, ordersPerDay, sessionsPerOrder } = this.options;
    for (let index = 0; index < this.options.days; index++) {
      const day = dayAt(this.options.start, index);
      const volumeRng = derive(seed, day.number, 'volume');
      const volume = dayVolume(day, volumeRng);
      const signups = this.customers.signUp(day, volume, ordersPerDay);
      const customerChanges = this.customers.change(day);
      const priceChanges = this.catalog.changePrices(seed, day);
      // Today's prices stay with today's data even once later days move the catalog on.
      const prices = Int32Array.from(this.catalog.products, (p) => p.priceCents);
      const orders = Math.round(ordersPerDay * volume);
      const partnerRows = Math.round((ordersPerDay / 2) * volume * (0.95 + 0.1 * volumeRng.float()));
      const shopProblems: SeededProblem[] = [];
      const partnerProblems: SeededProblem[] = [];
      let files: PartnerFile[] | undefined;
      const counts = { orders: 0, orderItems: 0, events: 0 };
      const customers = this.customers;
      const catalog = this.catalog;

      yield {
        day,
        signups,
        customerChanges,
        productsChanged: priceChanges.size,
        partnerFiles() {
          files ??= partnerFiles({ seed, day, rows: partnerRows, lateUpload: index === 0, catalog, prices }, partnerProblems);
          return files;
        },
        problems() {
          this.partnerFiles();
          return [...shopProblems, ...partnerProblems];
        },
        *shop() {
          const input = {
            seed,
            day,
            orders,
            sessionsPerOrder,
            catalog,
            prices,
            priceChanges,
            customer: customers.orderPicker(day, orders),
            visitor: (rng: Random) => customers.visitor(day, rng),
          };
          for (const batch of shopDay(input, shopProblems)) {
            counts.orders += batch.orders.length;
            counts.orderItems += batch.items.length;
            counts.events += batch.events.length;
            yield batch;
          }
        },
        summary() {
          const dayFiles = this.partnerFiles();
          return {
            day: day.date,
            customersNew: signups.length,
            customersChanged: customerChanges.length,
            productsChanged: priceChanges.size,
            ...counts,
            partnerRows: dayFiles.reduce((sum, f) => sum + f.rows, 0),
            files: dayFiles.map(({ key, format, rows }) => ({ key, format, rows })),
          };
        },
      };
    }
  }
}
