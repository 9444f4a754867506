import { Router } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { planDates } from '../../../activities/backfill';
import type { DagSpec } from '../../../workflows/spec';
import { backfillDates, backfillProgress, BackfillRangeError, controlBackfill, startBackfill } from '../../client/backfill';
import { LogicalDateError, parseDateArg } from '../../client/logical-dates';
import { formatLogicalDate } from '../../client/run-id';
import { fromPostgres } from '../../client/server-failures';
import { scheduleStatus, setPaused, unpausePreview } from '../../schedules/status';
import type { ConsoleContext } from '../app';
import { HttpError } from '../errors';
import { checkIdParams, freeText, idText } from '../params';

const noteBody = z.object({ note: freeText.optional() }).strict();
/** A bare date (a whole day in the DAG's time zone) or an instant, as `sluice backfill` reads them. */
const dateArg = z.string().transform((text, ctx) => {
  try {
    return parseDateArg(text);
  } catch (err) {
    if (!(err instanceof LogicalDateError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
    return z.NEVER;
  }
});
const backfillBody = z
  .object({
    dagId: idText,
    from: dateArg,
    to: dateArg,
    concurrency: z.number().int().min(1).max(64).default(4),
    reprocess: z.enum(['none', 'failed', 'all']).default('none'),
    reverse: z.boolean().default(false),
    dryRun: z.boolean().default(false),
  })
  .strict();

/** A scheduled DAG by id: a 404 when unknown, a 400 when it has no schedule to pause or backfill. */
export function scheduledDag(specs: () => readonly DagSpec[], dagId: string): DagSpec {
  const spec = specs().find((s) => s.dagId === dagId);
  if (!spec) throw new HttpError(404, `unknown DAG '${dagId}'`);
  if (!spec.schedule) throw new HttpError(400, `DAG '${dagId}' has no schedule (manual runs only)`);
  return spec;
}

export type BackfillBody = z.output<typeof backfillBody>;

/** A backfill request checked and turned into its logical dates (the API and the preview page share it). */
export function backfillRequest(specs: () => readonly DagSpec[], raw: unknown): { spec: DagSpec; body: BackfillBody; dates: Date[] } {
  const body = backfillBody.parse(raw ?? {});
  const spec = scheduledDag(specs, body.dagId);
  try {
    return { spec, body, dates: backfillDates(spec.schedule as NonNullable<DagSpec['schedule']>, body, { reverse: body.reverse }) };
  } catch (err) {
    if (err instanceof BackfillRangeError) throw new HttpError(400, err.message);
    throw err;
  }
}

/** What a backfill would do to each date, from the runs on record; nothing starts. */
export function previewBackfill(db: Knex, spec: DagSpec, body: BackfillBody, dates: Date[]) {
  return fromPostgres(planDates(db, { dagId: spec.dagId, logicalDates: dates.map(formatLogicalDate), reprocess: body.reprocess }));
}

/** Schedules (status, pause, unpause with its preview) and backfills (start, progress, steer). */
export function schedulesApi({ temporal, db, dags: specs, schedules }: ConsoleContext): Router {
  const router = checkIdParams(Router());
  const scheduled = (dagId: string) => scheduledDag(specs, dagId);

  router.get('/schedules', async (_req, res) => {
    res.json({ schedules: await Promise.all(specs().filter((s) => s.schedule).map((s) => scheduleStatus(temporal, s))) });
  });

  router.post('/schedules/:dagId/pause', async (req, res) => {
    const spec = scheduled(req.params.dagId);
    const { note } = noteBody.parse(req.body ?? {});
    await setPaused(temporal, spec.dagId, true, note ?? 'paused from the console');
    schedules.forget(spec.dagId);
    res.json(await scheduleStatus(temporal, spec));
  });

  router.get('/schedules/:dagId/unpause-preview', async (req, res) => {
    res.json(await unpausePreview(temporal, scheduled(req.params.dagId)));
  });

  router.post('/schedules/:dagId/unpause', async (req, res) => {
    const spec = scheduled(req.params.dagId);
    const { note } = noteBody.parse(req.body ?? {});
    const preview = await unpausePreview(temporal, spec);
    await setPaused(temporal, spec.dagId, false, note ?? 'unpaused from the console');
    schedules.forget(spec.dagId);
    res.json({ ...preview, ...(await scheduleStatus(temporal, spec)) });
  });

  router.post('/backfills', async (req, res) => {
    const { spec, body, dates } = backfillRequest(specs, req.body);
    if (body.dryRun) {
      res.json({ dryRun: true, dates: await previewBackfill(db, spec, body, dates) });
      return;
    }
    const backfillId = await startBackfill(temporal, spec, { logicalDates: dates, concurrency: body.concurrency, reprocess: body.reprocess, params: {} });
    res.status(202).json({ backfillId, dates: dates.length, location: `/backfills/${encodeURIComponent(backfillId)}` });
  });

  router.get('/backfills/:backfillId', async (req, res) => {
    res.json(await backfillProgress(temporal, req.params.backfillId));
  });

  for (const action of ['pause', 'resume', 'cancel'] as const) {
    router.post(`/backfills/:backfillId/${action}`, async (req, res) => {
      await controlBackfill(temporal, req.params.backfillId, action);
      res.json(await backfillProgress(temporal, req.params.backfillId));
    });
  }
  return router;
}
