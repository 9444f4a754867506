/**
 * Task outputs travel through workflow history, which caps payloads at 2 MB and a run at
 * 50 MB. Anything above a few kilobytes is written to S3 and replaced by an `$offloaded`
 * marker; the receiving activity loads it back. Workflows therefore only ever hold keys.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { TaskContext } from '../../workflows/spec';
import { getPath, isOffloaded, type OffloadedRef } from '../../workflows/interpreter/templates';

/** Outputs up to this many bytes of JSON stay inline in history. */
export const INLINE_OUTPUT_LIMIT = 8 * 1024;
/**
 * Mapped instances get a smaller limit: a reduce task receives all their outputs in one
 * payload, and 1,000 instances at 1 KB stay well under Temporal's 2 MB payload cap.
 */
export const INLINE_MAPPED_OUTPUT_LIMIT = 1024;

export interface OutputStore {
  store(ctx: TaskContext, value: unknown): Promise<unknown>;
  hydrate(value: unknown): Promise<unknown>;
  load(ref: OffloadedRef): Promise<unknown>;
}

export function createOutputStore(s3: S3Client, bucket: string): OutputStore {
  const load = async (ref: OffloadedRef): Promise<unknown> => {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: ref.$offloaded.key }));
    const text = await object.Body?.transformToString('utf8');
    return getPath(JSON.parse(text ?? 'null'), ref.path ?? []);
  };

  const hydrate = async (value: unknown): Promise<unknown> => {
    if (isOffloaded(value)) return load(value);
    if (Array.isArray(value)) return Promise.all(value.map(hydrate));
    if (value === null || typeof value !== 'object') return value;
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await hydrate(v)] as const));
    return Object.fromEntries(entries);
  };

  const store = async (ctx: TaskContext, value: unknown): Promise<unknown> => {
    const json = JSON.stringify(value ?? null);
    const bytes = Buffer.byteLength(json);
    const limit = ctx.mapIndex === undefined ? INLINE_OUTPUT_LIMIT : INLINE_MAPPED_OUTPUT_LIMIT;
    if (bytes <= limit) return JSON.parse(json);
    // One key per task (not per attempt): a retry overwrites, so re-runs leave one object.
    const task = ctx.mapIndex === undefined ? ctx.taskId : `${ctx.taskId}/${ctx.mapIndex}`;
    const key = `_sluice/outputs/${ctx.dagId}/${ctx.runId}/${task}.json`;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: json, ContentType: 'application/json' }));
    const ref: OffloadedRef = { $offloaded: { key, bytes } };
    return ref;
  };

  return { store, hydrate, load };
}
