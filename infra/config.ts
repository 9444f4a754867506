/**
 * Sluice's settings, read from the environment once and validated with zod.
 *
 * Every server Sluice talks to is either *external* (its URL is set in the environment) or
 * *embedded* (the URL is unset, so `infra/dev-stack` starts a local server under SLUICE_HOME).
 * The `embedded` flag on each section makes that choice explicit, so callers never re-derive it
 * from which variables happen to be set.
 */
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
  };
  s3: {
    /** True when S3_ENDPOINT is unset: Sluice runs `rclone serve s3` over SLUICE_HOME/s3. */
    embedded: boolean;
    /** Port the embedded server listens on (ignored when external). */
    port: number;
    endpoint: string;
    bucket: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
  };
  console: {
    port: number;
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
    /** `SLUICE_WORKER_METRICS`: host:port where a worker serves the Temporal SDK's Prometheus metrics; unset, none. */
    metricsAddress: string | undefined;
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

const EMBEDDED_HOST = '127.0.0.1';
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

const envSchema = z.object({
  TEMPORAL_ADDRESS: envVar(hostPort.optional()),
  TEMPORAL_NAMESPACE: envVar(nonEmpty.default('default')),
  TEMPORAL_PORT: envVar(port.default(7233)),
  TEMPORAL_UI_PORT: envVar(port.default(8233)),
  SLUICE_CONSOLE_PORT: envVar(port.default(3000)),
  SLUICE_CONSOLE_TOKEN: envVar(nonEmpty.optional()),
  DATABASE_URL: envVar(postgresUrl.optional()),
  SOURCE_DATABASE_URL: envVar(postgresUrl.optional()),
  SLUICE_PG_PORT: envVar(port.default(5433)),
  S3_ENDPOINT: envVar(httpUrl.optional()),
  S3_BUCKET: envVar(bucketName.default('lake')),
  SLUICE_S3_PORT: envVar(port.default(9000)),
  // Defaults are the embedded server's own credentials; they protect nothing outside this machine.
  AWS_ACCESS_KEY_ID: envVar(nonEmpty.default('sluice')),
  AWS_SECRET_ACCESS_KEY: envVar(nonEmpty.default('sluice-local-secret')),
  AWS_REGION: envVar(nonEmpty.default('us-east-1')),
  SLUICE_HOME: envVar(nonEmpty.default('./.sluice')),
  TEMPORAL_CLI_PATH: envVar(nonEmpty.optional()),
  RCLONE_PATH: envVar(nonEmpty.optional()),
  SLUICE_DAGS_DIR: envVar(nonEmpty.optional()),
  SLUICE_WORKER_METRICS: envVar(hostPort.optional()),
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
    },
    s3: {
      embedded: e.S3_ENDPOINT === undefined,
      port: e.SLUICE_S3_PORT,
      endpoint: e.S3_ENDPOINT ?? `http://${EMBEDDED_HOST}:${e.SLUICE_S3_PORT}`,
      bucket: e.S3_BUCKET,
      region: e.AWS_REGION,
      accessKeyId: e.AWS_ACCESS_KEY_ID,
      secretAccessKey: e.AWS_SECRET_ACCESS_KEY,
    },
    console: {
      port: e.SLUICE_CONSOLE_PORT,
      token: e.SLUICE_CONSOLE_TOKEN,
      url: e.SLUICE_CONSOLE_URL,
    },
    alerts: { webhookUrl: e.SLUICE_ALERT_WEBHOOK_URL },
    dagsDir: e.SLUICE_DAGS_DIR ? path.resolve(e.SLUICE_DAGS_DIR) : DEFAULT_DAGS_DIR,
    worker: { metricsAddress: e.SLUICE_WORKER_METRICS, gateCheckIntervalMs: e.SLUICE_GATE_CHECK_INTERVAL_MS },
    pools: e.SLUICE_POOLS,
    tools: {
      temporal: e.TEMPORAL_CLI_PATH && path.resolve(e.TEMPORAL_CLI_PATH),
      rclone: e.RCLONE_PATH && path.resolve(e.RCLONE_PATH),
    },
  };
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export const REDACTED = '***';
const SECRET_KEY = /secret|password|token|authorization|webhook/i;

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
