import { WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { ErrorRequestHandler, Request, Response } from 'express';
import { ZodError } from 'zod';
import { BackfillRunningError } from '../client/backfill';
import { ClearRefusedError } from '../client/clear';
import { RunClosedError } from '../client/operator';
import { serverFailure, type ServerFailure } from '../client/server-failures';
import { NoSuchWorkflowError, WorkerUnavailableError } from '../client/workers';
import { esc, page } from './html/layout';

/** An error whose message is safe to show the caller, with its HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** A 400 that names the fields at fault, for forms to show beside each. */
export class FieldError extends HttpError {
  readonly fields: Record<string, string>;
  constructor(field: string | undefined, message: string, fields: Record<string, string> = {}) {
    super(400, message);
    this.fields = field ? { ...fields, [field]: message } : fields;
  }
}

const SERVER_FAILURE_STATUS: Record<ServerFailure['kind'], number> = { unreachable: 503, refused: 409, invalid: 400 };
const INTERNAL = 'internal error; see the console log';

/**
 * One JSON error handler: bad input is a 4xx naming the problem; a run that refuses an operator
 * action (e.g. "task 'x' is success; only failed tasks can be retried") is a 409 with its reason;
 * a question only a worker can answer while none does, or one for a server that is down, is a
 * 503 saying which. Only what is left, a bug, is a 500, and only that is logged with its stack.
 */
export const errorHandler: ErrorRequestHandler = (err, req, res, next) => {
  if (res.headersSent) {
    next(err);
    return;
  }
  const [status, message] = classify(err);
  if (status >= 500 && status !== 503) req.log.error({ err }, 'request failed');
  const fields = err instanceof ZodError ? fieldMessages(err) : err instanceof FieldError ? err.fields : undefined;
  if (wantsPage(req)) {
    res.status(status).type('html').send(errorPage(res, status, message));
    return;
  }
  res.status(status).json({ error: message, ...(fields ? { fields } : {}) });
};

/** A person's browser asking for a page (not the API, not a script): it gets a readable page. */
export function wantsPage(req: Request): boolean {
  return !req.path.startsWith('/api/') && req.method === 'GET' && req.accepts(['json', 'html']) === 'html';
}

export function errorPage(res: Response, status: number, message: string): string {
  const title = status === 404 ? 'Not found' : status < 500 ? 'Cannot show this page' : 'Something went wrong';
  return page(res, {
    title,
    section: 'dags',
    body: `<div class="card"><p><b>${status}</b>: ${esc(message)}</p><p><a href="/">Back to the DAGs</a></p></div>`,
  });
}

/** Each bad field's message by its name (`params.limit` as `limit`), for forms to show beside the field. */
function fieldMessages(err: ZodError): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const issue of err.issues) {
    const name = issue.path.map(String).join('.') || 'request';
    fields[name] ??= issue.message;
  }
  return fields;
}

function classify(err: unknown): [number, string] {
  if (err instanceof HttpError) return [err.status, err.message];
  if (err instanceof ZodError) {
    return [400, err.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ')];
  }
  if (err instanceof RunClosedError || err instanceof BackfillRunningError || err instanceof ClearRefusedError) return [409, err.message];
  if (err instanceof WorkerUnavailableError) return [503, err.message];
  if (err instanceof NoSuchWorkflowError) return [404, err.message];
  if (err instanceof WorkflowNotFoundError) return [404, `no such run or backfill: ${err.workflowId}`];
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause instanceof Error ? err.cause.message : err.message;
    return [409, cause];
  }
  const server = serverFailure(err);
  if (server) return [SERVER_FAILURE_STATUS[server.kind], server.message];
  return carriedStatus(err) ?? [500, INTERNAL];
}

/**
 * Errors from Express' own parts (body-parser, the router) carry their HTTP status, and for a 4xx
 * a message meant for the caller: a body over the limit (413), an unsupported charset or
 * Content-Encoding (415), a body that does not decompress or parse (400), a path that is not
 * valid percent-encoded UTF-8 (400).
 */
function carriedStatus(err: unknown): [number, string] | undefined {
  if (!(err instanceof Error)) return undefined;
  const { status, statusCode, type, limit, code } = err as Error & { status?: unknown; statusCode?: unknown; type?: unknown; limit?: unknown; code?: unknown };
  const carried = status ?? statusCode;
  if (typeof carried !== 'number' || carried < 400 || carried > 599) return undefined;
  if (carried >= 500) return [carried, INTERNAL];
  if (type === 'entity.too.large' && typeof limit === 'number') return [413, `request body is larger than the limit of ${limit / 1024} KB`];
  if (type === 'entity.parse.failed') return [400, 'request body is not valid JSON'];
  // zlib's errors: the body is not what its Content-Encoding says.
  if (typeof code === 'string' && code.startsWith('Z_')) return [400, `request body does not decompress (${err.message})`];
  return [carried, err.message];
}
