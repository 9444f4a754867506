/**
 * Objects in the lake (the worker's S3 connection, `ctx.resources`). Uploads go through
 * `@aws-sdk/lib-storage`, which sends a small body in one PUT and a large one in parts, so a
 * report of any size uploads with bounded memory.
 */
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Readable } from 'node:stream';
import type { TaskContext } from '../../dags/sdk';
import { countBytesWritten } from '../../workers/metrics';

type LakeContext = Pick<TaskContext, 'resources'>;

/**
 * Puts one object at `key` in the lake bucket. A large body goes up in 5 MB parts, one at a
 * time: the upload holds about 2 x part size x (queue size + 1) of memory (20 MB here), and
 * several tasks upload at once on one worker.
 */
export async function putLakeObject(ctx: LakeContext, key: string, body: Uint8Array | string | Readable, contentType: string): Promise<void> {
  const { s3, bucket } = ctx.resources;
  const upload = new Upload({ client: s3, queueSize: 1, partSize: 5 * 1024 * 1024, params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType } });
  // Progress reports the bytes sent so far, for a single PUT and for parts alike; a stream's size is known only at its end.
  let sent = 0;
  upload.on('httpUploadProgress', (progress) => (sent = Math.max(sent, progress.loaded ?? 0)));
  await upload.done();
  countBytesWritten(sent);
}

/** Every key under `prefix`, in order. */
export async function listLakeKeys(ctx: LakeContext, prefix: string): Promise<string[]> {
  const { s3, bucket } = ctx.resources;
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/**
 * Deletes every object under `prefix` except `keep`: the last step of rewriting a partition, so
 * the partition holds exactly what the latest write produced.
 */
export async function replacePrefix(ctx: LakeContext, prefix: string, keep: readonly string[]): Promise<number> {
  const kept = new Set(keep);
  const stale = (await listLakeKeys(ctx, prefix)).filter((key) => !kept.has(key));
  const { s3, bucket } = ctx.resources;
  for (let i = 0; i < stale.length; i += 1000) {
    const batch = stale.slice(i, i + 1000).map((Key) => ({ Key }));
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }));
  }
  return stale.length;
}
