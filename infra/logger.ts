/**
 * One pino logger for the whole process; `createLogger(name)` hands out children tagged with a
 * component name.
 *
 * Logs go to stderr so that stdout stays clean for command output (`sluice ... --json`).
 * They are JSON unless stderr is an interactive terminal outside CI, where pino-pretty makes them
 * readable. Secrets are redacted by key; database URLs keep everything but their password, so a
 * log line still says which database was meant.
 */
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { z } from 'zod';
import { ConfigError, REDACTED, redactUrl } from './config';

export type { Logger };

// Every Sluice process (CLI, worker, test runner and the tests it spawns) loads this module before
// it builds an S3 client. On Node 20 the AWS SDK then prints a multi-line NodeVersionSupportWarning
// on every start; this is the SDK's own switch for that one warning (aws/aws-sdk-js-v3#7983).
// Other warnings still print, and an explicit setting wins.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

// `uri`: named connections (SLUICE_CONN_<NAME>), whose URIs may carry a password.
const URL_KEYS = ['databaseUrl', 'sourceDatabaseUrl', 'DATABASE_URL', 'SOURCE_DATABASE_URL', 'uri'];
const SECRET_KEYS = [
  ...URL_KEYS,
  'password',
  'secret',
  'secretAccessKey',
  'token',
  'authorization',
  'cookie',
  'AWS_SECRET_ACCESS_KEY',
  'SLUICE_CONSOLE_TOKEN',
  // An alert webhook's URL is its credential (Slack's carry the token in the path).
  'webhookUrl',
  'SLUICE_ALERT_WEBHOOK_URL',
];
// fast-redact paths: each key at the top level, one level down, and in request headers.
const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `req.headers.${k}`]);

let root: Logger | undefined;

function logLevel(): (typeof LEVELS)[number] {
  const parsed = z.enum(LEVELS).safeParse(process.env.LOG_LEVEL || 'info');
  if (!parsed.success) {
    throw new ConfigError(`Invalid Sluice configuration:\n  LOG_LEVEL: must be one of ${LEVELS.join(', ')}`);
  }
  return parsed.data;
}

function rootLogger(): Logger {
  if (root) return root;
  const options: pino.LoggerOptions = {
    level: logLevel(),
    redact: {
      paths: REDACT_PATHS,
      censor: (value, path) =>
        typeof value === 'string' && URL_KEYS.includes(path.at(-1) ?? '') ? redactUrl(value) : REDACTED,
    },
  };
  const interactive = process.stderr.isTTY === true && !process.env.CI;
  // Synchronous writes: the last lines before a crash or process.exit() must not be lost.
  const stream = interactive
    ? pretty({ destination: 2, sync: true, colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
    : pino.destination({ dest: 2, sync: true });
  root = pino(options, stream);
  return root;
}

/** A logger whose lines carry `name` (e.g. 'stack', 'temporal-server'). */
export function createLogger(name: string): Logger {
  return rootLogger().child({ name });
}
