/**
 * Named connections: the built-ins (`warehouse`, `source`, `lake`) and the user's, parsed from
 * URIs into typed specs. URI forms (the README's "Connections and variables" documents them):
 *
 *   postgres://user:password@host:5432/database?sslmode=require   (or postgresql://)
 *   s3://[key:secret@]bucket[/prefix][?endpoint=http://host:9000&region=eu-west-1]
 *   http(s)://[user:password@]host[:port][/base/path]
 *
 * An s3 URI without endpoint, region or credentials reuses the lake's S3 server and client, so
 * `s3://other-bucket` works locally as it does in production.
 */
import { z } from 'zod';
import { ConfigError, REDACTED, type Config } from './config';
import { readSecretSettings, type SecretSettings, type Setting } from './secrets';
import type { ConnectionKind } from '../dags/sdk/connections';

export interface PgSpec {
  kind: 'pg';
  /** The connection string, password included: never print it. */
  url: string;
}
export interface S3Spec {
  kind: 's3';
  bucket: string;
  /** '' or a key prefix ending in '/'. */
  prefix: string;
  /** Overrides of the lake's settings; with none, the lake's client is reused. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}
export interface HttpSpec {
  kind: 'http';
  /** Without credentials and without a trailing '/'. */
  baseUrl: string;
  auth?: { username: string; password: string };
}
export type ConnectionSpec = PgSpec | S3Spec | HttpSpec;

export type ConnectionSource = 'env' | 'file' | 'built-in';

export interface ConnectionEntry {
  name: string;
  source: ConnectionSource;
  /** The URI with its password and secret-looking parameters masked: safe to print. */
  uri: string;
  spec: ConnectionSpec;
}

/** Always present, from DATABASE_URL, SOURCE_DATABASE_URL and the S3 settings; not redefinable. */
const BUILT_IN_CONNECTIONS: Readonly<Record<string, ConnectionKind>> = { warehouse: 'pg', source: 'pg', lake: 's3' };

const SCHEMES = 'postgres://, postgresql://, s3://, http:// or https://';
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const S3_PARAMS = ['endpoint', 'region'];
const SECRET_PARAM = /pass|secret|token|key|sig|credential/i;

/** A connection URI as a typed spec. Messages describe the problem without quoting the URI. */
export const connectionUri = z.string().transform((uri, ctx): ConnectionSpec => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return fail(`not a URI; expected ${SCHEMES}`);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return fail(`not a valid ${scheme}:// URI`);
  }
  if (url.hash) return fail('a connection URI takes no #fragment');
  switch (scheme) {
    case 'postgres':
    case 'postgresql':
      // `?host=/var/run/postgresql` is how libpq URIs name a Unix socket instead.
      if (!url.hostname && !url.searchParams.has('host')) return fail('needs a host: postgres://user:password@host:5432/database');
      return { kind: 'pg', url: uri };
    case 's3':
      return s3Spec(url, fail);
    case 'http':
    case 'https':
      if (!url.hostname) return fail(`needs a host: ${scheme}://host[:port][/path]`);
      if (url.search) return fail('an http URI takes no ?query; pass it to fetch(path)');
      return {
        kind: 'http',
        baseUrl: `${url.protocol}//${url.host}${url.pathname}`.replace(/\/+$/, ''),
        ...(url.username || url.password ? { auth: { username: decode(url.username), password: decode(url.password) } } : {}),
      };
    default:
      return fail(`unsupported scheme '${scheme}://'; use ${SCHEMES}`);
  }
});

function s3Spec(url: URL, fail: (message: string) => never): S3Spec {
  if (!BUCKET.test(url.hostname)) return fail('the bucket (s3://bucket/...) must be 3-63 lowercase letters, digits, dots or hyphens');
  if (Boolean(url.username) !== Boolean(url.password)) return fail('give both key and secret (s3://key:secret@bucket) or neither');
  const unknown = [...url.searchParams.keys()].filter((k) => !S3_PARAMS.includes(k));
  if (unknown.length > 0) return fail(`unknown parameter(s) ${unknown.map((k) => `'${k}'`).join(', ')}; s3 URIs take ${S3_PARAMS.join(' and ')}`);
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/?#]+/.test(endpoint)) return fail('endpoint must be an http(s):// URL');
  const region = url.searchParams.get('region') ?? undefined;
  if (region === '') return fail('region must not be empty');
  const path = decode(url.pathname.replace(/^\/+/, ''));
  return {
    kind: 's3',
    bucket: url.hostname,
    prefix: path === '' || path.endsWith('/') ? path : `${path}/`,
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
    ...(url.username ? { credentials: { accessKeyId: decode(url.username), secretAccessKey: decode(url.password) } } : {}),
  };
}

/** A percent-encoded URI part decoded; left as it is when it is not valid encoding. */
export function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** The URI with its password and secret-looking query parameters replaced by '***'. */
export function redactUri(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    // Whatever it is, it may hold a secret.
    return '(invalid URI)';
  }
  if (url.password) url.password = REDACTED;
  for (const key of [...url.searchParams.keys()]) if (SECRET_PARAM.test(key)) url.searchParams.set(key, REDACTED);
  return url.toString();
}

/** Connections and variables as the worker and the CLI see them. */
export interface LoadedConnections {
  file: SecretSettings['file'];
  connections: ConnectionEntry[];
  variables: Setting[];
}

/**
 * Reads, validates and parses every connection (built-ins first) and variable.
 * @throws ConfigError naming each bad env variable or file key, never its value.
 */
export function loadConnections(config: Config, env: NodeJS.ProcessEnv = process.env): LoadedConnections {
  const settings = readSecretSettings(env, config.home);
  return { file: settings.file, connections: connectionCatalog(config, settings.connections), variables: settings.variables };
}

/** The built-ins, then the user's connections parsed. */
export function connectionCatalog(config: Config, settings: readonly Setting[]): ConnectionEntry[] {
  const problems: string[] = [];
  const entries = builtIns(config);
  for (const setting of settings) {
    const builtIn = BUILT_IN_CONNECTIONS[setting.name];
    if (builtIn) {
      problems.push(`${setting.origin}: '${setting.name}' is a built-in ${builtIn} connection and cannot be redefined; choose another name`);
      continue;
    }
    const parsed = connectionUri.safeParse(setting.value);
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((issue) => `${setting.origin}: ${issue.message}`));
      continue;
    }
    entries.push({ name: setting.name, source: setting.source, uri: redactUri(setting.value), spec: parsed.data });
  }
  if (problems.length > 0) throw new ConfigError(`Invalid connections:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  return entries;
}

function builtIns(config: Config): ConnectionEntry[] {
  const pg = (name: string, url: string): ConnectionEntry => ({ name, source: 'built-in', uri: redactUri(url), spec: { kind: 'pg', url } });
  const { bucket, endpoint } = config.s3;
  return [
    pg('warehouse', config.postgres.databaseUrl),
    pg('source', config.postgres.sourceDatabaseUrl),
    { name: 'lake', source: 'built-in', uri: `s3://${bucket}?endpoint=${endpoint}`, spec: { kind: 's3', bucket, prefix: '' } },
  ];
}
