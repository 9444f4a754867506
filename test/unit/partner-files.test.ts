/**
 * The partner file reader never throws on content and never loses a line: every line comes out
 * as a record, readable or marked with why not, and a file cut short ends with one record that
 * stands for its unreadable rest.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import zlib from 'node:zlib';
import { readPartnerFile, type PartnerRecord } from '../../activities/etl/partner-files';

const HEADER = 'order_id,order_date,region,product,quantity,revenue';

async function read(key: string, content: Buffer | string): Promise<PartnerRecord[]> {
  const records: PartnerRecord[] = [];
  for await (const batch of readPartnerFile(Readable.from([Buffer.from(content)]), key)) records.push(...batch);
  return records;
}

test('CSV: a BOM, CRLF, quoted commas and newlines, and columns matched by header name', async () => {
  const records = await read('a.csv', `\uFEFFregion,order_id,order_date,product,quantity,revenue\r\nNorth,A,2026-11-21,"SKU-1, red",1,2.50\r\nSouth,B,2026-11-21,SKU-2,"1\n2",3\r\n`);
  assert.deepEqual(records.map((r) => [r.line, r.error, r.fields]), [
    [2, null, ['A', '2026-11-21', 'North', 'SKU-1, red', '1', '2.50']],
    [3, null, ['B', '2026-11-21', 'South', 'SKU-2', '1\n2', '3']],
  ]);
});

test('CSV: a line with the wrong number of fields or invalid UTF-8 is a record with the reason and its raw text', async () => {
  const invalid = Buffer.concat([Buffer.from(`${HEADER}\nA,2026-11-21,North,SKU-1,1,2,extra\nB,2026-11-21,`), Buffer.from([0xff, 0xfe]), Buffer.from(',SKU-1,1,2\nC,2026-11-21,North,SKU-1,1,2\n')]);
  const records = await read('b.csv', invalid);
  assert.deepEqual(records.map((r) => [r.line, r.error]), [
    [2, 'expected 6 fields, found 7'],
    [3, 'invalid UTF-8'],
    [4, null],
  ]);
  assert.equal(records[0]?.raw, 'A,2026-11-21,North,SKU-1,1,2,extra');
});

test('CSV: no header, or a header lacking columns, makes every line a format error', async () => {
  const noHeader = await read('c.csv', 'A,2026-11-21,North,SKU-1,1,2\nB,2026-11-21,North,SKU-1,1,2\n');
  assert.deepEqual(noHeader.map((r) => [r.line, r.error?.startsWith('file has no header row')]), [[1, true], [2, true]]);
  const partial = await read('d.csv', 'order_id,order_date,region\nA,2026-11-21,North\n');
  assert.match(partial[0]?.error ?? '', /lacks product, quantity, revenue/);
});

test('CSV: a quote left open swallows no more than the lines it spans', async () => {
  const records = await read('e.csv', `${HEADER}\nA,2026-11-21,North,SKU-1,1,2\n"B,2026-11-21,North,SKU-1,1,2\nC,2026-11-21,North,SKU-1,1,2\n`);
  assert.equal(records[0]?.error, null);
  assert.equal(records.length, 2);
  assert.match(records[1]?.error ?? '', /unparseable CSV/);
  assert.equal(records[1]?.line, 3);
});

test('gzip: a truncated file keeps every complete line, then one unreadable record', async () => {
  const lines = Array.from({ length: 20_000 }, (_, i) => `P-${i},2026-11-21,North,SKU-1,2,12.50`);
  const gz = zlib.gzipSync(`${HEADER}\n${lines.join('\n')}\n`);
  assert.equal((await read('f.csv.gz', gz)).length, 20_000);
  const cut = gz.subarray(0, Math.floor(gz.length * 0.6));
  const recoverable = zlib.gunzipSync(cut, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString().split('\n').length - 2;
  const records = await read('g.csv.gz', cut);
  assert.equal(records.filter((r) => !r.unreadable).length, recoverable);
  assert.ok(records.slice(0, -1).every((r) => r.error === null));
  const last = records.at(-1);
  assert.equal(last?.unreadable, true);
  assert.equal(last?.line, recoverable + 2);
  assert.match(last?.error ?? '', /truncated/);
});

test('a file that is not what its name says, or of a type Sluice cannot read, is one unreadable record', async () => {
  const notGzip = await read('h.csv.gz', 'plain text');
  assert.deepEqual(notGzip.map((r) => [r.line, r.unreadable]), [[1, true]]);
  assert.match(notGzip[0]?.error ?? '', /gzip/);
  const unknown = await read('i.xlsx', 'x');
  assert.match(unknown[0]?.error ?? '', /unsupported file type/);
});

test('empty files have no records', async () => {
  assert.deepEqual(await read('j.csv', ''), []);
  assert.deepEqual(await read('k.csv', `${HEADER}\n`), []);
  assert.deepEqual(await read('l.ndjson', ''), []);
});

test('NDJSON: numbers kept as written, out-of-range numbers kept for the type check, bad lines marked', async () => {
  const records = await read(
    'm.ndjson',
    [
      '{"order_id":"A","order_date":"2026-11-21","region":"North","product":"SKU-1","quantity":2,"revenue":1e999}',
      'not json',
      '',
      '[1,2]',
      '{"order_id":"B","quantity":{"n":1}}',
      '{"order_id":"C"}',
    ].join('\n'),
  );
  assert.deepEqual(records.map((r) => [r.line, r.error === null ? null : r.error.split(':')[0]]), [
    [1, null],
    [2, 'invalid JSON'],
    [4, 'line is not a JSON object'],
    [5, 'quantity is a object, not text or a number'],
    [6, null],
  ]);
  assert.deepEqual(records[0]?.fields, ['A', '2026-11-21', 'North', 'SKU-1', '2', 'Infinity']);
  assert.deepEqual(records[4]?.fields, ['C', null, null, null, null, null]);
});

test('a NUL character makes its line a format error whose raw text shows U+FFFD (Postgres text cannot hold NUL)', async () => {
  const records = await read('nul.csv', `${HEADER}\nA,2026-11-21,No\0rth,SKU-1,1,2\nB,2026-11-21,North,SKU-1,1,2\n`);
  assert.deepEqual(records.map((r) => [r.line, r.error === null]), [[2, false], [3, true]]);
  assert.deepEqual(records[0]?.fields, [null, null, null, null, null, null]);
  assert.equal(records[0]?.raw?.includes('\0'), false);
  assert.match(records[0]?.raw ?? '', /No\uFFFDrth/);
});

test('a record over 256 K characters is quarantined alone with its raw text cut to 1,024; the next line reads', async () => {
  const records = await read('long.csv', `${HEADER}\nA,2026-11-21,${'x'.repeat(300_000)},SKU-1,1,2\nB,2026-11-21,North,SKU-1,1,2\n`);
  assert.equal(records.length, 2);
  assert.match(records[0]?.error ?? '', /record is \d+ characters long, over the limit of 262144/);
  assert.ok((records[0]?.raw?.length ?? 0) <= 1025, `raw kept: ${String(records[0]?.raw?.length)}`);
  assert.equal(records[1]?.error, null);
});

test('a quote left open in a big file stops at 16 M characters: the rest is one unreadable record, not the heap', async () => {
  const line = 'R,2026-11-21,North,SKU-1,1,2\n';
  const body = Buffer.from(`${HEADER}\nA,2026-11-21,North,SKU-1,1,2\n"B,2026-11-21,North,SKU-1,1,2\n${line.repeat(Math.ceil((17 * 1024 * 1024) / line.length))}`);
  const records = await read('runaway.csv', body);
  assert.equal(records[0]?.error, null);
  assert.equal(records.length, 2);
  assert.match(records[1]?.error ?? '', /unreadable from line 3: a field runs past 16777216 characters/);
});

test('a 0-byte .csv.gz is an empty file, like a 0-byte .csv: no records', async () => {
  assert.deepEqual(await read('empty.csv.gz', Buffer.alloc(0)), []);
  assert.deepEqual(await read('empty.csv', Buffer.alloc(0)), []);
});
