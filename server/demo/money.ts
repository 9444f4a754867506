/** Money is whole cents everywhere in the generator, so sums never pick up float noise. */

/** Cents as a decimal with two places, e.g. -1250 -> "-12.50". */
export function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}
