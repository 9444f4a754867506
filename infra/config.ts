/**
 * Sluice's settings, read from the environment once and validated with zod.
 *
 * Every server Sluice talks to is either *external* (its URL is set in the environment) or
 * *embedded* (the URL is unset, so `infra/dev-stack` starts a local server under SLUICE_HOME).
 * The `embedded` flag on each section makes that choice explicit, so callers never re-derive it
 * from which variables happen to be set.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export interface Config {
  /** Absolute path of the local state directory (dev server DB, Postgres data, S3 files, tools, logs). */
  home: string;
  temporal: {
    /** True when TEMPORAL_ADDRESS is unset: Sluice runs `temporal server start-dev` itself. */
    embedded: boolean;
    /** host:port of the frontend gRPC service. */
    address: string;
    namespace: string;
    /** Port the embedded server listens on (ignored when external). */
    port: number;
    /** Web UI port of the embedded server (ignored when external). */
    uiPort: number;
    /**
     * TLS to the frontend: undefined for plain gRPC (the embedded server); otherwise the files to
     * trust and present, by path (`infra/temporal-connection.ts` reads them). Empty `{}` is TLS
     * with the system's root certificates, as Temporal Cloud needs.
     */
    tls: TemporalTls | undefined;
    /** `TEMPORAL_API_KEY`: sent as a bearer token (Temporal Cloud API keys); a secret. */
    apiKey: string | undefined;
  };
  postgres: {
    /** True when DATABASE_URL is unset: Sluice runs an embedded Postgres under SLUICE_HOME. */
    embedded: boolean;
    /** Port, superuser and password of the embedded server (ignored when external). */
    port: number;
    user: string;
    password: string;
    /** Databases to create on the embedded server: the warehouse, and the source unless it is external. */
    embeddedDatabases: string[];
    /** Warehouse database. */
    databaseUrl: string;
    /** Source (OLTP) database. */
    sourceDatabaseUrl: string;
    /** `SLUICE_PG_POOL_MAX`: most warehouse connections one process (a worker, the console) holds. */
    poolMax: number;
    /** `SLUICE_SOURCE_PG_POOL_MAX`: most source-database connections one worker process holds. */
    sourcePoolMax: number;
  };
  s3: {
    /** True when S3_ENDPOINT is unset: Sluice runs `rclone serve s3` over SLUICE_HOME/s3. */
    embedded: boolean;
    /**
     * `embedded` (S3_ENDPOINT unset), `aws` (`S3_ENDPOINT=aws`: Amazon S3 itself, the SDK's own
     * endpoints, addressing and checksums) or `compatible` (any other S3 server at S3_ENDPOINT).
     */
    mode: S3Mode;
    /** Port the embedded server listens on (ignored when external). */
    port: number;
    /** The server's URL; for AWS the region's, for messages only (the SDK derives its own). */
    endpoint: string;
    /** `S3_FORCE_PATH_STYLE`: `http://host/bucket/key` addressing; default on except for AWS. */
    forcePathStyle: boolean;
    bucket: string;
    region: string;
    /** Static credentials; both undefined only for AWS, which then uses the SDK's default chain (IAM role, profile, SSO). */
    accessKeyId: string | undefined;
    secretAccessKey: string | undefined;
    sessionToken: string | undefined;
  };
  console: {
    port: number;
    /** `SLUICE_CONSOLE_HOST`: the address the console listens on; 127.0.0.1 by default, 0.0.0.0 in a container. */
    host: string;
    /** Fixed console token; when unset the console generates one into SLUICE_HOME. */
    token: string | undefined;
    /** `SLUICE_CONSOLE_URL`: the console's address as people reach it, for links in alerts; unset, alerts have none. */
    url: string | undefined;
  };
  alerts: {
    /**
     * `SLUICE_ALERT_WEBHOOK_URL`: where `notifyWebhook` posts (a Slack incoming webhook or any
     * endpoint taking Slack's `{ "text": ... }`). A secret: never logged or printed.
     */
    webhookUrl: string | undefined;
  };
  /** The folder of DAG modules (`SLUICE_DAGS_DIR`, default the repository's `dags/`). */
  dagsDir: string;
  worker: {
    /**
     * `SLUICE_WORKER_METRICS`: host:port where a worker's Temporal SDK serves its own Prometheus
     * metrics; unset, none (SLUICE_WORKER_HTTP's `/metrics` includes them either way).
     */
    metricsAddress: string | undefined;
    /** `SLUICE_WORKER_HTTP`: host:port of `/healthz`, `/readyz` and `/metrics` (Sluice's and the SDK's); unset, none. */
    httpAddress: string | undefined;
    /** `SLUICE_WORKER_QUEUES`: the task queues `sluice worker` serves (`--queues` overrides); unset, every DAG's. */
    queues: string[] | undefined;
    /** `SLUICE_WORKER_CONCURRENCY`: most tasks running at once per queue (`--concurrency` overrides); unset, the SDK's 100. */
    concurrency: number | undefined;
    /** `SLUICE_WORKER_SHUTDOWN_GRACE`: seconds running tasks may go on after SIGTERM before they are cancelled. */
    shutdownGraceSeconds: number;
    /**
     * `SLUICE_GATE_CHECK_INTERVAL_MS`: how often a maxActiveRuns or pool gate started by this
     * worker checks that its slot holders' runs are still open (a terminated run cannot give its
     * slots back). Default 30 s.
     */
    gateCheckIntervalMs: number;
  };
  /**
   * `SLUICE_POOLS` (`warehouse=4,api=2`): slot pools declared in config. `sluice up` and
   * `sluice worker` create the missing ones at start; a size changed since (`sluice pools set`,
   * the console) is kept.
   */
  pools: Array<{ name: string; slots: number }>;
  /** Explicit paths to the server binaries; when unset `ensureTool` finds or installs them. */
  tools: {
    temporal: string | undefined;
    rclone: string | undefined;
  };
}

export type S3Mode = 'embedded' | 'aws' | 'compatible';

export interface TemporalTls {
  /** `TEMPORAL_TLS_CERT` and `TEMPORAL_TLS_KEY`: the client certificate pair for mTLS. */
  clientCertPath?: string;
  clientKeyPath?: string;
  /** `TEMPORAL_TLS_CA`: the CA that signed the server's certificate, when the system does not trust it. */
  serverCaPath?: string;
  /** `TEMPORAL_TLS_SERVER_NAME`: the name to check the server's certificate against (SNI), when not the address's host. */
  serverName?: string;
}

const EMBEDDED_HOST = '127.0.0.1';
/** The `sluice worker` stop grace by default: the default task execution timeout, so a deploy never fails a task that would end. */
const DEFAULT_SHUTDOWN_GRACE_SECONDS = 3600;
/** `S3_ENDPOINT=aws`: Amazon S3 itself. */
const AWS_ENDPOINT = 'aws';
const DEFAULT_DAGS_DIR = path.resolve(__dirname, '../dags');
const EMBEDDED_PG_USER = 'postgres';
const EMBEDDED_PG_PASSWORD = 'postgres';
const WAREHOUSE_DB = 'sluice';
const SOURCE_DB = 'shop';

// An empty variable (`DATABASE_URL=` in an env file) means "unset", not "invalid". The schema
// passed in decides what "unset" becomes: `.optional()` or `.default(...)`.
const envVar = <T extends z.ZodType>(schema: T) => z.preprocess((v) => (v === '' ? undefined : v), schema);

const port = z.coerce
  .number({ error: 'must be a TCP port number' })
  .int({ error: 'must be a TCP port number' })
  .min(1, { error: 'must be a TCP port (1-65535)' })
  .max(65535, { error: 'must be a TCP port (1-65535)' });

const postgresUrl = z.url({
  protocol: /^postgres(ql)?$/,
  error: 'must be a postgres:// URL, e.g. postgres://user:password@host:5432/db',
});

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s):// URL' });

const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, { error: 'must be host:port, e.g. 127.0.0.1:7233' });

const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
  error: 'must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)',
});

const nonEmpty = z.string().trim().min(1, { error: 'must not be empty' });

/** `warehouse=4,api=2`: slot pools and their sizes (names as `sluice pools set` takes them). */
const poolList = z
  .string()
  .transform((text, ctx) => {
    const pools: Array<{ name: string; slots: number }> = [];
    for (const entry of text.split(',').map((e) => e.trim()).filter(Boolean)) {
      const match = /^([A-Za-z0-9_.-]{1,100})=(\d{1,5})$/.exec(entry);
      if (!match || Number(match[2]) > 10_000) {
        ctx.addIssue({ code: 'custom', message: `'${entry}' must be name=slots (a name of letters, digits, '_', '.' or '-'; 0 to 10000 slots)` });
        return z.NEVER;
      }
      pools.push({ name: match[1]!, slots: Number(match[2]) });
    }
    return pools;
  });

const flag = z.enum(['true', 'false', '1', '0'], { error: 'must be true or false' }).transform((v) => v === 'true' || v === '1');

const count = (what: string, max: number) =>
  z.coerce
    .number({ error: `must be a number of ${what}` })
    .int({ error: `must be a whole number of ${what}` })
    .min(1, { error: `must be at least 1` })
    .max(max, { error: `must be at most ${max}` });

const queueList = z
  .string()
  .transform((text) => text.split(',').map((q) => q.trim()).filter(Boolean))
  .refine((queues) => queues.length > 0, { error: 'must name at least one task queue (a,b)' });

const envSchema = z.object({
  TEMPORAL_ADDRESS: envVar(hostPort.optional()),
  TEMPORAL_NAMESPACE: envVar(nonEmpty.default('default')),
  TEMPORAL_PORT: envVar(port.default(7233)),
  TEMPORAL_UI_PORT: envVar(port.default(8233)),
  TEMPORAL_TLS: envVar(flag.optional()),
  TEMPORAL_TLS_CERT: envVar(nonEmpty.optional()),
  TEMPORAL_TLS_KEY: envVar(nonEmpty.optional()),
  TEMPORAL_TLS_CA: envVar(nonEmpty.optional()),
  TEMPORAL_TLS_SERVER_NAME: envVar(z.string().regex(/^[A-Za-z0-9.-]+$/, { error: 'must be a host name, e.g. temporal.internal' }).optional()),
  TEMPORAL_API_KEY: envVar(nonEmpty.optional()),
  SLUICE_CONSOLE_PORT: envVar(port.default(3000)),
  SLUICE_CONSOLE_HOST: envVar(
    z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)$/, { error: 'must be a host name or IP address, e.g. 0.0.0.0' }).default(EMBEDDED_HOST),
  ),
  SLUICE_CONSOLE_TOKEN: envVar(nonEmpty.optional()),
  DATABASE_URL: envVar(postgresUrl.optional()),
  SOURCE_DATABASE_URL: envVar(postgresUrl.optional()),
  SLUICE_PG_PORT: envVar(port.default(5433)),
  SLUICE_PG_POOL_MAX: envVar(count('connections', 1000).default(10)),
  SLUICE_SOURCE_PG_POOL_MAX: envVar(count('connections', 1000).default(5)),
  S3_ENDPOINT: envVar(
    z.string().refine((v) => v === AWS_ENDPOINT || httpUrl.safeParse(v).success, { error: "must be an http(s):// URL, or 'aws' for Amazon S3" }).optional(),
  ),
  S3_FORCE_PATH_STYLE: envVar(flag.optional()),
  S3_BUCKET: envVar(bucketName.default('lake')),
  SLUICE_S3_PORT: envVar(port.default(9000)),
  // Unset, they default to the embedded server's own credentials (see s3Settings), except for AWS.
  AWS_ACCESS_KEY_ID: envVar(nonEmpty.optional()),
  AWS_SECRET_ACCESS_KEY: envVar(nonEmpty.optional()),
  AWS_SESSION_TOKEN: envVar(nonEmpty.optional()),
  AWS_REGION: envVar(nonEmpty.optional()),
  SLUICE_HOME: envVar(nonEmpty.default('./.sluice')),
  TEMPORAL_CLI_PATH: envVar(nonEmpty.optional()),
  RCLONE_PATH: envVar(nonEmpty.optional()),
  SLUICE_DAGS_DIR: envVar(nonEmpty.optional()),
  SLUICE_WORKER_METRICS: envVar(hostPort.optional()),
  SLUICE_WORKER_HTTP: envVar(hostPort.optional()),
  SLUICE_WORKER_QUEUES: envVar(queueList.optional()),
  SLUICE_WORKER_CONCURRENCY: envVar(count('tasks', 10_000).optional()),
  SLUICE_WORKER_SHUTDOWN_GRACE: envVar(
    z.coerce
      .number({ error: 'must be a number of seconds' })
      .int({ error: 'must be a whole number of seconds' })
      .min(0, { error: 'must be 0 or more seconds' })
      .max(86_400, { error: 'must be at most 86400 (1 day)' })
      .default(DEFAULT_SHUTDOWN_GRACE_SECONDS),
  ),
  SLUICE_GATE_CHECK_INTERVAL_MS: envVar(
    z.coerce
      .number({ error: 'must be a number of milliseconds' })
      .int({ error: 'must be a whole number of milliseconds' })
      .min(1000, { error: 'must be at least 1000 (1 s)' })
      .max(3_600_000, { error: 'must be at most 3600000 (1 h)' })
      .default(30_000),
  ),
  SLUICE_POOLS: envVar(poolList.default([])),
  SLUICE_CONSOLE_URL: envVar(httpUrl.optional()),
  SLUICE_ALERT_WEBHOOK_URL: envVar(httpUrl.optional()),
});

/** Thrown when a setting is missing or malformed; the message names every offending variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads and validates Sluice's settings. Throws a {@link ConfigError} naming each bad variable
 * (never echoing its value, which may be a secret).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid Sluice configuration:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  const problems = [...temporalProblems(e), ...s3Problems(e), ...postgresProblems(e)];
  if (problems.length > 0) throw new ConfigError(`Invalid Sluice configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);

  const embeddedPgUrl = (db: string) =>
    `postgres://${EMBEDDED_PG_USER}:${EMBEDDED_PG_PASSWORD}@${EMBEDDED_HOST}:${e.SLUICE_PG_PORT}/${db}`;
  const databaseUrl = e.DATABASE_URL ?? embeddedPgUrl(WAREHOUSE_DB);
  // The source defaults to database `shop` on the warehouse's server, embedded or not, so that
  // pointing DATABASE_URL at an external server never silently starts an embedded one.
  const sourceDatabaseUrl = e.SOURCE_DATABASE_URL ?? withDatabase(databaseUrl, SOURCE_DB);
  const pgEmbedded = e.DATABASE_URL === undefined;

  return {
    home: path.resolve(e.SLUICE_HOME),
    temporal: {
      embedded: e.TEMPORAL_ADDRESS === undefined,
      address: e.TEMPORAL_ADDRESS ?? `${EMBEDDED_HOST}:${e.TEMPORAL_PORT}`,
      namespace: e.TEMPORAL_NAMESPACE,
      port: e.TEMPORAL_PORT,
      uiPort: e.TEMPORAL_UI_PORT,
      tls: temporalTls(e),
      apiKey: e.TEMPORAL_API_KEY,
    },
    postgres: {
      embedded: pgEmbedded,
      port: e.SLUICE_PG_PORT,
      user: EMBEDDED_PG_USER,
      password: EMBEDDED_PG_PASSWORD,
      embeddedDatabases: !pgEmbedded
        ? []
        : e.SOURCE_DATABASE_URL === undefined
          ? [WAREHOUSE_DB, SOURCE_DB]
          : [WAREHOUSE_DB],
      databaseUrl,
      sourceDatabaseUrl,
      poolMax: e.SLUICE_PG_POOL_MAX,
      sourcePoolMax: e.SLUICE_SOURCE_PG_POOL_MAX,
    },
    s3: s3Settings(e),
    console: {
      port: e.SLUICE_CONSOLE_PORT,
      host: e.SLUICE_CONSOLE_HOST,
      token: e.SLUICE_CONSOLE_TOKEN,
      url: e.SLUICE_CONSOLE_URL,
    },
    alerts: { webhookUrl: e.SLUICE_ALERT_WEBHOOK_URL },
    dagsDir: e.SLUICE_DAGS_DIR ? path.resolve(e.SLUICE_DAGS_DIR) : DEFAULT_DAGS_DIR,
    worker: {
      metricsAddress: e.SLUICE_WORKER_METRICS,
      httpAddress: e.SLUICE_WORKER_HTTP,
      queues: e.SLUICE_WORKER_QUEUES,
      concurrency: e.SLUICE_WORKER_CONCURRENCY,
      shutdownGraceSeconds: e.SLUICE_WORKER_SHUTDOWN_GRACE,
      gateCheckIntervalMs: e.SLUICE_GATE_CHECK_INTERVAL_MS,
    },
    pools: e.SLUICE_POOLS,
    tools: {
      temporal: e.TEMPORAL_CLI_PATH && path.resolve(e.TEMPORAL_CLI_PATH),
      rclone: e.RCLONE_PATH && path.resolve(e.RCLONE_PATH),
    },
  };
}

type Env = z.infer<typeof envSchema>;

/** TLS is on when asked for, or implied by a client certificate, a CA, a server name or an API key. */
function temporalTls(e: Env): TemporalTls | undefined {
  const implied = [e.TEMPORAL_TLS_CERT, e.TEMPORAL_TLS_CA, e.TEMPORAL_TLS_SERVER_NAME, e.TEMPORAL_API_KEY].some((v) => v !== undefined);
  if (!(e.TEMPORAL_TLS ?? implied)) return undefined;
  const file = (p: string | undefined) => p && path.resolve(p);
  return {
    ...(e.TEMPORAL_TLS_CERT ? { clientCertPath: file(e.TEMPORAL_TLS_CERT), clientKeyPath: file(e.TEMPORAL_TLS_KEY) } : {}),
    ...(e.TEMPORAL_TLS_CA ? { serverCaPath: file(e.TEMPORAL_TLS_CA) } : {}),
    ...(e.TEMPORAL_TLS_SERVER_NAME ? { serverName: e.TEMPORAL_TLS_SERVER_NAME } : {}),
  };
}

function temporalProblems(e: Env): string[] {
  const problems: string[] = [];
  const tlsVars = (['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_API_KEY'] as const).filter((k) => e[k] !== undefined);
  if ((e.TEMPORAL_TLS || tlsVars.length > 0) && e.TEMPORAL_ADDRESS === undefined) {
    problems.push(`${[...(e.TEMPORAL_TLS ? ['TEMPORAL_TLS'] : []), ...tlsVars].join(', ')}: need TEMPORAL_ADDRESS (the embedded dev server speaks plain gRPC)`);
  }
  if (e.TEMPORAL_TLS === false && tlsVars.length > 0) {
    problems.push(`TEMPORAL_TLS: is false, but ${tlsVars.join(', ')} need TLS (Temporal Cloud takes API keys over TLS only)`);
  }
  if ((e.TEMPORAL_TLS_CERT === undefined) !== (e.TEMPORAL_TLS_KEY === undefined)) {
    problems.push('TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY: set both (the client certificate and its private key) or neither');
  }
  problems.push(
    ...pemProblem('TEMPORAL_TLS_CERT', e.TEMPORAL_TLS_CERT, CERTIFICATE_PEM),
    ...pemProblem('TEMPORAL_TLS_KEY', e.TEMPORAL_TLS_KEY, PRIVATE_KEY_PEM),
    ...pemProblem('TEMPORAL_TLS_CA', e.TEMPORAL_TLS_CA, CERTIFICATE_PEM),
  );
  return problems;
}

const CERTIFICATE_PEM = { pattern: /-----BEGIN CERTIFICATE-----/, what: 'a PEM certificate (-----BEGIN CERTIFICATE-----)' };
const PRIVATE_KEY_PEM = { pattern: /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/, what: 'a PEM private key (-----BEGIN PRIVATE KEY-----)' };

/** Reads a certificate or key file now, so a wrong path fails at start; names the file, never shows its content. */
function pemProblem(variable: string, file: string | undefined, expected: { pattern: RegExp; what: string }, label = variable): string[] {
  if (file === undefined) return [];
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(file), 'utf8');
  } catch (err) {
    return [`${label}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`];
  }
  return expected.pattern.test(text) ? [] : [`${label}: ${file} is not ${expected.what}`];
}

function s3Settings(e: Env): Config['s3'] {
  const mode: S3Mode = e.S3_ENDPOINT === undefined ? 'embedded' : e.S3_ENDPOINT === AWS_ENDPOINT ? 'aws' : 'compatible';
  // Off AWS, unset keys are the embedded server's own credentials; they protect nothing outside this machine.
  const keys =
    mode === 'aws'
      ? { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY }
      : { accessKeyId: e.AWS_ACCESS_KEY_ID ?? 'sluice', secretAccessKey: e.AWS_SECRET_ACCESS_KEY ?? 'sluice-local-secret' };
  return {
    embedded: mode === 'embedded',
    mode,
    port: e.SLUICE_S3_PORT,
    endpoint:
      mode === 'aws'
        ? `https://s3.${e.AWS_REGION ?? 'us-east-1'}.amazonaws.com`
        : (e.S3_ENDPOINT ?? `http://${EMBEDDED_HOST}:${e.SLUICE_S3_PORT}`),
    // Local servers have no per-bucket DNS names; AWS deprecates path style.
    forcePathStyle: e.S3_FORCE_PATH_STYLE ?? mode !== 'aws',
    bucket: e.S3_BUCKET,
    region: e.AWS_REGION ?? 'us-east-1',
    ...keys,
    sessionToken: e.AWS_SESSION_TOKEN,
  };
}

function s3Problems(e: Env): string[] {
  if (e.S3_ENDPOINT !== AWS_ENDPOINT) return [];
  const problems: string[] = [];
  if (e.AWS_REGION === undefined) problems.push("AWS_REGION: required with S3_ENDPOINT=aws (the bucket's region, e.g. eu-west-1)");
  if ((e.AWS_ACCESS_KEY_ID === undefined) !== (e.AWS_SECRET_ACCESS_KEY === undefined)) {
    problems.push('AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: set both, or neither to use the default credential chain (IAM role, profile, SSO)');
  }
  return problems;
}

/** The SSL modes of libpq that node-postgres can honour (it has no fallback to plain text, so no `prefer` or `allow`). */
const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full', 'no-verify'];

function postgresProblems(e: Env): string[] {
  return [
    ...postgresUrlProblems('DATABASE_URL', e.DATABASE_URL),
    ...postgresUrlProblems('SOURCE_DATABASE_URL', e.SOURCE_DATABASE_URL),
  ];
}

function postgresUrlProblems(variable: string, url: string | undefined): string[] {
  if (url === undefined) return [];
  const params = new URL(url).searchParams;
  const sslmode = params.get('sslmode');
  const problems: string[] = [];
  if (sslmode === 'prefer' || sslmode === 'allow') {
    problems.push(`${variable}: sslmode=${sslmode} is not supported (node-postgres cannot fall back to plain text); use require or disable`);
  } else if (sslmode !== null && !SSL_MODES.includes(sslmode)) {
    problems.push(`${variable}: sslmode must be one of ${SSL_MODES.join(', ')}`);
  }
  if (sslmode === 'verify-ca' && !params.get('sslrootcert')) {
    problems.push(`${variable}: sslmode=verify-ca needs sslrootcert=<path of the server's CA certificate>`);
  }
  const file = (name: string, expected: { pattern: RegExp; what: string }) => {
    const value = params.get(name);
    return value ? pemProblem(variable, value, expected, `${variable} (${name})`) : [];
  };
  problems.push(...file('sslrootcert', CERTIFICATE_PEM), ...file('sslcert', CERTIFICATE_PEM), ...file('sslkey', PRIVATE_KEY_PEM));
  return problems;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export const REDACTED = '***';
const SECRET_KEY = /secret|password|token|authorization|webhook|apikey/i;

/** Replaces the password of a URL (`postgres://user:***@host/db`); other strings pass through. */
export function redactUrl(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  try {
    const u = new URL(value);
    if (!u.password) return value;
    u.password = REDACTED;
    return u.toString();
  } catch {
    return value;
  }
}

/**
 * A copy of the config that is safe to print: values under secret-looking keys become '***' and
 * URL passwords are masked. Keyed by name rather than by field so that new secrets are covered.
 */
export function redactedConfig(config: Config): Config {
  return redactValue(config) as Config;
}

function redactValue(value: unknown, key = ''): unknown {
  if (value === undefined) return undefined;
  if (SECRET_KEY.test(key)) return REDACTED;
  if (typeof value === 'string') return redactUrl(value);
  if (Array.isArray(value)) return value.map((v) => redactValue(v));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(v, k)]));
  }
  return value;
}
