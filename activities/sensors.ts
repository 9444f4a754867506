/**
 * Reusable sensors. Each poke is one short activity; the `dagRun` workflow waits between pokes on
 * a durable timer, so a sensor waiting six hours holds no worker slot. A poke never loops or
 * sleeps itself.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, NotFound } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/activity';
import picomatch from 'picomatch';
import { glob as findFiles } from 'tinyglobby';
import { z } from 'zod';
import { defineSensor, type S3Connection } from '../dags/sdk';
import { runIdFor } from '../server/client/run-id';

/** Exactly one of `key`, `prefix` or `glob`. */
type OneOf<T> = { [K in keyof T]: Pick<T, K> & { [O in Exclude<keyof T, K>]?: never } }[keyof T];

/**
 * What `s3KeySensor` waits for, in a named s3 connection (default `lake`); keys are relative to
 * the connection's prefix.
 * - `key`: that exact object. A key ending in '/' means any object under it, like `prefix`.
 * - `prefix`: any object under it, e.g. a partition `landing/partner_sales/dt=2026-11-21/`.
 * - `glob`: any key matching it, e.g. `landing/partner_sales/dt=2026-11-21/*.csv`; `*` stays
 *   within one path segment, `**` crosses them.
 */
export type S3KeySensorInput = OneOf<{ key: string; prefix: string; glob: string }> & { connection?: string };

/** What `fileSensor` waits for on the worker's filesystem: an absolute `path`, or any file matching an absolute `glob`. */
export type FileSensorInput = OneOf<{ path: string; glob: string }> & {
  /** Count only files of at least this many bytes (a partner's upload still at 0 bytes is not there yet). */
  minBytes?: number;
};

const text = z.string().min(1, { error: 'must be a non-empty string' });
const exactlyOne = (keys: readonly string[]) => (input: Record<string, unknown>) =>
  keys.filter((k) => input[k] !== undefined).length === 1;

const s3Input = z
  .strictObject({ key: text.optional(), prefix: text.optional(), glob: text.optional(), connection: text.optional() })
  .refine(exactlyOne(['key', 'prefix', 'glob']), { error: 'give exactly one of key, prefix or glob' });

const absolute = text.refine((p) => path.isAbsolute(p), {
  error: "must be absolute: the worker's working directory is no place a DAG should depend on",
});
const fileInput = z
  .strictObject({ path: absolute.optional(), glob: absolute.optional(), minBytes: z.int().min(0).optional() })
  .refine(exactlyOne(['path', 'glob']), { error: 'give exactly one of path or glob' });

/** A bad input fails the task at once: no retry can fix it. */
function parseInput<T>(sensor: string, schema: z.ZodType<T>, input: unknown): T {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message));
  throw ApplicationFailure.nonRetryable(`${sensor}: invalid input: ${problems.join('; ')}`, 'InvalidSensorInput');
}

/** True once the awaited object exists in the S3 connection (default the lake). */
export const s3KeySensor = defineSensor('s3KeySensor', async (raw: S3KeySensorInput, ctx) => {
  const input = parseInput('s3KeySensor', s3Input, raw);
  const s3 = ctx.conn.s3(input.connection ?? 'lake');
  const found =
    input.glob !== undefined
      ? await firstMatch(s3, input.glob)
      : input.prefix !== undefined || input.key?.endsWith('/')
        ? await firstUnder(s3, (input.prefix ?? input.key) as string)
        : await exists(s3, input.key as string);
  if (found) ctx.log.info({ bucket: s3.bucket, key: found }, 'found');
  return found !== undefined;
});

async function exists({ client, bucket, prefix }: S3Connection, key: string): Promise<string | undefined> {
  try {
    await client.send(new HeadObjectCommand({ Bucket: bucket, Key: prefix + key }));
    return prefix + key;
  } catch (err) {
    if (err instanceof NotFound || (err as { name?: string }).name === 'NotFound') return undefined;
    throw err;
  }
}

async function firstUnder({ client, bucket, prefix }: S3Connection, under: string): Promise<string | undefined> {
  const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix + under, MaxKeys: 1 }));
  return listed.Contents?.[0]?.Key;
}

/** Lists only under the glob's literal beginning, page by page, and stops at the first match. */
async function firstMatch({ client, bucket, prefix }: S3Connection, glob: string): Promise<string | undefined> {
  const matches = picomatch(glob);
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix + literalPrefix(glob), ContinuationToken: token }),
    );
    const hit = page.Contents?.find((o) => o.Key !== undefined && matches(o.Key.slice(prefix.length)));
    if (hit) return hit.Key;
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return undefined;
}

/**
 * The part of a glob before its first special character: every match starts with it, so listing
 * under it finds them all. Stopping at any character that may be special (even `+` or `@`,
 * special only before `(`) lists more, never less.
 */
export function literalPrefix(glob: string): string {
  const special = glob.search(/[*?[\]{}()!+@\\]/);
  return special === -1 ? glob : glob.slice(0, special);
}

/**
 * True once a file exists on the worker's filesystem: `path` (a file or directory), or any file
 * matching `glob`; with `minBytes`, only files at least that big count. With several worker
 * machines, the file must be on a volume every worker of the task queue sees.
 */
export const fileSensor = defineSensor('fileSensor', async (raw: FileSensorInput, ctx) => {
  const input = parseInput('fileSensor', fileInput, raw);
  const candidates = input.path !== undefined ? [input.path] : await findFiles(input.glob as string, { absolute: true, expandDirectories: false });
  for (const candidate of candidates) {
    const info = await stat(candidate).catch((err: NodeJS.ErrnoException) => {
      // Gone between listing and stat, or never there: not found yet, not a failure.
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return undefined;
      throw err;
    });
    if (info && (input.minBytes === undefined || (info.isFile() && info.size >= input.minBytes))) {
      ctx.log.info({ path: candidate, bytes: info.size }, 'found');
      return true;
    }
  }
  return false;
});

/**
 * True once a SQL query returns a row whose first column is true, e.g.
 * `select count(*) > 0 from ops.audit_log where dt = ?` with `bindings: [day]`. It runs on the
 * warehouse unless `connection` names another pg connection.
 */
export const sqlSensor = defineSensor(
  'sqlSensor',
  async (input: { sql: string; bindings?: Array<string | number | boolean>; connection?: string }, ctx) => {
    const result = await ctx.conn.pg(input.connection ?? 'warehouse').raw(input.sql, input.bindings ?? []);
    const row = (result.rows as Array<Record<string, unknown>>)[0];
    return row !== undefined && Object.values(row)[0] === true;
  },
);

/**
 * What `dagRunSensor` waits for: a successful run of DAG `dagId` for `logicalDate` (an ISO
 * instant). Pass `ctx.logicalDate` for "the same logical date", Airflow's ExternalTaskSensor.
 */
export interface DagRunSensorInput {
  dagId: string;
  logicalDate: string;
}

const dagRunInput = z.strictObject({ dagId: text, logicalDate: z.iso.datetime({ offset: true, error: 'must be an ISO instant, e.g. 2026-11-22T00:00:00Z' }) });

/**
 * True once DAG `dagId` has a successful run for `logicalDate`, read from the run history
 * (`sluice.dag_runs`), so it sees runs of every kind: scheduled, manual, backfill. Only the
 * date's real run id (`<dagId>-<logical date>`) counts, not `dags test` runs.
 *
 * Like Airflow's ExternalTaskSensor with `failed_states`, it fails at once, without retries,
 * when that run's newest execution failed: waiting out the timeout would only hide the cause.
 * After fixing the upstream run (`sluice retry <runId>`), retry the sensor. A run still running
 * or awaiting an operator, or none at all yet, means keep waiting.
 */
export const dagRunSensor = defineSensor('dagRunSensor', async (raw: DagRunSensorInput, ctx) => {
  const input = parseInput('dagRunSensor', dagRunInput, raw);
  const runId = runIdFor(input.dagId, new Date(input.logicalDate));
  const executions: Array<{ state: string; reason: string | null }> = await ctx.resources.warehouse
    .withSchema('sluice')
    .table('dag_runs')
    .where('run_id', runId)
    .orderBy('started_at', 'desc')
    .select('state', 'reason');
  if (executions.some((e) => e.state === 'success')) {
    ctx.log.info({ runId }, 'upstream run succeeded');
    return true;
  }
  const newest = executions[0];
  if (newest?.state === 'failed') {
    throw ApplicationFailure.nonRetryable(
      `dagRunSensor: upstream run ${runId} failed${newest.reason ? ` (${newest.reason})` : ''}; fix it (sluice retry ${runId}), then retry this task`,
      'UpstreamRunFailed',
    );
  }
  ctx.log.info({ runId, state: newest?.state ?? 'not started' }, 'waiting for upstream run');
  return false;
});
