/**
 * Reusable sensors. Each poke is one short activity; the `dagRun` workflow waits between pokes on
 * a durable timer, so a sensor waiting six hours holds no worker slot.
 */
import { HeadObjectCommand, ListObjectsV2Command, NotFound } from '@aws-sdk/client-s3';
import { defineSensor } from '../dags/sdk';

/** True once `key` exists in the lake, or, when `key` ends in `/`, once any object lies under it (a partition). */
export const s3KeySensor = defineSensor('s3KeySensor', async (input: { key: string }, ctx) => {
  const { s3, bucket } = ctx.resources;
  if (input.key.endsWith('/')) {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: input.key, MaxKeys: 1 }));
    return (listed.KeyCount ?? 0) > 0;
  }
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: input.key }));
    return true;
  } catch (err) {
    if (err instanceof NotFound || (err as { name?: string }).name === 'NotFound') return false;
    throw err;
  }
});

/**
 * True once a SQL query against the warehouse returns a row whose first column is true, e.g.
 * `select count(*) > 0 from ops.audit_log where dt = ?` with `bindings: [day]`.
 */
export const sqlSensor = defineSensor('sqlSensor', async (input: { sql: string; bindings?: Array<string | number | boolean> }, ctx) => {
  const result = await ctx.resources.warehouse.raw(input.sql, input.bindings ?? []);
  const row = (result.rows as Array<Record<string, unknown>>)[0];
  return row !== undefined && Object.values(row)[0] === true;
});
