/**
 * The files partners drop into `landing/partner_sales/dt=YYYY-MM-DD/`: two stores (plain and
 * gzipped CSV) and a marketplace (NDJSON), about half as many rows as the shop's orders, with
 * the design's problems in them. Once per seed, on its first day, a late upload arrives
 * truncated: a gzip stream that ends mid-file.
 */
import zlib from 'node:zlib';
import type { DemoDay } from './calendar';
import { REGIONS } from './customers';
import type { PartnerFileFormat, SeededProblem } from './manifest';
import { money } from './money';
import { PARTNER_DUPLICATE, PARTNER_ROW_PROBLEMS, problemCount, TRUNCATED_FILE, UNKNOWN_SKU_BASE } from './problems';
import { sku, type Catalog } from './products';
import { derive, type Random } from './random';

export interface PartnerFile {
  key: string;
  format: PartnerFileFormat;
  contentType: string;
  body: Buffer;
  /** Complete records a reader recovers. */
  rows: number;
}

export interface PartnerDayInput {
  seed: number;
  day: DemoDay;
  /** Rows over the three regular files (duplicated lines come on top). */
  rows: number;
  /** Add the truncated late upload (the first seeded day does). */
  lateUpload: boolean;
  catalog: Catalog;
  /** End-of-day prices by product id - 1. */
  prices: Int32Array;
}

export const PARTNER_COLUMNS = ['order_id', 'order_date', 'region', 'product', 'quantity', 'revenue'] as const;

interface FileSpec {
  name: string;
  format: PartnerFileFormat;
  regions: readonly string[];
}

const REGULAR_FILES: FileSpec[] = [
  { name: 'store_north_south.csv', format: 'csv', regions: ['North', 'South'] },
  { name: 'store_east_west.csv.gz', format: 'csv.gz', regions: ['East', 'West'] },
  { name: 'marketplace.ndjson', format: 'ndjson', regions: REGIONS },
];
const FILE_WEIGHTS = [40, 35, 25];
const LATE_UPLOAD: FileSpec = { name: 'late_upload.csv.gz', format: 'csv.gz', regions: REGIONS };
/** Fixed, so the same rows always give the same gzip bytes (and ETags). */
const GZIP_LEVEL = 6;
const CONTENT_TYPES: Record<PartnerFileFormat, string> = { csv: 'text/csv', 'csv.gz': 'application/gzip', ndjson: 'application/x-ndjson' };
const UNKNOWN_REGIONS = ['Northeast', 'Southwest', 'Midwest', 'Pacific'];
const QUANTITY_WEIGHTS = [60, 25, 10, 5];

/** One partner record; a number is a clean value (revenue in cents), a string is what a problem put there. */
interface PartnerRecord {
  file: FileSpec;
  orderId: string;
  orderDate: string;
  region: string;
  product: string;
  quantity: number | string;
  revenue: number | string;
  problem?: { kind: string; category: SeededProblem['category']; detail: string };
  /** For a duplicated line: the record it copies. */
  copyOf?: PartnerRecord;
}

export function partnerPrefix(day: DemoDay): string {
  return `landing/partner_sales/dt=${day.date}/`;
}

export function partnerFiles(input: PartnerDayInput, problems: SeededProblem[]): PartnerFile[] {
  const { day } = input;
  const rng = derive(input.seed, day.number, 'partner');
  const lateRows = input.lateUpload ? Math.max(40, Math.round(input.rows * 0.15)) : 0;
  const records: PartnerRecord[] = [];
  for (let i = 0; i < input.rows + lateRows; i++) {
    const file = i < input.rows ? (REGULAR_FILES[rng.weighted(FILE_WEIGHTS)] as FileSpec) : LATE_UPLOAD;
    records.push(cleanRecord(input, rng, file, i + 1));
  }
  injectProblems(records, rng, day);

  const files = input.lateUpload ? [...REGULAR_FILES, LATE_UPLOAD] : REGULAR_FILES;
  return files.map((spec) => {
    const lines = withDuplicates(records.filter((r) => r.file === spec), rng);
    return encodeFile(spec, lines, day, rng, problems);
  });
}

function cleanRecord(input: PartnerDayInput, rng: Random, file: FileSpec, seq: number): PartnerRecord {
  const productId = input.catalog.pick(rng);
  const quantity = 1 + rng.weighted(QUANTITY_WEIGHTS);
  // Partners sell at up to 10% off the shop's price.
  const unitCents = Math.round((input.prices[productId - 1] as number) * (0.9 + 0.1 * rng.float()));
  return {
    file,
    orderId: `P-${input.day.compact}-${String(seq).padStart(6, '0')}`,
    orderDate: input.day.date,
    region: rng.pick(file.regions),
    product: sku(productId),
    quantity,
    revenue: quantity * unitCents,
  };
}

/** Exactly the design's share of records gets each problem; a record gets one at most. */
function injectProblems(records: PartnerRecord[], rng: Random, day: DemoDay): void {
  const order = rng.shuffle(records.map((_, i) => i));
  let next = 0;
  for (const { kind, category, rate } of PARTNER_ROW_PROBLEMS) {
    const count = problemCount(rate, records.length);
    for (let k = 0; k < count && next < order.length; k++) {
      const record = records[order[next++] as number] as PartnerRecord;
      record.problem = { kind, category, detail: corrupt(record, kind, rng, day) };
    }
  }
}

/** Puts problem `kind` into the record; answers what is wrong, as the manifest says it. */
function corrupt(record: PartnerRecord, kind: string, rng: Random, day: DemoDay): string {
  switch (kind) {
    case 'missing_date':
      record.orderDate = '';
      return 'order_date is empty';
    case 'negative_revenue':
      record.revenue = -(record.revenue as number);
      return `revenue ${money(record.revenue)} is negative`;
    case 'bad_quantity': {
      const unit = Math.round((record.revenue as number) / (record.quantity as number));
      record.quantity = rng.pick([0, -1, -2]);
      record.revenue = unit;
      return `quantity ${record.quantity} is not positive`;
    }
    case 'unknown_region':
      record.region = rng.pick(UNKNOWN_REGIONS);
      return `region '${record.region}' is not one of ${REGIONS.join(', ')}`;
    case 'unknown_product':
      record.product = `SKU-${UNKNOWN_SKU_BASE + rng.int(0, 9_999)}`;
      return `product ${record.product} is not in shop.products`;
    case 'malformed_date': {
      const [y, m, d] = [day.date.slice(0, 4), day.date.slice(5, 7), day.date.slice(8, 10)];
      record.orderDate = rng.chance(0.5) ? `${y}-${rng.int(13, 19)}-${rng.int(32, 45)}` : `${m}/${d}/${y}`;
      return `order_date '${record.orderDate}' is not a YYYY-MM-DD date`;
    }
    case 'malformed_number': {
      const variant = rng.int(0, 2);
      if (variant === 0) record.revenue = money(record.revenue as number).replace('.', ',');
      else if (variant === 1) record.revenue = 'abc';
      else record.quantity = rng.pick(['two', 'abc', '3x']);
      const [field, value] = variant < 2 ? ['revenue', record.revenue] : ['quantity', record.quantity];
      return `${field} '${String(value)}' is not a number`;
    }
    default:
      throw new Error(`unknown partner problem ${kind}`);
  }
}

/**
 * The file's records in order, plus exact copies of ~2% of its clean lines, each somewhere after
 * the line it copies.
 */
function withDuplicates(records: PartnerRecord[], rng: Random): PartnerRecord[] {
  const clean = records.map((r, i) => [r, i] as const).filter(([r]) => !r.problem);
  const count = Math.min(clean.length, records.length > 0 ? problemCount(PARTNER_DUPLICATE.rate, records.length) : 0);
  const keyed = records.map((record, i) => ({ record, key: i }));
  for (const [original, position] of rng.shuffle(clean).slice(0, count)) {
    const key = position + 0.5 + rng.float() * (records.length - position - 0.5);
    keyed.push({ record: { ...original, copyOf: original }, key });
  }
  return keyed.sort((a, b) => a.key - b.key).map((k) => k.record);
}

function encodeFile(spec: FileSpec, records: PartnerRecord[], day: DemoDay, rng: Random, problems: SeededProblem[]): PartnerFile {
  const key = `${partnerPrefix(day)}${spec.name}`;
  const csv = spec.format !== 'ndjson';
  const firstLine = csv ? 2 : 1;
  const lines = records.map(csv ? csvLine : ndjsonLine);
  const text = (csv ? [PARTNER_COLUMNS.join(','), ...lines] : lines).map((l) => `${l}\n`).join('');
  let body: Buffer = spec.format === 'csv.gz' ? zlib.gzipSync(text, { level: GZIP_LEVEL }) : Buffer.from(text);
  let rows = records.length;
  if (spec === LATE_UPLOAD) {
    ({ body, rows } = truncate(body, records.length, rng));
  }

  const lineOf = new Map<PartnerRecord, number>();
  records.forEach((record, i) => lineOf.set(record, firstLine + i));
  for (let i = 0; i < rows; i++) {
    const record = records[i] as PartnerRecord;
    const line = firstLine + i;
    const at = (category: SeededProblem['category'], kind: string, detail: string): SeededProblem =>
      ({ day: day.date, category, kind, source: 'partner_sales', file: key, line, detail });
    if (record.problem) problems.push(at(record.problem.category, record.problem.kind, record.problem.detail));
    if (record.copyOf) {
      const detail = `exact copy of line ${String(lineOf.get(record.copyOf))} (order_id ${record.orderId})`;
      problems.push(at(PARTNER_DUPLICATE.category, PARTNER_DUPLICATE.kind, detail));
    }
  }
  if (rows < records.length) {
    problems.push({
      day: day.date,
      category: TRUNCATED_FILE.category,
      kind: TRUNCATED_FILE.kind,
      source: 'partner_sales',
      file: key,
      line: rows + 2,
      detail: `gzip stream ends early: ${rows} of ${records.length} records readable, the rest is lost`,
    });
  }
  return { key, format: spec.format, contentType: CONTENT_TYPES[spec.format], body, rows };
}

/**
 * Cuts the gzip stream somewhere in its middle, and counts the complete records a streaming
 * gunzip + CSV reader gets before the error: the complete lines after the header.
 */
function truncate(gzipped: Buffer, records: number, rng: Random): { body: Buffer; rows: number } {
  let fraction = 0.4 + 0.3 * rng.float();
  for (;;) {
    const body = gzipped.subarray(0, Math.floor(gzipped.length * fraction));
    const text = zlib.gunzipSync(body, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('utf8');
    const completeLines = text.split('\n').length - 1;
    const rows = completeLines - 1;
    // A cut must keep the header and lose at least one record; a tiny file may need a few tries.
    if (rows >= 0 && rows < records) return { body: Buffer.from(body), rows };
    fraction = rows < 0 ? fraction + (1 - fraction) / 2 : fraction * 0.8;
  }
}

function csvLine(r: PartnerRecord): string {
  return [r.orderId, r.orderDate, r.region, r.product, csvNumber(r.quantity, false), csvNumber(r.revenue, true)].map(csvField).join(',');
}

function ndjsonLine(r: PartnerRecord): string {
  const number = (v: number | string, cents: boolean) => (typeof v === 'string' ? v : cents ? v / 100 : v);
  return JSON.stringify({
    order_id: r.orderId,
    order_date: r.orderDate,
    region: r.region,
    product: r.product,
    quantity: number(r.quantity, false),
    revenue: number(r.revenue, true),
  });
}

function csvNumber(value: number | string, cents: boolean): string {
  return typeof value === 'string' ? value : cents ? money(value) : String(value);
}

/** RFC 4180: quote a field holding a comma or quote (`12,50` becomes `"12,50"`). */
function csvField(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

