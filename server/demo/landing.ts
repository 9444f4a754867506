/** The partner files of a day in the S3 landing zone: exactly these objects under the day's prefix. */
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PartnerFile } from './partner-files';

/**
 * Puts the day's files (the same bytes give the same ETags) and deletes any other object under
 * `prefix`, left by an earlier seed with other settings, so a reader of the day sees only these.
 */
export async function replaceLandingFiles(s3: S3Client, bucket: string, prefix: string, files: PartnerFile[]): Promise<void> {
  await Promise.all(
    files.map((f) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: f.key, Body: f.body, ContentType: f.contentType }))),
  );
  const keep = new Set(files.map((f) => f.key));
  const stale: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) if (o.Key !== undefined && !keep.has(o.Key)) stale.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  // DeleteObjects takes at most 1,000 keys.
  for (let i = 0; i < stale.length; i += 1000) {
    const Objects = stale.slice(i, i + 1000).map((Key) => ({ Key }));
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects, Quiet: true } }));
  }
}
