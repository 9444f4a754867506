/** S3 client for the lake, configured for S3-compatible servers as well as AWS. */
import { CreateBucketCommand, HeadBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { Config } from './config';

/**
 * An S3 client for `config.s3`. Path-style addressing (`http://host/bucket/key`) because local
 * servers have no per-bucket DNS names. Checksums only where S3 requires them: by default the SDK
 * (since 3.729) sends streamed uploads with aws-chunked trailing checksums, which servers that do
 * not implement that encoding reject (rclone answers MissingContentLength) or store inside the
 * object.
 */
export function createS3Client(config: Pick<Config, 's3'>): S3Client {
  const { endpoint, region, accessKeyId, secretAccessKey } = config.s3;
  return new S3Client({
    endpoint,
    forcePathStyle: true,
    region,
    credentials: { accessKeyId, secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
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
