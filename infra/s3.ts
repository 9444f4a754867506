/** S3 client for the lake: Amazon S3 itself, or any S3-compatible server (the embedded one, MinIO). */
import { CreateBucketCommand, HeadBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { Config } from './config';

/**
 * An S3 client for `config.s3`.
 * - Amazon S3 (`S3_ENDPOINT=aws`): the SDK's own endpoint for the region, virtual-hosted
 *   addressing and default checksums; without static keys, the SDK's default credential chain
 *   (environment, profile, SSO, the container's or instance's IAM role).
 * - Any other server: its endpoint, path-style addressing (`http://host/bucket/key`, as local
 *   servers have no per-bucket DNS names) and checksums only where S3 requires them: by default
 *   the SDK (since 3.729) sends streamed uploads with aws-chunked trailing checksums, which servers
 *   that do not implement that encoding reject (rclone answers MissingContentLength) or store
 *   inside the object.
 */
export function createS3Client(config: Pick<Config, 's3'>): S3Client {
  const { mode, endpoint, forcePathStyle, region, accessKeyId, secretAccessKey, sessionToken } = config.s3;
  return new S3Client({
    ...(mode === 'aws' ? {} : { endpoint }),
    forcePathStyle,
    region,
    ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
    ...(mode === 'aws' ? {} : { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }),
  });
}

/** Creates `bucket` unless it exists. Safe against a concurrent caller. */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return;
  } catch (err) {
    if (!(err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404)) throw err;
  }
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    // rclone answers BucketAlreadyExists where AWS says BucketAlreadyOwnedByYou.
    if (!(err instanceof S3ServiceException && ['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(err.name))) {
      throw err;
    }
  }
}
