/**
 * Seeded randomness for the demo data. Every stream is derived from the seed and a path such as
 * (day, 'orders'), so one kind of data never shifts another: adding events leaves the orders
 * alone, and a day's data does not depend on how many days are seeded. No Math.random anywhere.
 */

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): fast, 128-bit state, good statistics. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(a: number, b: number, c: number, d: number) {
    this.a = a | 0;
    this.b = b | 0;
    this.c = c | 0;
    this.d = d | 0;
    // The first outputs of a fresh state are correlated with the seed words; discard them.
    for (let i = 0; i < 12; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform whole number in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }

  /** An index drawn with the given (not necessarily normalised) weights. */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let u = this.float() * total;
    for (let i = 0; i < weights.length; i++) {
      u -= weights[i] as number;
      if (u < 0) return i;
    }
    return weights.length - 1;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** Number of failures before the first success with probability p: 0, 1, 2, ... */
  geometric(p: number): number {
    return Math.floor(Math.log(1 - this.float()) / Math.log(1 - p));
  }

  /** Fisher-Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.float() * (i + 1));
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }
}

/** A stream of its own for (seed, ...path), e.g. `derive(42, dayNumber, 'orders')`. */
export function derive(seed: number, ...path: Array<string | number>): Random {
  const [a, b, c, d] = cyrb128(`${seed}/${path.join('/')}`);
  return new Random(a, b, c, d);
}

/** cyrb128 (bryc): a 128-bit string hash, used only to spread a seed path over sfc32's state. */
function cyrb128(text: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/**
 * Picks exactly `counts[k]` of `total` positions for each kind k, visiting positions in order
 * (selection sampling, Knuth's algorithm S): `next()` is called once per position and answers
 * the kind chosen for it, or -1. Streams, so a day of a million items needs no index array.
 */
export class ExactPicker {
  private remaining: number;
  private left: number[];
  private leftTotal: number;

  constructor(
    private readonly rng: Random,
    total: number,
    counts: readonly number[],
  ) {
    this.remaining = total;
    this.left = [...counts];
    this.leftTotal = counts.reduce((s, c) => s + c, 0);
    if (this.leftTotal > total) throw new Error(`cannot pick ${this.leftTotal} of ${total} positions`);
  }

  next(): number {
    if (this.remaining <= 0) throw new Error('ExactPicker: more positions than announced');
    const chosen = this.leftTotal > 0 && this.rng.float() * this.remaining < this.leftTotal;
    this.remaining--;
    if (!chosen) return -1;
    let u = Math.floor(this.rng.float() * this.leftTotal);
    for (let k = 0; k < this.left.length; k++) {
      const left = this.left[k] as number;
      if (u < left) {
        this.left[k] = left - 1;
        this.leftTotal--;
        return k;
      }
      u -= left;
    }
    throw new Error('ExactPicker: unreachable');
  }
}
