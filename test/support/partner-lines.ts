/**
 * The seed's partner files read back the plain way (whole file, `JSON.parse` or one CSV line at a
 * time), and the design's problems a line has: how the seed tests check the manifest against the
 * files, independently of daily_etl's streaming reader.
 */
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { parse as parseSync } from 'csv-parse/sync';
import { REGIONS } from '../../activities/etl/validate';

export interface PartnerLine {
  order_id: unknown;
  order_date: unknown;
  region: unknown;
  product: unknown;
  quantity: unknown;
  revenue: unknown;
}

/** The complete records of a landing file and the line each starts on; a gzip cut short gives what it can. */
export function readLandingFile(key: string, body: Buffer): { records: Array<{ line: number; text: string; record: PartnerLine }>; truncated: boolean } {
  let text = body.toString();
  let truncated = false;
  if (key.endsWith('.gz')) {
    try {
      text = zlib.gunzipSync(body).toString();
    } catch {
      truncated = true;
      text = zlib.gunzipSync(body, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString();
    }
  }
  const lines = text.split('\n').slice(0, -1); // what follows the last newline is no complete line
  if (key.endsWith('.ndjson')) {
    return { truncated, records: lines.map((t, i) => ({ line: i + 1, text: t, record: JSON.parse(t) as PartnerLine })) };
  }
  assert.equal(lines[0], 'order_id,order_date,region,product,quantity,revenue');
  const records = lines.slice(1).map((t, i) => {
    const [[order_id, order_date, region, product, quantity, revenue] = []] = parseSync(t) as string[][];
    return { line: i + 2, text: t, record: { order_id, order_date, region, product, quantity, revenue } };
  });
  return { truncated, records };
}

/**
 * The design's problems a line has (duplicates are the caller's). Clean numbers are plain in CSV
 * (revenue with two decimals) and JSON numbers in NDJSON; malformed ones are strings.
 */
export function partnerProblems(r: PartnerLine, skus: Set<string>, day: string, json: boolean): string[] {
  const found: string[] = [];
  const isNumber = (v: unknown, pattern: RegExp) => (json ? typeof v === 'number' : typeof v === 'string' && pattern.test(v));
  const numbersOk = isNumber(r.quantity, /^-?\d+$/) && isNumber(r.revenue, /^-?\d+\.\d{2}$/);
  if (r.order_date === '') found.push('missing_date');
  else if (r.order_date !== day) found.push('malformed_date');
  if (!numbersOk) found.push('malformed_number');
  if (numbersOk && Number(r.revenue) < 0) found.push('negative_revenue');
  if (numbersOk && Number(r.quantity) <= 0) found.push('bad_quantity');
  if (!(REGIONS as readonly unknown[]).includes(r.region)) found.push('unknown_region');
  if (!skus.has(r.product as string)) found.push('unknown_product');
  return found;
}
