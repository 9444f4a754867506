/**
 * Helpers for tests of the shipped pipeline DAGs: the DAGs compiled onto a test task queue, a
 * run for one day, and fingerprints of the warehouse and the lake to prove a rerun changed nothing.
 */
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import path from 'node:path';
import { loadDagFolder, type AnyTaskDef } from '../../dags/sdk';
import { startDagRun } from '../../server/client/start-run';
import { waitForOutcome } from '../../server/client/wait';
import type { DagSpec } from '../../workflows/spec';

const DAGS_DIR = path.resolve(__dirname, '../../dags');

/** The repository's DAGs, with their specs moved to `taskQueue`, and every task they use. */
export function shippedDags(taskQueue: string): { specs: Map<string, DagSpec>; tasks: AnyTaskDef[] } {
  const loaded = loadDagFolder(DAGS_DIR);
  if (loaded.errors.length > 0) throw new Error(`the shipped DAGs do not load:\n${loaded.errors.join('\n')}`);
  return { specs: new Map(loaded.dags.map((d) => [d.spec.dagId, { ...d.spec, taskQueue }])), tasks: loaded.tasks };
}

/** The logical date of the daily run that loads `day` (its data interval is that UTC day). */
export function dailyRunDate(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000);
}

/** Runs `spec` for `logicalDate` and waits for it to close; returns the final state and run id. */
export async function runAndWait(client: Client, spec: DagSpec, logicalDate: Date, options: { rerun?: boolean } = {}): Promise<{ runId: string; state: string; failedTasks: string[] }> {
  const run = await startDagRun(client, spec, { logicalDate, params: {}, trigger: 'manual', rerun: options.rerun });
  const outcome = await waitForOutcome(run.handle);
  return { runId: run.runId, state: outcome.state, failedTasks: outcome.tasks.filter((t) => t.state === 'failed').map((t) => `${t.id}: ${t.error ?? ''}`) };
}

/** md5 over a table's rows (minus `exclude` columns) in a stable order: equal fingerprints, equal data. */
export async function tableFingerprint(db: Knex, table: string, orderBy: string, exclude: readonly string[] = [], where = 'true'): Promise<string> {
  const columns = await db('information_schema.columns')
    .where({ table_schema: table.split('.')[0], table_name: table.split('.')[1] })
    .orderBy('ordinal_position')
    .pluck('column_name');
  const kept = (columns as string[]).filter((c) => !exclude.includes(c)).map((c) => `"${c}"`);
  const row = await db.raw<{ rows: { fp: string | null; n: string }[] }>(`select md5(string_agg(t::text, '|' order by ${orderBy})) as fp, count(*) as n from (select ${kept.join(', ')} from ${table} where ${where}) t`);
  return `${String(row.rows[0]?.n)}:${String(row.rows[0]?.fp)}`;
}

/** Every object under `prefix` with its ETag and size, sorted by key. */
export async function lakeListing(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.push(`${String(o.Key)} ${String(o.ETag)} ${String(o.Size)}`);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out.sort();
}
