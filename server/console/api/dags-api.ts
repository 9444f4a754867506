/** JSON API of the DAG list, a DAG's grid, manual triggers and re-running a date. */
import { Router } from 'express';
import { z } from 'zod';
import { fromPostgres } from '../../client/server-failures';
import { startDagRun } from '../../client/start-run';
import type { ConsoleContext } from '../app';
import { dagGrid, dagSummaries, findDag, triggerRun } from '../dag-views';
import { HttpError } from '../errors';
import { checkIdParams } from '../params';
import { gridQuery } from '../queries/grid';

const triggerBody = z
  .object({
    logicalDate: z.string().max(100).optional(),
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export function dagsApi(ctx: ConsoleContext): Router {
  const router = checkIdParams(Router());

  router.get('/dags', async (_req, res) => {
    res.json({ dags: await dagSummaries(ctx) });
  });

  router.get('/dags/:dagId', async (req, res) => {
    const spec = findDag(ctx, req.params.dagId);
    const [summary] = await dagSummaries(ctx, [spec]);
    res.json({ ...summary, paramsSchema: spec.paramsSchema ?? null, tasks: spec.tasks.map((t) => ({ id: t.id, kind: t.kind, upstream: t.upstream, triggerRule: t.triggerRule })) });
  });

  router.get('/dags/:dagId/grid', async (req, res) => {
    const spec = findDag(ctx, req.params.dagId);
    res.json(await dagGrid(ctx, spec, gridQuery.parse(req.query)));
  });

  router.post('/dags/:dagId/trigger', async (req, res) => {
    const spec = findDag(ctx, req.params.dagId);
    const body = triggerBody.parse(req.body ?? {});
    const outcome = await triggerRun(ctx, spec, { logicalDate: body.logicalDate, params: body.params ?? {} });
    res.status(outcome.started ? 201 : 200).json(outcome);
  });

  // "Rerun the date": a fresh run of a closed run's logical date, with the params it had.
  router.post('/runs/:runId/rerun', async (req, res) => {
    const row = await fromPostgres(
      ctx.db.withSchema('sluice').table('dag_runs').where('run_id', req.params.runId).orderBy('started_at', 'desc').first('dag_id', 'logical_date', 'params', 'state'),
    );
    if (!row) throw new HttpError(404, `no such run: ${req.params.runId}`);
    if (!['success', 'failed'].includes(row.state)) throw new HttpError(409, `run ${req.params.runId} is ${String(row.state)}; only a finished run can be re-run`);
    const spec = findDag(ctx, row.dag_id);
    const run = await startDagRun(ctx.temporal, spec, { logicalDate: new Date(row.logical_date), params: row.params, trigger: 'manual', rerun: true });
    // Recorded as finished, but its workflow is still closing (its callback, its last records).
    if (!run.started) throw new HttpError(409, `run ${req.params.runId} is still finishing; re-run it in a moment`);
    res.status(202).json({ runId: run.runId, started: run.started, message: `started a fresh run of ${run.runId}`, location: `/runs/${encodeURIComponent(run.runId)}` });
  });

  return router;
}
