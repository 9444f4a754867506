/**
 * The customers of `shop.customers`: a base that existed before the first seeded day, sign-ups
 * every day, ~1% a day moving city or changing segment (updated in place, as an OLTP does), and
 * a Pareto-like choice of who orders, so a few loyal customers place many of the orders.
 */
import { anyTime, DAY_MS, timeOfDay, type DemoDay } from './calendar';
import { derive, type Random } from './random';

export const REGIONS = ['North', 'South', 'East', 'West', 'Central'] as const;
export type Region = (typeof REGIONS)[number];

export interface CustomerRow {
  customerId: number;
  name: string;
  email: string;
  city: string;
  region: Region;
  segment: string;
  createdAt: number;
  updatedAt: number;
}

export const CITIES: Record<Region, string[]> = {
  North: ['Minneapolis', 'Milwaukee', 'Detroit', 'Fargo', 'Duluth'],
  South: ['Houston', 'Atlanta', 'Miami', 'Nashville', 'New Orleans'],
  East: ['New York', 'Boston', 'Philadelphia', 'Baltimore', 'Pittsburgh'],
  West: ['Seattle', 'Portland', 'San Francisco', 'Los Angeles', 'San Diego'],
  Central: ['Denver', 'Kansas City', 'Omaha', 'St. Louis', 'Oklahoma City'],
};
const ALL_CITIES = REGIONS.flatMap((region) => CITIES[region].map((city) => ({ city, region })));
const SEGMENTS = ['consumer', 'small_business', 'corporate'];
const SEGMENT_WEIGHTS = [80, 15, 5];
const FIRST_NAMES = ['Ava', 'Ben', 'Chloe', 'Daniel', 'Emma', 'Finn', 'Grace', 'Hugo', 'Isla', 'Jack', 'Kai', 'Lena', 'Mia', 'Noah', 'Olivia', 'Paul', 'Quinn', 'Rosa', 'Sam', 'Tara', 'Uma', 'Victor', 'Wendy', 'Yusuf', 'Zoe'];
const LAST_NAMES = ['Adams', 'Brown', 'Chen', 'Diaz', 'Evans', 'Fischer', 'Garcia', 'Hughes', 'Ito', 'Jones', 'Kim', 'Lopez', 'Miller', 'Nguyen', 'Okafor', 'Patel', 'Rossi', 'Smith', 'Taylor', 'Walker', 'Young'];

/** Customers of a day's sign-ups get ids `day.number * ID_DAY_STRIDE + n`; the base gets 1..B. */
const ID_DAY_STRIDE = 10_000_000;
const SIGNUPS_PER_ORDER = 0.06;
const DAILY_CHANGE_RATE = 0.01;
/** u^PARETO over the ranked base: the top 10% of customers place ~45% of the base's orders. */
const PARETO = 3;

/** Customers before the first day: two per daily order (a thousand at least), so most orders come from repeat customers. */
export function baseCustomerCount(ordersPerDay: number): number {
  return Math.max(1000, 2 * ordersPerDay);
}

/** Who the customers are as the seed goes on: sign-ups per seeded day and the changes so far. */
export class CustomerBase {
  /** Sign-up times per seeded day so far (id = day.number * stride + index + 1). */
  private readonly signups: Array<{ day: DemoDay; createdAt: Float64Array }> = [];
  /** The current state of every customer changed so far, by id. */
  private readonly changed = new Map<number, CustomerRow>();
  /** Maps a base rank to an id, spreading the loyal customers over the whole id range. */
  private readonly stride: number;

  constructor(
    private readonly seed: number,
    private readonly firstDay: DemoDay,
    readonly baseCount: number,
  ) {
    let stride = 7_919_111;
    while (gcd(stride, baseCount) !== 1) stride += 2;
    this.stride = stride;
  }

  /** Base customer `id` (1..baseCount), as created some time in the three years before the first day. */
  private baseCustomer(customerId: number): CustomerRow {
    const rng = derive(this.seed, 'customer', customerId);
    const createdAt = this.firstDay.startMs - rng.int(1, 1095) * DAY_MS + rng.int(0, DAY_MS - 1);
    return newCustomer(rng, customerId, createdAt);
  }

  /** The day's sign-ups, in the order they signed up; they join the base from now on. */
  signUp(day: DemoDay, volume: number, ordersPerDay: number): CustomerRow[] {
    const rng = derive(this.seed, day.number, 'signups');
    const count = Math.round(ordersPerDay * volume * SIGNUPS_PER_ORDER);
    const createdAt = Float64Array.from({ length: count }, () => timeOfDay(day, rng)).sort();
    this.signups.push({ day, createdAt });
    return Array.from(createdAt, (at, i) => this.signupCustomer(day, i, at));
  }

  /**
   * ~1% of the customers who existed before `day` move city (and maybe region) or change
   * segment at some moment of it; answers their rows as changed.
   */
  change(day: DemoDay): CustomerRow[] {
    const rng = derive(this.seed, day.number, 'customer-changes');
    const existing = this.countBefore(day);
    const wanted = Math.round(existing * DAILY_CHANGE_RATE);
    const ids = new Set<number>();
    while (ids.size < wanted) ids.add(this.idAtRank(rng.int(0, existing - 1)));
    const rows: CustomerRow[] = [];
    for (const id of ids) {
      const before = this.current(id);
      const row = { ...before, updatedAt: anyTime(day, rng) };
      if (rng.chance(0.65)) {
        const others = ALL_CITIES.filter((c) => c.city !== before.city);
        Object.assign(row, rng.pick(others));
      } else {
        row.segment = rng.pick(SEGMENTS.filter((s) => s !== before.segment));
      }
      this.changed.set(id, row);
      rows.push(row);
    }
    return rows;
  }

  /** Every customer so far in its latest state: the base, then each seeded day's sign-ups. */
  *latest(): Generator<CustomerRow> {
    for (let id = 1; id <= this.baseCount; id++) yield this.current(id);
    for (const { day, createdAt } of this.signups) {
      for (let i = 0; i < createdAt.length; i++) yield this.current(day.number * ID_DAY_STRIDE + i + 1);
    }
  }

  /** Sign-ups so far per seeded day. */
  signupCounts(): Array<{ day: DemoDay; count: number }> {
    return this.signups.map(({ day, createdAt }) => ({ day, count: createdAt.length }));
  }

  /**
   * Who places the orders of `day` (call after `signUp(day)`): mostly the base, loyal customers
   * far more often; recent sign-ups now and then; and about half of today's sign-ups, after
   * they signed up.
   */
  orderPicker(day: DemoDay, orders: number): (rng: Random, at: number) => number {
    const today = this.signups.find((s) => s.day.number === day.number)?.createdAt ?? new Float64Array();
    const earlier = this.countBefore(day) - this.baseCount;
    const pToday = orders > 0 ? Math.min(0.5, (0.5 * today.length) / orders) : 0;
    const pEarlier = Math.min(0.3, (3 * earlier) / (earlier + this.baseCount));
    return (rng, at) => {
      const u = rng.float();
      if (u < pToday) {
        const signedUp = countBelow(today, at);
        if (signedUp > 0) return day.number * ID_DAY_STRIDE + rng.int(1, signedUp);
      } else if (u < pToday + pEarlier) {
        return this.idAtRank(this.baseCount + rng.int(0, earlier - 1));
      }
      return this.loyalBaseCustomer(rng);
    };
  }

  /** A customer of the base or an earlier sign-up, for a browsing session. */
  visitor(day: DemoDay, rng: Random): number {
    const earlier = this.countBefore(day) - this.baseCount;
    return earlier > 0 && rng.chance(0.2) ? this.idAtRank(this.baseCount + rng.int(0, earlier - 1)) : this.loyalBaseCustomer(rng);
  }

  private loyalBaseCustomer(rng: Random): number {
    const rank = Math.floor(this.baseCount * Math.pow(rng.float(), PARETO));
    return ((rank * this.stride) % this.baseCount) + 1;
  }

  private current(customerId: number): CustomerRow {
    const changed = this.changed.get(customerId);
    if (changed) return changed;
    if (customerId <= this.baseCount) return this.baseCustomer(customerId);
    const dayNumber = Math.floor(customerId / ID_DAY_STRIDE);
    const signups = this.signups.find((s) => s.day.number === dayNumber);
    if (!signups) throw new Error(`no such demo customer ${customerId}`);
    const index = (customerId % ID_DAY_STRIDE) - 1;
    return this.signupCustomer(signups.day, index, signups.createdAt[index] as number);
  }

  private signupCustomer(day: DemoDay, index: number, createdAt: number): CustomerRow {
    const customerId = day.number * ID_DAY_STRIDE + index + 1;
    return newCustomer(derive(this.seed, 'customer', customerId), customerId, createdAt);
  }

  /** Customers created before `day`: the base and the sign-ups of earlier seeded days. */
  private countBefore(day: DemoDay): number {
    let count = this.baseCount;
    for (const s of this.signups) if (s.day.number < day.number) count += s.createdAt.length;
    return count;
  }

  /** Rank 0..baseCount-1 is the base; after it come the sign-ups, day by day. */
  private idAtRank(rank: number): number {
    if (rank < this.baseCount) return rank + 1;
    let rest = rank - this.baseCount;
    for (const s of this.signups) {
      if (rest < s.createdAt.length) return s.day.number * ID_DAY_STRIDE + rest + 1;
      rest -= s.createdAt.length;
    }
    throw new Error(`customer rank ${rank} out of range`);
  }
}

/** Ids of a day's sign-ups past the first `count`: what an earlier, bigger seed may have left. */
export function unusedSignupIds(day: DemoDay, count: number): [number, number] {
  return [day.number * ID_DAY_STRIDE + count + 1, (day.number + 1) * ID_DAY_STRIDE - 1];
}

function newCustomer(rng: Random, customerId: number, createdAt: number): CustomerRow {
  const first = rng.pick(FIRST_NAMES);
  const last = rng.pick(LAST_NAMES);
  const { city, region } = rng.pick(ALL_CITIES);
  const segment = SEGMENTS[rng.weighted(SEGMENT_WEIGHTS)] as string;
  const email = `${first}.${last}${customerId % 10_000}@example.com`.toLowerCase();
  return { customerId, name: `${first} ${last}`, email, city, region, segment, createdAt, updatedAt: createdAt };
}

/** How many of the sorted `times` are before `at`. */
function countBelow(times: Float64Array, at: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((times[mid] as number) < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
