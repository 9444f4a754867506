/**
 * Tasks of the `stack_check` DAG: one row read from the warehouse, written to the lake and read
 * back. It is the smallest DAG that touches every real part (Temporal, Postgres, S3), which makes
 * it the first run `npm start` shows and the on-call engineer's "is everything connected?" check.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/activity';
import { defineTask } from 'sluice/sdk';

export interface WarehouseProbe {
  database: string;
  serverVersion: string;
  checkedAt: string;
}

export interface LakeObject {
  bucket: string;
  key: string;
  bytes: number;
}

export const probeWarehouse = defineTask('probeWarehouse', async (_input: Record<string, never>, ctx): Promise<WarehouseProbe> => {
  const row = await ctx.resources.warehouse
    .select(
      ctx.resources.warehouse.raw('current_database() as database'),
      ctx.resources.warehouse.raw(`current_setting('server_version') as server_version`),
      ctx.resources.warehouse.raw('now() as checked_at'),
    )
    .first();
  const probe = { database: row.database, serverVersion: row.server_version, checkedAt: new Date(row.checked_at).toISOString() };
  ctx.log.info(probe, 'warehouse answered');
  return probe;
});

export const writeProbe = defineTask('writeProbe', async (input: { probe: WarehouseProbe; day: string }, ctx): Promise<LakeObject> => {
  const { s3, bucket } = ctx.resources;
  // One object per logical day: a re-run overwrites it instead of adding another.
  const key = `_sluice/stack_check/dt=${input.day.slice(0, 10)}/probe.json`;
  const body = JSON.stringify(input.probe);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }));
  ctx.log.info({ key }, 'probe written');
  return { bucket, key, bytes: Buffer.byteLength(body) };
});

export const readProbe = defineTask('readProbe', async (input: { object: LakeObject; expected: WarehouseProbe }, ctx): Promise<LakeObject & { verified: true }> => {
  const { s3 } = ctx.resources;
  const response = await s3.send(new GetObjectCommand({ Bucket: input.object.bucket, Key: input.object.key }));
  const text = (await response.Body?.transformToString('utf8')) ?? '';
  if (text !== JSON.stringify(input.expected)) {
    throw ApplicationFailure.nonRetryable(`s3://${input.object.bucket}/${input.object.key} does not hold what was written`, 'LakeMismatch');
  }
  ctx.log.info({ key: input.object.key }, 'probe read back');
  return { ...input.object, verified: true };
});
