/**
 * Reads a partner's landing file (CSV, CSV.gz or NDJSON, optionally gzipped) into records, without
 * ever throwing on bad content: a record that cannot be read carries the reason (`error`) and its
 * raw text; a file that cannot be read to its end yields, after the records it could recover, one
 * record marked `unreadable`. The validation step turns both into quarantine entries, so every
 * line a partner sent is accounted for.
 */
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { createInterface } from 'node:readline';
import zlib from 'node:zlib';
import { parse } from 'csv-parse';

/** The contract's columns, in file order. */
export const PARTNER_COLUMNS = ['order_id', 'order_date', 'region', 'product', 'quantity', 'revenue'] as const;

export interface PartnerRecord {
  /** The six contract fields as text, `null` when absent. */
  fields: (string | null)[];
  /** 1-based line on which the record starts (a CSV header is line 1). */
  line: number;
  /** Why the record could not be read as six fields; null for a readable record. */
  error: string | null;
  /** The raw text, kept for unreadable records only. */
  raw: string | null;
  /** True for the one record that stands for the unreadable rest of a file. */
  unreadable: boolean;
}

export type PartnerFormat = 'csv' | 'ndjson';

/** The format and compression a key's extension names, or null for a file Sluice cannot read. */
export function partnerFormat(key: string): { format: PartnerFormat; gzip: boolean } | null {
  const match = /\.(csv|ndjson|jsonl)(\.gz)?$/i.exec(key);
  if (!match) return null;
  return { format: match[1]!.toLowerCase() === 'csv' ? 'csv' : 'ndjson', gzip: Boolean(match[2]) };
}

const BATCH = 5_000;

/** Records of one file, in batches. `body` is the object's bytes as stored. */
export async function* readPartnerFile(body: Readable, key: string): AsyncGenerator<PartnerRecord[]> {
  const kind = partnerFormat(key);
  if (!kind) {
    body.destroy();
    yield [unreadableRecord(1, `unsupported file type (expected .csv, .csv.gz, .ndjson or .ndjson.gz)`)];
    return;
  }
  // A failed read of the object itself (a dropped connection) is not the partner's fault: it
  // propagates and the task retries. Only content that cannot be decoded becomes a record.
  const content = kind.gzip ? gunzipTolerant(body) : { bytes: body, failure: () => undefined };
  const records = kind.format === 'csv' ? csvRecords(content.bytes) : ndjsonRecords(content.bytes);
  let batch: PartnerRecord[] = [];
  let nextLine = 1;
  for await (const record of records) {
    batch.push(storable(record));
    nextLine = record.line + 1;
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }
  // A reader that stopped early (a runaway quote) leaves the object half read: release it.
  body.destroy();
  const failure = content.failure();
  if (failure) batch.push(unreadableRecord(nextLine, `unreadable from line ${nextLine}: ${failure}`));
  if (batch.length > 0) yield batch;
}

/**
 * A record no sane partner line is this long. Bronze gets each record as one CSV line, which the
 * Parquet writer (DuckDB) refuses beyond 2 MB: a longer record used to stop the whole extract.
 * 256 K characters stay under that even as 3-byte UTF-8 with quotes doubled.
 */
const MAX_RECORD_CHARS = 256 * 1024;
/** Where the CSV parser gives up on a field (a quote left open): about 32 MB of heap. */
const MAX_FIELD_CHARS = 16 * 1024 * 1024;
/** How much of an over-long record's raw text quarantine keeps. */
const KEPT_RAW_CHARS = 1024;

/**
 * What the warehouse and the lake cannot store is quarantined rather than failing the extract:
 * a NUL character (Postgres text cannot hold one; the raw text and reason keep U+FFFD in its
 * place) and an over-long record (its raw text cut to its start).
 */
function storable(record: PartnerRecord): PartnerRecord {
  const hasNul = (text: string | null) => text !== null && text.includes('\0');
  const length = [record.raw, record.error, ...record.fields].reduce((sum, text) => sum + (text?.length ?? 0), 0);
  if (length > MAX_RECORD_CHARS) {
    const raw = record.raw ?? record.fields.map((f) => f ?? '').join(',');
    const tooLong = `record is ${length} characters long, over the limit of ${MAX_RECORD_CHARS}`;
    const error = record.error ? `${record.error.slice(0, KEPT_RAW_CHARS)}…; ${tooLong}` : tooLong;
    return storable({ ...record, fields: PARTNER_COLUMNS.map(() => null), error, raw: `${raw.slice(0, KEPT_RAW_CHARS)}…` });
  }
  if (!hasNul(record.raw) && !hasNul(record.error) && !record.fields.some(hasNul)) return record;
  const visible = (text: string) => text.replaceAll('\0', '\uFFFD');
  return {
    ...record,
    fields: PARTNER_COLUMNS.map(() => null),
    error: visible(record.error ?? 'contains a NUL character'),
    raw: visible(record.raw ?? record.fields.map((f) => f ?? '').join(',')),
  };
}

function unreadableRecord(line: number, reason: string): PartnerRecord {
  return { fields: PARTNER_COLUMNS.map(() => null), line, error: reason, raw: null, unreadable: true };
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Gunzips what can be decompressed of a possibly truncated file. zlib's streaming error drops the
 * last chunk it had decoded, so the stream is decoded with SYNC_FLUSH at the end (keeping every
 * decodable byte) and truncation is detected from the gzip trailer instead: its last four bytes
 * are the uncompressed length (mod 2^32), which a cut file does not match.
 */
function gunzipTolerant(body: Readable): { bytes: Readable; failure: () => string | undefined } {
  let failure: string | undefined;
  let tail: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  let decompressed = 0;
  let compressed = 0;
  const watchTail = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      tail = Buffer.concat([tail, chunk]).subarray(-8);
      compressed += chunk.length;
      done(null, chunk);
    },
  });
  const gunzip = zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const output = new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      decompressed += chunk.length;
      done(null, chunk);
    },
    flush(done: TransformCallback) {
      // A 0-byte object is an empty file whatever its name says, as a 0-byte .csv is: no records.
      if (!failure && compressed > 0 && (tail.length < 8 || tail.readUInt32LE(4) !== decompressed % 2 ** 32)) {
        failure = 'gzip stream is truncated (its length trailer does not match the data)';
      }
      done();
    },
  });
  gunzip.on('error', (err) => {
    failure ??= `gzip: ${err.message}`;
    output.end();
  });
  body.on('error', (err) => output.destroy(err));
  body.pipe(watchTail).pipe(gunzip).pipe(output);
  return { bytes: dropPartialLineOnFailure(output, () => failure), failure: () => failure };
}

/**
 * Passes bytes through, holding back the text after the last newline; on a clean end it is
 * released, on a failure it is dropped: a line cut off by the failure is not a record.
 */
function dropPartialLineOnFailure(bytes: Readable, failed: () => string | undefined): Readable {
  let held: Buffer<ArrayBufferLike> = Buffer.alloc(0);
  return bytes.pipe(
    new Transform({
      transform(chunk: Buffer, _enc, done: TransformCallback) {
        const data = held.length > 0 ? Buffer.concat([held, chunk]) : chunk;
        const cut = data.lastIndexOf(0x0a) + 1;
        held = data.subarray(cut);
        done(null, data.subarray(0, cut));
      },
      flush(done: TransformCallback) {
        if (!failed() && held.length > 0) this.push(held);
        done();
      },
    }),
  );
}

const EXPECTED_HEADER = PARTNER_COLUMNS.join(',');

/** CSV records with their start lines; the header row maps columns by name. */
async function* csvRecords(bytes: Readable): AsyncGenerator<PartnerRecord> {
  // Lines the parser gave up on, reported (through on_skip) while it parses, which can be ahead
  // of the records this loop has taken so far: they are put back in line order below.
  const skipped: { record: PartnerRecord; end: number }[] = [];
  // A quote left open takes in the rest of the file as one field, and the parser holds it all in
  // memory: a large file ran the worker out of heap, on every retry. Past MAX_FIELD_CHARS the
  // parse stops and the rest of the file is one unreadable record, as with a truncated gzip.
  // (The parser cannot go on after that limit, so it is far above MAX_RECORD_CHARS: a record
  // merely too long is quarantined alone, by `storable`.)
  let runaway: PartnerRecord | null = null;
  const parser: Transform = bytes.pipe(
    parse({
      bom: true,
      relax_column_count: true,
      // A stray quote inside a field is kept as text (the field then fails its type check)
      // instead of swallowing the rest of the file into one field.
      relax_quotes: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      skip_empty_lines: false,
      skip_records_with_error: true,
      info: true,
      raw: true,
      max_record_size: MAX_FIELD_CHARS,
      on_skip: (err, raw) => {
        const text = trimRaw(raw ?? '');
        const end = Number(err?.lines ?? 0);
        const line = end - (text.match(/\r\n|\n|\r/g)?.length ?? 0);
        if (err?.code === 'CSV_MAX_RECORD_SIZE') {
          runaway ??= unreadableRecord(line, `unreadable from line ${line}: a field runs past ${MAX_FIELD_CHARS} characters (a quote left open?)`);
          bytes.unpipe(parser);
          parser.end();
          return undefined;
        }
        skipped.push({ record: { fields: PARTNER_COLUMNS.map(() => null), line, error: `unparseable CSV: ${err?.message ?? 'unknown error'}`, raw: text, unreadable: false }, end });
        return undefined;
      },
    }),
  );
  let previousEnd = 0;
  /** Skipped lines that come before `line`, in order; moves `previousEnd` past them. */
  function* skippedBefore(line: number): Generator<PartnerRecord> {
    skipped.sort((a, b) => a.record.line - b.record.line);
    while (skipped.length > 0 && skipped[0]!.record.line < line) {
      const next = skipped.shift()!;
      previousEnd = Math.max(previousEnd, next.end);
      yield next.record;
    }
  }
  let columns: number[] | null = null;
  let headerProblem: string | null = null;
  for await (const { record, info, raw } of parser as AsyncIterable<{ record: string[]; info: { lines: number }; raw: string }>) {
    const recordLines = trimRaw(raw).match(/\r\n|\n|\r/g)?.length ?? 0;
    yield* skippedBefore(info.lines - recordLines);
    const line = previousEnd + 1;
    previousEnd = info.lines;
    if (record.length === 1 && record[0] === '') continue;
    if (columns === null && headerProblem === null) {
      [columns, headerProblem] = readHeader(record);
      if (columns) continue;
    }
    if (headerProblem !== null || columns === null) {
      yield { fields: PARTNER_COLUMNS.map(() => null), line, error: headerProblem ?? 'no header', raw: trimRaw(raw), unreadable: false };
      continue;
    }
    yield fieldsRecord(record, columns, line, raw);
  }
  yield* skippedBefore(Infinity);
  if (runaway) {
    bytes.destroy();
    yield runaway;
  }
}

/** Column positions by name, or why the first row is not the contract's header. */
function readHeader(record: string[]): [number[] | null, string | null] {
  const names = record.map((name) => name.trim().toLowerCase());
  const positions = PARTNER_COLUMNS.map((column) => names.indexOf(column));
  if (positions.every((p) => p >= 0)) return [positions, null];
  if (positions.every((p) => p < 0)) return [null, `file has no header row (expected ${EXPECTED_HEADER})`];
  const missing = PARTNER_COLUMNS.filter((_c, i) => positions[i]! < 0);
  return [null, `file header "${record.join(',')}" lacks ${missing.join(', ')} (expected ${EXPECTED_HEADER})`];
}

function fieldsRecord(record: string[], columns: number[], line: number, raw: string): PartnerRecord {
  const text = trimRaw(raw);
  if (text.includes('\uFFFD')) return { fields: PARTNER_COLUMNS.map(() => null), line, error: 'invalid UTF-8', raw: text, unreadable: false };
  if (record.length !== PARTNER_COLUMNS.length) {
    return { fields: PARTNER_COLUMNS.map(() => null), line, error: `expected ${PARTNER_COLUMNS.length} fields, found ${record.length}`, raw: text, unreadable: false };
  }
  return { fields: columns.map((i) => record[i] ?? null), line, error: null, raw: null, unreadable: false };
}

function trimRaw(raw: string): string {
  return raw.replace(/[\r\n]+$/, '');
}

/** NDJSON records: one JSON object per line with the contract's keys. */
async function* ndjsonRecords(bytes: Readable): AsyncGenerator<PartnerRecord> {
  const lines = createInterface({ input: bytes, crlfDelay: Infinity });
  let line = 0;
  for await (const rawLine of lines) {
    line++;
    const text = line === 1 ? rawLine.replace(/^\uFEFF/, '') : rawLine;
    if (text.trim() === '') continue;
    yield ndjsonRecord(text, line);
  }
}

function ndjsonRecord(text: string, line: number): PartnerRecord {
  const bad = (error: string): PartnerRecord => ({ fields: PARTNER_COLUMNS.map(() => null), line, error, raw: text, unreadable: false });
  if (text.includes('\uFFFD')) return bad('invalid UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return bad(`invalid JSON: ${errorText(err)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad('line is not a JSON object');
  const object = value as Record<string, unknown>;
  const fields: (string | null)[] = [];
  for (const column of PARTNER_COLUMNS) {
    const field = object[column];
    if (field === null || field === undefined) fields.push(null);
    else if (typeof field === 'string') fields.push(field);
    // JSON.parse turns 1e999 into Infinity: keep what the partner meant to send, for the type check.
    else if (typeof field === 'number') fields.push(Number.isFinite(field) ? String(field) : 'Infinity');
    else return bad(`${column} is a ${Array.isArray(field) ? 'list' : typeof field}, not text or a number`);
  }
  return { fields, line, error: null, raw: null, unreadable: false };
}
