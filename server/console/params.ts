import type { Router } from 'express';
import { z } from 'zod';
import { HttpError } from './errors';

/**
 * Text from JSON may hold half of a UTF-16 surrogate pair (`"\ud800"`), which has no UTF-8: Temporal
 * refuses such a string in an id or a note as a malformed request (gRPC INTERNAL), not as bad input.
 */
const UNPAIRED = 'must not contain unpaired UTF-16 surrogates (invalid Unicode)';

/**
 * An id as it comes in a path or a query: run, task, backfill and DAG ids go to Temporal and to
 * Postgres as they are, and Postgres answers a NUL byte with an error, not with "no such run".
 * 1,000 characters is Temporal's limit for ids.
 */
export const idText = z
  .string()
  .min(1, 'must not be empty')
  .max(1000, 'is longer than 1,000 characters')
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
  .regex(/^\P{Cs}*$/u, UNPAIRED);

/** Free text (a reason, a note), kept short; Postgres refuses NUL bytes in text. */
export const freeText = z
  .string()
  .max(500)
  .regex(/^[^\0]*$/, 'must not contain NUL characters')
  .regex(/^\P{Cs}*$/u, UNPAIRED);

/** Checks every id parameter of `router`'s paths (`:runId`, `:taskId`, ...) before a handler sees it. */
export function checkIdParams(router: Router): Router {
  for (const name of ['runId', 'taskId', 'backfillId', 'dagId']) {
    router.param(name, (_req, _res, next, value: string) => {
      const checked = idText.safeParse(value);
      if (!checked.success) throw new HttpError(400, `${name}: ${checked.error.issues.map((i) => i.message).join('; ')}`);
      next();
    });
  }
  return router;
}
