/**
 * A partner file too big to hold in memory, written without ever holding it: lines come from a
 * generator, are gzipped as they stream, and go up as a multipart upload. Every `BAD_EVERY`th
 * line has a quantity that is no number, so the loaded count is known exactly in advance.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { PARTNER_HEADER } from './hostile-files';

const BAD_EVERY = 10_000;
const LINES_PER_CHUNK = 2_000;
const REGIONS = ['North', 'South', 'East', 'West', 'Central'];

export interface BigFile {
  key: string;
  records: number;
  /** Records with a non-numeric quantity (DATA_FORMAT_ERROR). */
  bad: number;
  /** Uncompressed size: what the reader decodes. */
  bytes: number;
  storedBytes: number;
}

/** Uploads `landing/partner_sales/dt=<day>/big.csv.gz` of at least `targetBytes` uncompressed. */
export async function uploadBigPartnerFile(s3: S3Client, bucket: string, day: string, sku: string, targetBytes: number): Promise<BigFile> {
  const key = `landing/partner_sales/dt=${day}/big.csv.gz`;
  const file = { key, records: 0, bad: 0, bytes: 0, storedBytes: 0 };
  function* lines(): Generator<string> {
    let chunk = `${PARTNER_HEADER}\n`;
    while (file.bytes + chunk.length < targetBytes) {
      for (let i = 0; i < LINES_PER_CHUNK; i += 1) {
        file.records += 1;
        const bad = file.records % BAD_EVERY === 0;
        if (bad) file.bad += 1;
        chunk += `BIG-${file.records},${day},${REGIONS[file.records % REGIONS.length]!},${sku},${bad ? 'x' : 1 + (file.records % 7)},${(file.records % 9973) / 100}\n`;
      }
      file.bytes += chunk.length;
      yield chunk;
      chunk = '';
    }
  }
  const gzip = Readable.from(lines()).pipe(zlib.createGzip({ level: 1 }));
  gzip.on('data', (c: Buffer) => (file.storedBytes += c.length));
  await new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: gzip }, partSize: 8 * 1024 * 1024, queueSize: 2 }).done();
  return file;
}
