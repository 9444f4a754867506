/**
 * Failures of the servers behind the CLI and the console, told apart so that both can say what
 * happened in one line (and pick an exit code or an HTTP status) instead of showing a stack:
 * - `unreachable`: Temporal or Postgres is down or does not answer (CLI exit 3, HTTP 503);
 * - `refused`: Temporal will not do it in the workflow's present state, such as a query or an
 *   Update of a run whose workflow task keeps failing (CLI exit 1, HTTP 409);
 * - `invalid`: Temporal rejected the request itself (CLI exit 2, HTTP 400).
 * Postgres calls are marked with `fromPostgres` where they are made.
 */
import { isGrpcServiceError } from '@temporalio/client';

export interface ServerFailure {
  kind: 'unreachable' | 'refused' | 'invalid';
  message: string;
}

// gRPC status codes (as in @grpc/grpc-js, which Sluice does not depend on directly).
const INVALID_ARGUMENT = 3;
const DEADLINE_EXCEEDED = 4;
const FAILED_PRECONDITION = 9;
const UNAVAILABLE = 14;

// Node's socket errors, and Postgres' SQLSTATEs for "no connection": class 08 and the shutdown codes.
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE']);
const POSTGRES_DOWN = /^(08\d{3}|57P0[123]|53300)$/;

/** What `err` (or an error it was caused by) says about a server; undefined when it is no such failure. */
export function serverFailure(err: unknown): ServerFailure | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (isGrpcServiceError(e)) return temporalFailure(e.code, e.details);
    if (e instanceof PostgresUnreachableError) return { kind: 'unreachable', message: e.message };
  }
  return undefined;
}

export class PostgresUnreachableError extends Error {}

/**
 * Awaits a query, turning "no connection" into PostgresUnreachableError. Marked where the query is
 * made, since a refused connection looks the same from any client (pg, the S3 SDK).
 */
export async function fromPostgres<T>(query: PromiseLike<T>): Promise<T> {
  try {
    return await query;
  } catch (err) {
    const why = err instanceof Error ? postgresDown(err) : undefined;
    if (why) throw new PostgresUnreachableError(`cannot reach Postgres (${why}); is it running, and is DATABASE_URL right?`, { cause: err });
    throw err;
  }
}

function temporalFailure(code: number, details: string): ServerFailure | undefined {
  switch (code) {
    case UNAVAILABLE:
      return { kind: 'unreachable', message: `cannot reach Temporal (${details}); is it running, and is TEMPORAL_ADDRESS right?` };
    case DEADLINE_EXCEEDED:
      return { kind: 'unreachable', message: 'Temporal did not answer in time; is it running, and is TEMPORAL_ADDRESS right?' };
    case FAILED_PRECONDITION:
      return {
        kind: 'refused',
        message: /workflow task in failed state/i.test(details)
          ? `Temporal refused: ${details} The run's workflow task keeps failing (the worker's log says why), so the run takes no query or operator action until that is fixed.`
          : `Temporal refused: ${details}`,
      };
    case INVALID_ARGUMENT:
      return { kind: 'invalid', message: `Temporal rejected the request: ${details}` };
    default:
      return undefined;
  }
}

/** Why Postgres could not be reached, if `err` says it could not. */
function postgresDown(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || POSTGRES_DOWN.test(code))) return err.message || code;
  if (err.name === 'KnexTimeoutError') return 'no connection could be opened in time';
  // pg's own words when the server goes away under an open connection.
  if (/^Connection terminated/.test(err.message)) return err.message;
  return undefined;
}
