/**
 * Task outputs travel through workflow history, which caps payloads at 2 MB and a run at
 * 50 MB. Anything above a few kilobytes is written to S3 and replaced by an `$offloaded`
 * marker; the receiving activity loads it back. Workflows therefore only ever hold keys.
 */
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
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
  /** Writes a JSON document under `key` (the interpreter's own objects: mapped output parts). */
  putJson(key: string, json: string): Promise<void>;
  /** Reads an object as text. */
  getText(key: string): Promise<string>;
}

/**
 * Large documents recently loaded, by key, with their ETag. Every instance of a task mapped over
 * a large list loads that list to pick its element; without the cache 10,000 instances would
 * fetch and parse the same object 10,000 times. A HEAD request checks the ETag each time, so an
 * object rewritten by a re-run upstream task is never served stale. Small objects skip it.
 */
const CACHE_MIN_BYTES = 64 * 1024;
const CACHE_MAX_BYTES = 64 * 1024 * 1024;
const CACHE_ENTRIES = 4;

export function createOutputStore(s3: S3Client, bucket: string): OutputStore {
  const cache = new Map<string, { etag: string; value: unknown }>();
  const getText = async (key: string): Promise<string> => {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await object.Body?.transformToString('utf8')) ?? 'null';
  };
  /** The parsed document, and whether it is the cache's (shared) copy. */
  const fetchParsed = async (ref: OffloadedRef): Promise<[unknown, boolean]> => {
    const { key, bytes } = ref.$offloaded;
    if (bytes < CACHE_MIN_BYTES || bytes > CACHE_MAX_BYTES) return [JSON.parse(await getText(key)) as unknown, false];
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const hit = cache.get(key);
    if (hit && head.ETag !== undefined && hit.etag === head.ETag) return [hit.value, true];
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const value = JSON.parse((await object.Body?.transformToString('utf8')) ?? 'null') as unknown;
    cache.delete(key);
    if (object.ETag !== undefined) cache.set(key, { etag: object.ETag, value });
    if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
    return [value, object.ETag !== undefined];
  };
  const load = async (ref: OffloadedRef): Promise<unknown> => {
    const [document, shared] = await fetchParsed(ref);
    const value = getPath(document, ref.path ?? []);
    // A task may change what it was given: never hand out the cache's own copy.
    return shared ? structuredClone(value) : value;
  };
  const putJson = async (key: string, json: string): Promise<void> => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: json, ContentType: 'application/json' }));
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

  return { store, hydrate, load, putJson, getText };
}
