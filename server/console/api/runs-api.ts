import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { clearTask } from '../../client/clear';
import { failRun, markTaskSuccess, retryRun } from '../../client/operator';
import { listAttempts, listRuns } from '../../client/run-history';
import { runView } from '../../client/run-view';
import { checkIdParams, freeText, idText } from '../params';

export const RUN_STATES = ['queued', 'running', 'awaiting_operator', 'success', 'failed'] as const;
export const listQuery = z.object({
  dagId: idText.optional(),
  state: z.enum(RUN_STATES).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  before: z.iso.datetime({ message: 'must be an ISO date-time' }).optional(),
});
const retryBody = z.object({ taskId: idText.optional() }).strict();
const markBody = z.object({ taskId: idText }).strict();
const failBody = z.object({ reason: freeText.optional() }).strict();
const clearBody = z.object({ taskId: idText, downstream: z.boolean().default(false) }).strict();

/** JSON API over run history (Postgres) and live run state and operator actions (Temporal). */
export function runsApi(temporal: Client, db: Knex): Router {
  const router = checkIdParams(Router());

  router.get('/runs', async (req, res) => {
    res.json({ runs: await listRuns(db, listQuery.parse(req.query)) });
  });

  router.get('/runs/:runId', async (req, res) => {
    res.json(await runView(temporal, db, req.params.runId));
  });

  router.get('/runs/:runId/tasks/:taskId/attempts', async (req, res) => {
    res.json({ attempts: await listAttempts(db, req.params.runId, req.params.taskId) });
  });

  router.post('/runs/:runId/retry', async (req, res) => {
    const { taskId } = retryBody.parse(req.body ?? {});
    res.json(await retryRun(temporal, req.params.runId, taskId));
  });

  router.post('/runs/:runId/mark-success', async (req, res) => {
    const { taskId } = markBody.parse(req.body ?? {});
    res.json(await markTaskSuccess(temporal, req.params.runId, taskId));
  });

  // Open runs re-run the task in place; closed ones start a new execution (202: it is under way).
  router.post('/runs/:runId/clear', async (req, res) => {
    const { taskId, downstream } = clearBody.parse(req.body ?? {});
    const outcome = await clearTask(temporal, req.params.runId, taskId, { downstream });
    res.status(outcome.mode === 'closed' ? 202 : 200).json(outcome);
  });

  router.post('/runs/:runId/fail', async (req, res) => {
    const { reason } = failBody.parse(req.body ?? {});
    res.json(await failRun(temporal, req.params.runId, reason));
  });

  return router;
}
