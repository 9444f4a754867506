/** The one way Sluice code gets a knex instance for Postgres. */
import knex, { type Knex } from 'knex';
import { createLogger } from '../logger';

/**
 * A knex instance on `url`. The pool keeps no idle minimum, so a short-lived command does not
 * hold connections it no longer uses; call `destroy()` when done, or the process stays alive.
 */
export function createKnex(url: string, options: { maxConnections?: number } = {}): Knex {
  return knex({
    client: 'pg',
    connection: pgConnectionString(url),
    pool: { min: 0, max: options.maxConnections ?? 10 },
    log: knexLog(),
  });
}

/**
 * `url` with `sslmode` meaning what it means to libpq and psql. node-postgres by default treats
 * `require` and `verify-ca` as `verify-full`, so a managed database that documents
 * `sslmode=require` would fail its certificate check; `uselibpqcompat=true` gives libpq's meaning
 * (require: encrypted, certificate not checked unless `sslrootcert` is given; verify-ca: signed by
 * `sslrootcert`, any host name). Modes libpq and pg agree on are left alone.
 */
export function pgConnectionString(url: string): string {
  const u = new URL(url);
  const mode = u.searchParams.get('sslmode');
  if (!(mode === 'require' || mode === 'verify-ca') || u.searchParams.has('uselibpqcompat')) return url;
  u.searchParams.set('uselibpqcompat', 'true');
  return u.toString();
}

/**
 * knex's own messages go to the process's log (stderr) instead of console.log (stdout, where
 * they would break `--json` output). Its connection errors are debug, not warnings: while the
 * database is down they come (with a stack) for every pooled connection and every failed query,
 * and the query that needed the connection fails with the same error for its caller to report.
 */
const CONNECTION_NOISE = /^(Acquire connection error|Connection Error)/;

function knexLog(): Knex.Config['log'] {
  const log = createLogger('knex');
  return {
    warn: (message: string) => (CONNECTION_NOISE.test(String(message)) ? log.debug(String(message)) : log.warn(String(message))),
    error: (message: string) => log.error(String(message)),
    deprecate: (method: string, alternative: string) => log.warn(`${method} is deprecated; use ${alternative}`),
    debug: (message: string) => log.debug(String(message)),
  };
}
