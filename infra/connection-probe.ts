/**
 * `sluice connections test`: one cheap request per connection, through the same pool tasks use.
 * pg runs `select 1`; s3 lists one key under the bucket and prefix; http sends a HEAD to the base
 * URL and counts any answer but 401, 403 and 5xx as reachable (an API's root often answers 404).
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { REDACTED } from './config';
import type { ConnectionPool } from './connection-pool';
import { decode, type ConnectionEntry, type ConnectionSpec } from './connections';

export interface ProbeResult {
  ok: boolean;
  /** What was checked, or why it failed (secrets masked). */
  detail: string;
  ms: number;
}

const TIMEOUT_MS = 10_000;

export async function probeConnection(pool: ConnectionPool, entry: ConnectionEntry, timeoutMs = TIMEOUT_MS): Promise<ProbeResult> {
  const started = Date.now();
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    // A pg pool waits up to a minute for a connection; the race keeps a dead host to the timeout.
    const detail = await Promise.race([
      probe(pool, entry, signal),
      sleep(timeoutMs, undefined, { ref: false }).then(() => {
        throw new Error(`no answer within ${timeoutMs / 1000} s`);
      }),
    ]);
    return { ok: true, detail, ms: Date.now() - started };
  } catch (err) {
    return { ok: false, detail: mask(describe(err), secretsOf(entry.spec)), ms: Date.now() - started };
  }
}

async function probe(pool: ConnectionPool, { name, spec }: ConnectionEntry, signal: AbortSignal): Promise<string> {
  switch (spec.kind) {
    case 'pg':
      await pool.pg(name).raw('select 1');
      return 'select 1';
    case 's3': {
      const { client, bucket, prefix } = pool.s3(name);
      const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }), { abortSignal: signal });
      return `listed s3://${bucket}/${prefix}: ${listed.Contents?.length ? 'has objects' : 'empty'}`;
    }
    case 'http': {
      const response = await pool.http(name).fetch('', { method: 'HEAD', signal });
      const status = `HTTP ${response.status} from HEAD ${spec.baseUrl}`;
      if (response.status === 401 || response.status === 403 || response.status >= 500) throw new Error(status);
      return status;
    }
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as { code?: string }).code;
  // Node's network errors often sit in `cause` behind a bare "fetch failed".
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${err.message || err.name}${code && !err.message.includes(code) ? ` (${code})` : ''}${cause}`;
}

/** Drivers may quote a connection string in an error; its secrets never reach the terminal. */
function mask(message: string, secrets: string[]): string {
  return secrets.filter((s) => s.length > 0).reduce((m, s) => m.split(s).join(REDACTED), message);
}

function secretsOf(spec: ConnectionSpec): string[] {
  switch (spec.kind) {
    case 'pg': {
      const password = new URL(spec.url).password;
      return [spec.url, password, decode(password)];
    }
    case 's3':
      return spec.credentials ? [spec.credentials.secretAccessKey] : [];
    case 'http':
      return spec.auth ? [spec.auth.password] : [];
  }
}
