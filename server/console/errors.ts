import { WorkflowUpdateFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import { BackfillRunningError } from '../client/backfill';
import { ClearRefusedError } from '../client/clear';
import { RunClosedError } from '../client/operator';
import { WorkerUnavailableError } from '../client/workers';

/** An error whose message is safe to show the caller, with its HTTP status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * One JSON error handler: bad input is a 4xx naming the problem; a run that refuses an operator
 * action (e.g. "task 'x' is success; only failed tasks can be retried") is a 409 with its reason;
 * a question only a worker can answer while none does is a 503 saying which task queue lacks one.
 */
export const errorHandler: ErrorRequestHandler = (err, req, res, _next) => {
  const [status, message] = classify(err);
  if (status >= 500 && status !== 503) req.log?.error({ err }, 'request failed');
  res.status(status).json({ error: message });
};

function classify(err: unknown): [number, string] {
  if (err instanceof HttpError) return [err.status, err.message];
  if (err instanceof ZodError) {
    return [400, err.issues.map((i) => `${i.path.join('.') || 'request'}: ${i.message}`).join('; ')];
  }
  if (err instanceof RunClosedError || err instanceof BackfillRunningError || err instanceof ClearRefusedError) return [409, err.message];
  if (err instanceof WorkerUnavailableError) return [503, err.message];
  if (err instanceof WorkflowNotFoundError) return [404, 'no such run'];
  if (err instanceof WorkflowUpdateFailedError) {
    const cause = err.cause instanceof Error ? err.cause.message : err.message;
    return [409, cause];
  }
  if (err instanceof SyntaxError && 'body' in (err as object)) return [400, 'request body is not valid JSON'];
  return [500, 'internal error; see the console log'];
}
