/**
 * Parquet files in the lake, written in parts of bounded size so memory stays flat however large
 * the day: rows are gathered into columns for one part at a time, encoded with parquet-wasm
 * (Rust's parquet writer compiled to WebAssembly; see BENCHMARKS.md for its speed) and uploaded
 * while the next part is being built.
 *
 * A write owns its prefix: `part-00000.parquet`, `part-00001.parquet`, ... and, once every part is
 * uploaded, any object under the prefix it did not write is deleted. Rerunning a write with the
 * same rows leaves byte-identical objects (same ETags) and no leftovers from a larger earlier run.
 */
import { Bool, DateDay, Float64, Int32, Int64, Table as ArrowTable, tableToIPC, TimestampMillisecond, Utf8, makeData, makeVector, type Data, type DataType, type Vector } from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm/node';
import type { TaskContext } from '../../dags/sdk';
import { putLakeObject, replacePrefix } from './lake';

/** A Parquet column: its name and logical type. Values may arrive as text (from COPY) or typed. */
export interface ParquetColumn {
  name: string;
  type: 'string' | 'int32' | 'int64' | 'float64' | 'bool' | 'timestamp' | 'date';
}

export interface ParquetWriteResult {
  /** Keys of the parts written, in order. */
  keys: string[];
  rows: number;
  bytes: number;
}

export interface WriteParquetOptions {
  /** Lake prefix ending in '/', e.g. `bronze/orders/dt=2026-11-21/`. */
  prefix: string;
  columns: readonly ParquetColumn[];
  /** Rows as arrays in column order; batches of rows keep the per-row overhead low. */
  rows: AsyncIterable<readonly (readonly unknown[])[]>;
  /** Rows per part file (and row group). Default 250,000: about 30-60 MB of memory per part. */
  rowsPerPart?: number;
}

const DEFAULT_ROWS_PER_PART = 250_000;

/** Writes `rows` as Parquet parts under `prefix`, replacing whatever the prefix held. */
export async function writeParquetParts(ctx: Pick<TaskContext, 'resources'>, options: WriteParquetOptions): Promise<ParquetWriteResult> {
  if (!options.prefix.endsWith('/')) throw new TypeError(`parquet prefix must end in '/': ${options.prefix}`);
  const rowsPerPart = options.rowsPerPart ?? DEFAULT_ROWS_PER_PART;
  const keys: string[] = [];
  let rows = 0;
  let bytes = 0;
  let pending: Promise<void> = Promise.resolve();
  let part: (readonly unknown[])[] = [];

  // Encoding is CPU work and the upload is I/O: the previous part uploads while this one is built.
  const flush = async () => {
    const body = encodeParquet(options.columns, part);
    part = [];
    const key = `${options.prefix}part-${String(keys.length).padStart(5, '0')}.parquet`;
    keys.push(key);
    bytes += body.byteLength;
    await pending;
    pending = putLakeObject(ctx, key, body, 'application/vnd.apache.parquet');
  };

  for await (const batch of options.rows) {
    for (const row of batch) {
      part.push(row);
      if (part.length >= rowsPerPart) await flush();
    }
    rows += batch.length;
  }
  // An empty result is still a partition: one part with the schema and no rows, so readers find
  // the columns and a rerun that now has no rows replaces the old ones.
  if (part.length > 0 || keys.length === 0) await flush();
  await pending;
  await replacePrefix(ctx, options.prefix, keys);
  return { keys, rows, bytes };
}

/** One Parquet file (a single row group) from rows in column order. Deterministic bytes. */
export function encodeParquet(columns: readonly ParquetColumn[], rows: readonly (readonly unknown[])[]): Uint8Array {
  const vectors: Record<string, Vector> = {};
  columns.forEach((column, index) => {
    vectors[column.name] = toVector(column, rows.map((row) => row[index]));
  });
  const table = WasmTable.fromIPCStream(tableToIPC(new ArrowTable(vectors), 'stream'));
  const properties = new WriterPropertiesBuilder().setCompression(Compression.SNAPPY).setCreatedBy('sluice').build();
  return writeParquet(table, properties);
}

const MS_PER_DAY = 86_400_000;

// Columns are built straight into Arrow buffers: Arrow's generic `vectorFromArray` builders cost
// more than the Parquet encoding itself (measured: 240 k rows/s through them against ~800 k here).
function toVector(column: ParquetColumn, values: readonly unknown[]): Vector {
  const length = values.length;
  const valid = new Uint8Array(Math.ceil(length / 8));
  let nullCount = 0;
  const isNull = (v: unknown, i: number) => {
    if (v === null || v === undefined) {
      nullCount++;
      return true;
    }
    valid[i >> 3]! |= 1 << (i & 7);
    return false;
  };
  const fixed = (type: DataType, array: Int32Array | Float64Array | BigInt64Array, set: (v: unknown) => number | bigint): Vector => {
    values.forEach((v, i) => {
      if (!isNull(v, i)) array[i] = set(v) as never;
    });
    // makeData's overloads are per Arrow type; this one function serves the fixed-width ones.
    return makeVector(makeData({ type, length, nullCount, nullBitmap: nullCount > 0 ? valid : undefined, data: array } as never) as Data);
  };
  switch (column.type) {
    case 'string':
      return utf8Vector(values, isNull, valid, () => nullCount);
    case 'int32':
      return fixed(new Int32(), new Int32Array(length), Number);
    case 'float64':
      return fixed(new Float64(), new Float64Array(length), Number);
    case 'int64':
      return fixed(new Int64(), new BigInt64Array(length), (v) => BigInt(v as string | number | bigint));
    case 'timestamp':
      return fixed(new TimestampMillisecond('UTC'), new BigInt64Array(length), (v) => BigInt(v instanceof Date ? v.getTime() : Date.parse(String(v))));
    case 'date':
      return fixed(new DateDay(), new Int32Array(length), (v) => Math.floor((v instanceof Date ? v.getTime() : Date.parse(`${String(v).slice(0, 10)}T00:00:00Z`)) / MS_PER_DAY));
    case 'bool': {
      const bits = new Uint8Array(Math.ceil(length / 8));
      values.forEach((v, i) => {
        if (!isNull(v, i) && (v === true || v === 't' || v === 'true')) bits[i >> 3]! |= 1 << (i & 7);
      });
      return makeVector(makeData({ type: new Bool(), length, nullCount, nullBitmap: nullCount > 0 ? valid : undefined, data: bits }));
    }
  }
}

/** A UTF-8 column: all values joined into one buffer, with offsets by byte length. */
function utf8Vector(values: readonly unknown[], isNull: (v: unknown, i: number) => boolean, valid: Uint8Array, nullCount: () => number): Vector {
  const offsets = new Int32Array(values.length + 1);
  const parts: string[] = [];
  let offset = 0;
  values.forEach((v, i) => {
    if (!isNull(v, i)) {
      const text = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
      parts.push(text);
      offset += Buffer.byteLength(text);
    }
    offsets[i + 1] = offset;
  });
  const data = Buffer.from(parts.join(''), 'utf8');
  const nulls = nullCount();
  return makeVector(makeData({ type: new Utf8(), length: values.length, nullCount: nulls, nullBitmap: nulls > 0 ? valid : undefined, valueOffsets: offsets, data }));
}
