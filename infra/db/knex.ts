/** The one way Sluice code gets a knex instance for Postgres. */
import knex, { type Knex } from 'knex';

/**
 * A knex instance on `url`. The pool keeps no idle minimum, so a short-lived command does not
 * hold connections it no longer uses; call `destroy()` when done, or the process stays alive.
 */
export function createKnex(url: string, options: { maxConnections?: number } = {}): Knex {
  return knex({
    client: 'pg',
    connection: url,
    pool: { min: 0, max: options.maxConnections ?? 10 },
  });
}
