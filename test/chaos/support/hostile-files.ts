/**
 * Hostile partner files written together with their answer key: every record a file holds is
 * added with the outcome the design (README, "Validate") gives it, `loaded` or a quarantine
 * category, and the line it starts on is counted here as the bytes are written. The key is the
 * oracle the chaos test compares the warehouse with, record by record; it never runs Sluice's
 * reader.
 */
import zlib from 'node:zlib';
import type { ExceptionCategory } from '../../../activities/lib/exception-categories';

export type Outcome = 'loaded' | ExceptionCategory;

export interface ExpectedRecord {
  file: string;
  line: number;
  outcome: Outcome;
  /** What the record tries, for a readable failure message. */
  case: string;
}

export const PARTNER_HEADER = 'order_id,order_date,region,product,quantity,revenue';

/** One landing file being written: physical lines in, expected records out. */
export class HostileFile {
  readonly records: ExpectedRecord[] = [];
  private readonly parts: Buffer[] = [];
  private nextLine = 1;

  constructor(readonly name: string, private readonly eol = '\n') {}

  /** A line that is no record (the header, a blank line). */
  skip(text: string): this {
    return this.write(Buffer.from(text));
  }

  /** A record (possibly several physical lines) and what must become of it. */
  record(text: string | Buffer, outcome: Outcome, why: string): this {
    this.records.push({ file: this.name, line: this.nextLine, outcome, case: why });
    return this.write(Buffer.isBuffer(text) ? text : Buffer.from(text));
  }

  /** The bytes as stored; `.gz` names are gzipped. */
  body(): Buffer {
    const plain = Buffer.concat(this.parts);
    return this.name.endsWith('.gz') ? zlib.gzipSync(plain) : plain;
  }

  private write(bytes: Buffer): this {
    this.parts.push(bytes, Buffer.from(this.eol));
    this.nextLine += 1 + newlines(bytes);
    return this;
  }
}

/** Line ends inside `bytes`, counted as a reader numbers lines: LF, CRLF and a lone CR. */
function newlines(bytes: Buffer): number {
  let count = 0;
  for (let i = 0; i < bytes.length; i += 1) {
    if (bytes[i] === 0x0a || (bytes[i] === 0x0d && bytes[i + 1] !== 0x0a)) count += 1;
  }
  return count;
}

/**
 * The catalogue for `day`: files named so their order (the order Sluice reads them in, which
 * decides which duplicate is the original) is the alphabetical one. `sku` is a known product.
 * The kinds pipelines.test.ts already covers (BOM with CRLF, reordered and wrong headers, extra
 * fields, an empty and a header-only CSV, a truncated and a fake gzip, overflowing numbers, a
 * non-data file) are left to it, except where a variant adds something.
 */
export function hostileFiles(day: string, sku: string): HostileFile[] {
  const ok = (id: string, fields: Partial<Record<'date' | 'region' | 'product' | 'quantity' | 'revenue', string>> = {}) =>
    [id, fields.date ?? day, fields.region ?? 'North', fields.product ?? sku, fields.quantity ?? '2', fields.revenue ?? '10.00'].join(',');
  const nearby = (offset: number) => new Date(Date.parse(`${day}T00:00:00Z`) + offset * 86_400_000).toISOString().slice(0, 10);

  const quotes = new HostileFile('a_quotes.csv')
    .skip(PARTNER_HEADER)
    .record(`"Q-1","${day}","North","${sku}","2","10.00"`, 'loaded', 'every field quoted')
    .record(`"Q-2 first\nsecond",${day},North,${sku},2,10.00`, 'loaded', 'quoted newline inside the order id')
    .record(ok('Q-3', { region: 'No"rth' }), 'BUSINESS_RULE_VIOLATION', 'stray quote inside a field')
    .record(`Q-4,${day},"North ""x""",${sku},2,10.00`, 'BUSINESS_RULE_VIOLATION', 'escaped quotes inside a quoted field')
    .record(` Q-5 , ${day} , North , ${sku} , 2 , 10.00 `, 'loaded', 'spaces around every field')
    .record(`Q-6,${day},"North",${sku},"2","1,000.00"`, 'DATA_FORMAT_ERROR', 'thousands separator in a quoted amount');

  const dates = new HostileFile('b_dates.csv')
    .skip(PARTNER_HEADER)
    .record(ok('D-1', { date: '2026-02-30' }), 'DATA_FORMAT_ERROR', 'February 30th')
    .record(ok('D-2', { date: day.split('-').reverse().join('/') }), 'DATA_FORMAT_ERROR', 'DD/MM/YYYY')
    .record(ok('D-3', { date: day.replace(/-0/g, '-') }), 'DATA_FORMAT_ERROR', 'no zero padding')
    .record(ok('D-4', { date: `${day}T10:00:00Z` }), 'DATA_FORMAT_ERROR', 'a timestamp, not a date')
    .record(ok('D-5', { date: '0000-01-01' }), 'DATA_FORMAT_ERROR', 'year zero')
    .record(ok('D-6', { date: nearby(-365) }), 'BUSINESS_RULE_VIOLATION', 'a year before the file day')
    .record(ok('D-7', { date: nearby(-7) }), 'loaded', 'seven days late: the edge of the window')
    .record(ok('D-8', { date: nearby(8) }), 'BUSINESS_RULE_VIOLATION', 'eight days ahead')
    .record(ok('D-9', { date: '' }), 'MISSING_REQUIRED_FIELD', 'empty date');

  const numbers = new HostileFile('c_numbers.csv')
    .skip(PARTNER_HEADER)
    .record(ok('N-1', { quantity: 'two' }), 'DATA_FORMAT_ERROR', 'quantity in words')
    .record(ok('N-2', { quantity: '2.5' }), 'DATA_FORMAT_ERROR', 'fractional quantity')
    .record(ok('N-3', { revenue: '1e3' }), 'DATA_FORMAT_ERROR', 'exponent notation')
    .record(ok('N-4', { revenue: '10.005' }), 'DATA_FORMAT_ERROR', 'three decimals')
    .record(ok('N-5', { revenue: 'NaN' }), 'DATA_FORMAT_ERROR', 'NaN')
    .record(ok('N-6', { revenue: 'Infinity' }), 'DATA_FORMAT_ERROR', 'Infinity')
    .record(ok('N-7', { quantity: '\u0663' }), 'DATA_FORMAT_ERROR', 'an Arabic-Indic digit')
    .record(ok('N-8', { quantity: '\uFF12' }), 'DATA_FORMAT_ERROR', 'a full-width digit')
    .record(ok('N-9', { quantity: '1234567890' }), 'DATA_FORMAT_ERROR', 'quantity beyond 9 digits')
    .record(ok('N-10', { quantity: '0' }), 'BUSINESS_RULE_VIOLATION', 'zero quantity')
    .record(ok('N-11', { quantity: '-3' }), 'BUSINESS_RULE_VIOLATION', 'negative quantity')
    .record(ok('N-12', { revenue: '-5.00' }), 'BUSINESS_RULE_VIOLATION', 'negative revenue')
    .record(ok('N-13', { revenue: '0.00' }), 'loaded', 'zero revenue')
    .record(ok('N-14', { revenue: '7' }), 'loaded', 'revenue without decimals')
    .record(ok('N-15', { quantity: '1', revenue: '9999999999.99' }), 'loaded', 'the largest amount a unit price holds')
    .record(ok('N-16', { quantity: '1', revenue: '99999999999.99' }), 'DATA_FORMAT_ERROR', 'an amount the warehouse cannot hold as a unit price');

  const columns = new HostileFile('d_columns.csv')
    // A header in another case and with spaces still names the contract's columns.
    .skip(' Order_ID , Order_Date , Region , Product , Quantity , Revenue ')
    .record(`M-1,${day},North,${sku},2`, 'DATA_FORMAT_ERROR', 'a column missing')
    .record(`M-2,${day},North`, 'DATA_FORMAT_ERROR', 'half the columns')
    .record(',,,,,', 'MISSING_REQUIRED_FIELD', 'six empty fields')
    .skip('')
    .record('   ', 'DATA_FORMAT_ERROR', 'a line of spaces')
    .record(ok('M-3', { region: '' }), 'MISSING_REQUIRED_FIELD', 'empty region')
    .record(ok('M-4', { product: ' ' }), 'MISSING_REQUIRED_FIELD', 'blank product')
    .record(ok('', {}), 'MISSING_REQUIRED_FIELD', 'empty order id')
    .record(ok('M-5', { product: 'SKU-NOPE' }), 'REFERENTIAL_INTEGRITY', 'unknown product')
    .record(ok('M-6', { region: 'north' }), 'BUSINESS_RULE_VIOLATION', 'region in lower case')
    .record(ok('M-7'), 'loaded', 'a clean line after them all');

  const dupsCsv = new HostileFile('e_dups.csv')
    .skip(PARTNER_HEADER)
    .record(ok('X-1'), 'loaded', 'first of a duplicate pair')
    .record(ok('X-1'), 'DUPLICATE_RECORD', 'the same line again')
    .record(ok(' X-1', { quantity: '5' }), 'DUPLICATE_RECORD', 'the same order id, other values, padded')
    .record(ok('X-2'), 'loaded', 'first of a pair across files')
    .record(ok('X-3', { quantity: 'x' }), 'DATA_FORMAT_ERROR', 'a broken first occurrence')
    .record(ok('X-4', { product: 'SKU-NOPE' }), 'REFERENTIAL_INTEGRITY', 'an unknown product, first occurrence');

  const json = (o: Record<string, unknown>) => JSON.stringify(o);
  const line = (id: unknown, extra: Record<string, unknown> = {}) => json({ order_id: id, order_date: day, region: 'North', product: sku, quantity: 2, revenue: 10, ...extra });
  const dupsJson = new HostileFile('f_dups.ndjson', '\r\n')
    .record(`\uFEFF${line('X-2')}`, 'DUPLICATE_RECORD', 'a duplicate from the earlier file, after a BOM')
    .record(line('X-3'), 'loaded', 'the repaired order: its broken first line was no original')
    .record(line('X-4'), 'DUPLICATE_RECORD', 'an order whose first line is only rejected at the product check')
    .record(line(12345), 'loaded', 'a numeric order id')
    .record(line('J-1', { quantity: 2.5 }), 'DATA_FORMAT_ERROR', 'a fractional JSON quantity')
    .record(line('J-2', { revenue: 1e21 }), 'DATA_FORMAT_ERROR', 'a JSON amount printed with an exponent')
    .record(line('J-3', { quantity: true }), 'DATA_FORMAT_ERROR', 'a boolean quantity')
    .record(line('J-4', { region: null }), 'MISSING_REQUIRED_FIELD', 'a null region')
    .record(json({ order_id: 'J-5', order_date: day }), 'MISSING_REQUIRED_FIELD', 'keys missing')
    .record(line('J-6', { region: { name: 'North' } }), 'DATA_FORMAT_ERROR', 'an object for a field')
    .record(`${line('J-7')} trailing`, 'DATA_FORMAT_ERROR', 'text after the object')
    .record('"J-8"', 'DATA_FORMAT_ERROR', 'a JSON string, not an object');

  const bytes = new HostileFile('g_bytes.csv')
    .skip(PARTNER_HEADER)
    .record(Buffer.concat([Buffer.from(`B-1,${day},`), Buffer.from([0xc0, 0xaf]), Buffer.from(`,${sku},2,10.00`)]), 'DATA_FORMAT_ERROR', 'an overlong UTF-8 encoding')
    .record(Buffer.concat([Buffer.from(`B-2,${day},North,${sku},2,10.0`), Buffer.from([0xff])]), 'DATA_FORMAT_ERROR', 'a 0xFF byte')
    .record(`B-3,${day},North\u0000,${sku},2,10.00`, 'DATA_FORMAT_ERROR', 'a NUL character (Postgres text cannot hold it)')
    .record(ok('\u00dc-4 \u{1F4E6}'), 'loaded', 'valid multi-byte UTF-8 in the order id')
    .record(ok('B-5', { region: 'R'.repeat(200_000) }), 'BUSINESS_RULE_VIOLATION', 'a 200 kB field')
    .record(ok('B-6', { region: 'R'.repeat(3_000_000) }), 'DATA_FORMAT_ERROR', 'a 3 MB line (bronze cannot hold it)')
    .record(ok('B-7'), 'loaded', 'a clean line after them');

  // Files with no records at all, each a different kind of empty.
  const empties = [
    new HostileFile('h_empty_gzip.csv.gz', ''),
    new HostileFile('i_header_only.csv.gz').skip(PARTNER_HEADER),
    new HostileFile('j_zero_bytes.ndjson', ''),
    new HostileFile('k_blank_lines.ndjson').skip('').skip('   '),
  ];
  const zeroGzip = new ZeroByteFile('l_zero_bytes.csv.gz');

  const semicolons = new HostileFile('m_semicolons.csv');
  semicolons.record(PARTNER_HEADER.replaceAll(',', ';'), 'DATA_FORMAT_ERROR', 'a header with the wrong delimiter (it may be data)');
  semicolons.record(ok('S-1').replaceAll(',', ';'), 'DATA_FORMAT_ERROR', 'a line with the wrong delimiter');

  const oldMac = new HostileFile('n_cr_only.csv', '\r').skip(PARTNER_HEADER).record(ok('R-1'), 'loaded', 'old Mac line ends').record(ok('R-2'), 'loaded', 'old Mac line ends');

  // Last in its file: an unclosed quote takes in every line after it, as CSV says it must; the
  // whole rest is one unreadable record, quarantined with its raw text.
  const unclosed = new HostileFile('o_unclosed_quote.csv')
    .skip(PARTNER_HEADER)
    .record(ok('U-1'), 'loaded', 'a clean line before the quote')
    .record(`"U-2,${day},North,${sku},2,10.00\n${ok('U-3')}`, 'DATA_FORMAT_ERROR', 'an unclosed quote and the line it swallows');

  // An unclosed quote early in a big file: the parser would hold the rest of the file in memory
  // as one field. Past 16 M characters (19 MB here) the rest of the file is one unreadable record.
  const runaway = new HostileFile('p_runaway_quote.csv.gz')
    .skip(PARTNER_HEADER)
    .record(ok('P-1'), 'loaded', 'a clean line before the quote')
    .record(`"P-2,${day},North,${sku},2,10.00\n${`${ok('P-3')}\n`.repeat(500_000)}`, 'FILE_UNREADABLE', 'an unclosed quote followed by 19 MB');

  return [quotes, dates, numbers, columns, dupsCsv, dupsJson, bytes, ...empties, zeroGzip, semicolons, oldMac, unclosed, runaway];
}

/** A 0-byte object whose name says gzip: there is nothing in it, compressed or not. */
class ZeroByteFile extends HostileFile {
  override body(): Buffer {
    return Buffer.alloc(0);
  }
}
