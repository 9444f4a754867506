/**
 * The product catalog of `shop.products`: a long tail over a dozen categories, sold with Zipf-like
 * popularity, and a few price changes a day.
 */
import { anyTime, DAY_MS, type DemoDay } from './calendar';
import { derive, type Random } from './random';

export interface ProductRow {
  productId: number;
  sku: string;
  name: string;
  category: string;
  priceCents: number;
  createdAt: number;
  updatedAt: number;
}

/** A price that changed during one day: orders before `at` still pay the old one. */
export interface PriceChange {
  at: number;
  oldCents: number;
  newCents: number;
}

/** Kept below UNKNOWN_SKU_BASE, so an unknown SKU can never be a real one. */
const MAX_PRODUCTS = 50_000;
const MIN_PRODUCTS = 300;
/** Zipf exponent: the best seller sells ~10% of the items of a 500-product shop. */
const ZIPF_S = 0.95;
/** Share of the catalog whose price changes on a given day. */
const PRICE_CHANGE_RATE = 0.01;

/** A few hundred products for a small shop, more for a big one. */
export function productCount(ordersPerDay: number): number {
  return Math.min(MAX_PRODUCTS, Math.max(MIN_PRODUCTS, Math.round(ordersPerDay * 1.6)));
}

export function sku(productId: number): string {
  return `SKU-${String(productId).padStart(5, '0')}`;
}

interface Category {
  name: string;
  /** Share of the catalog. */
  weight: number;
  /** Typical price, in cents. */
  medianCents: number;
  nouns: string[];
}

const CATEGORIES: Category[] = [
  { name: 'Electronics', weight: 12, medianCents: 12_000, nouns: ['Headphones', 'Speaker', 'Charger', 'Webcam', 'Keyboard', 'Monitor', 'Router', 'Smartwatch'] },
  { name: 'Home & Kitchen', weight: 14, medianCents: 4_500, nouns: ['Blender', 'Kettle', 'Pan', 'Knife Set', 'Toaster', 'Cutting Board', 'Coffee Maker'] },
  { name: 'Books', weight: 11, medianCents: 1_800, nouns: ['Cookbook', 'Novel', 'Travel Guide', 'Biography', 'Atlas', 'Workbook'] },
  { name: 'Clothing', weight: 13, medianCents: 3_500, nouns: ['T-Shirt', 'Jacket', 'Sneakers', 'Hoodie', 'Jeans', 'Scarf', 'Cap'] },
  { name: 'Sports & Outdoors', weight: 8, medianCents: 5_000, nouns: ['Yoga Mat', 'Tent', 'Water Bottle', 'Dumbbells', 'Backpack', 'Bike Light'] },
  { name: 'Beauty', weight: 7, medianCents: 2_200, nouns: ['Face Cream', 'Shampoo', 'Lip Balm', 'Perfume', 'Hair Dryer'] },
  { name: 'Toys & Games', weight: 7, medianCents: 2_800, nouns: ['Puzzle', 'Board Game', 'Building Set', 'Plush Bear', 'Card Game'] },
  { name: 'Grocery', weight: 9, medianCents: 900, nouns: ['Coffee Beans', 'Olive Oil', 'Green Tea', 'Granola', 'Dark Chocolate', 'Pasta'] },
  { name: 'Garden', weight: 5, medianCents: 3_800, nouns: ['Hose', 'Planter', 'Pruning Shears', 'Seed Kit', 'Garden Chair'] },
  { name: 'Office Supplies', weight: 6, medianCents: 1_500, nouns: ['Notebook', 'Desk Lamp', 'Pen Set', 'Stapler', 'Organizer'] },
  { name: 'Pet Supplies', weight: 5, medianCents: 2_500, nouns: ['Dog Bed', 'Cat Tree', 'Leash', 'Pet Food', 'Chew Toy'] },
  { name: 'Automotive', weight: 3, medianCents: 4_200, nouns: ['Car Vacuum', 'Phone Mount', 'Floor Mats', 'Jump Starter', 'Wiper Blades'] },
];
const CATEGORY_WEIGHTS = CATEGORIES.map((c) => c.weight);
const ADJECTIVES = ['Classic', 'Compact', 'Deluxe', 'Eco', 'Essential', 'Premium', 'Pro', 'Smart', 'Travel', 'Ultra', 'Vintage', 'Wireless'];

/** The catalog as of now in the seed: prices move as days go by. */
export class Catalog {
  readonly products: ProductRow[];
  /** Product id by popularity rank, and the cumulative Zipf share of each rank. */
  private readonly byRank: Int32Array;
  private readonly rankCdf: Float64Array;

  constructor(seed: number, firstDay: DemoDay, count: number) {
    this.products = Array.from({ length: count }, (_, i) => newProduct(seed, firstDay, i + 1));
    const ranks = derive(seed, 'product-popularity').shuffle(Array.from({ length: count }, (_, i) => i + 1));
    this.byRank = Int32Array.from(ranks);
    this.rankCdf = new Float64Array(count);
    let sum = 0;
    for (let r = 0; r < count; r++) this.rankCdf[r] = sum += 1 / Math.pow(r + 1, ZIPF_S);
    for (let r = 0; r < count; r++) this.rankCdf[r] = (this.rankCdf[r] as number) / sum;
  }

  get size(): number {
    return this.products.length;
  }

  /** A product id, popular ones far more often. */
  pick(rng: Random): number {
    const u = rng.float();
    let lo = 0;
    let hi = this.rankCdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.rankCdf[mid] as number) <= u) lo = mid + 1;
      else hi = mid;
    }
    return this.byRank[lo] as number;
  }

  priceCents(productId: number): number {
    return (this.products[productId - 1] as ProductRow).priceCents;
  }

  /** Prices of ~1% of the catalog change at some moment of `day`; the catalog moves to them. */
  changePrices(seed: number, day: DemoDay): Map<number, PriceChange> {
    const rng = derive(seed, day.number, 'price-changes');
    const changes = new Map<number, PriceChange>();
    const wanted = Math.round(this.products.length * PRICE_CHANGE_RATE);
    while (changes.size < wanted) {
      const product = this.products[rng.int(0, this.products.length - 1)] as ProductRow;
      if (changes.has(product.productId)) continue;
      const factor = rng.chance(0.6) ? 1.05 + 0.15 * rng.float() : 0.8 + 0.15 * rng.float();
      const newCents = Math.max(99, Math.round(product.priceCents * factor));
      if (newCents === product.priceCents) continue;
      const at = anyTime(day, rng);
      changes.set(product.productId, { at, oldCents: product.priceCents, newCents });
      product.priceCents = newCents;
      product.updatedAt = at;
    }
    return changes;
  }
}

/** Product `id` as first listed: derived from (seed, id) alone, created before the first day. */
function newProduct(seed: number, firstDay: DemoDay, productId: number): ProductRow {
  const rng = derive(seed, 'product', productId);
  const category = CATEGORIES[rng.weighted(CATEGORY_WEIGHTS)] as Category;
  const name = `${rng.pick(ADJECTIVES)} ${rng.pick(category.nouns)} ${String.fromCharCode(65 + rng.int(0, 25))}${rng.int(10, 99)}`;
  const raw = category.medianCents * Math.exp(0.55 * rng.normal());
  // Most shop prices end in .99.
  const priceCents = rng.chance(0.7) ? Math.max(99, Math.round(raw / 100) * 100 - 1) : Math.max(99, Math.round(raw));
  const createdAt = firstDay.startMs - rng.int(30, 1500) * DAY_MS + rng.int(0, DAY_MS - 1);
  return { productId, sku: sku(productId), name, category: category.name, priceCents, createdAt, updatedAt: createdAt };
}
