/**
 * Backfills: the list, a form whose preview says what will happen to every date before anything
 * starts, and the progress of one with pause, resume and cancel.
 */
import { Router } from 'express';
import type { PlannedDate } from '../../../activities/backfill';
import { backfillProgress } from '../../client/backfill';
import { listBackfills } from '../../client/backfill-list';
import { backfillRequest, previewBackfill } from '../api/schedules-api';
import type { ConsoleContext } from '../app';
import { emptyState, fmtTime, postButton, selectInput, stateBadge } from '../html/components';
import { esc, page, sendLive } from '../html/layout';
import { HttpError } from '../errors';
import { checkIdParams, idText } from '../params';

/** What each planned action means for the date, in words. */
const ACTIONS: Record<PlannedDate['action'], [state: string, words: string]> = {
  run: ['queued', 'runs (never ran)'],
  rerun: ['up_for_retry', 'runs again (replaces the earlier result)'],
  skip_succeeded: ['success', 'skipped: already succeeded'],
  skip_failed: ['failed', 'skipped: failed before (choose "re-run failed" to run it)'],
  skip_in_flight: ['running', 'skipped: a run is in flight'],
};

/** Backfill outcomes drawn as the run states they match. */
const OUTCOME_STATE: Record<string, string> = { pending: 'pending', running: 'running', success: 'success', failed: 'failed', skipped: 'skipped' };

export function backfillPages(ctx: ConsoleContext): Router {
  const router = checkIdParams(Router());

  router.get('/backfills', async (req, res) => {
    const dagId = req.query.dagId === undefined || req.query.dagId === '' ? undefined : idText.parse(req.query.dagId);
    // The listing filters Temporal's visibility by DAG id: only a DAG that exists gets that far.
    if (dagId !== undefined && !ctx.dags().some((s) => s.dagId === dagId)) throw new HttpError(404, `unknown DAG '${dagId}'`);
    const list = await listBackfills(ctx.temporal, { dagId, limit: 50 });
    const rows = list.map(
      (b) => `<tr data-backfill="${esc(b.backfillId)}"><td data-label="backfill"><a href="/backfills/${encodeURIComponent(b.backfillId)}">${esc(b.backfillId)}</a></td>
<td data-label="DAG">${esc(b.dagId ?? '')}</td><td data-label="range">${esc(b.from ?? '')} → ${esc(b.to ?? '')}</td><td data-label="state">${esc(b.state)}</td>
<td data-label="dates" class="num">${b.total ?? ''}</td><td data-label="done" class="num">${b.counts ? `${b.counts.success} ✓ ${b.counts.failed} ✗ ${b.counts.skipped} –` : ''}</td><td data-label="started">${esc(fmtTime(b.startedAt))}</td></tr>`,
    );
    const scheduled = ctx.dags().filter((s) => s.schedule);
    res.type('html').send(
      page(res, {
        title: 'Backfills',
        section: 'backfills',
        body: `<div class="actions"><a class="button primary" href="/backfills/new">New backfill</a></div>
<form method="get" class="filters">${selectInput('dagId', 'DAG', scheduled.map((s) => s.dagId), dagId)}<button type="submit">Filter</button></form>
${rows.length ? `<div class="scroll"><table id="backfills" class="responsive"><thead><tr><th>backfill</th><th>DAG</th><th>range</th><th>state</th><th class="num">dates</th><th class="num">done</th><th>started</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>` : emptyState('No backfills yet.')}`,
      }),
    );
  });

  router.get('/backfills/new', (req, res) => {
    const scheduled = ctx.dags().filter((s) => s.schedule);
    const chosen = typeof req.query.dagId === 'string' ? req.query.dagId : scheduled[0]?.dagId;
    const options = scheduled.map((s) => `<option${s.dagId === chosen ? ' selected' : ''}>${esc(s.dagId)}</option>`).join('');
    res.type('html').send(
      page(res, {
        title: 'New backfill',
        section: 'backfills',
        crumbs: [['Backfills', '/backfills'], ['new']],
        body: scheduled.length
          ? `<form id="backfill" class="stack" novalidate data-api="/api/backfills">
<label>DAG <select name="dagId">${options}</select></label><small class="field-error" data-error-for="dagId"></small>
<label>from <input name="from" type="date" required><span class="help">The first day (in the DAG's time zone), or an instant with its zone.</span></label><small class="field-error" data-error-for="from"></small>
<label>to <input name="to" type="date" required><span class="help">The last day, included.</span></label><small class="field-error" data-error-for="to"></small>
<label>concurrency <input name="concurrency" type="number" min="1" max="64" value="4" data-type="integer"><span class="help">Dates run at once.</span></label><small class="field-error" data-error-for="concurrency"></small>
<label>dates already run <select name="reprocess"><option value="none">skip them (run only new dates)</option><option value="failed">re-run the failed ones</option><option value="all">re-run all of them</option></select></label><small class="field-error" data-error-for="reprocess"></small>
<div class="actions"><button type="submit" id="preview" class="secondary" data-extra='{"dryRun":true}' data-api="/backfills/preview" data-target="#preview-area">Preview</button>
<button type="submit" id="start">Start backfill</button></div></form><div id="preview-area"></div>`
          : emptyState('No DAG has a schedule; backfills run the fire times of a schedule.'),
      }),
    );
  });

  // The preview's own endpoint: the dates and what happens to each, as HTML for the form.
  router.post('/backfills/preview', async (req, res) => {
    const { spec, body, dates } = backfillRequest(ctx.dags, req.body);
    const planned = await previewBackfill(ctx.db, spec, body, dates);
    const runs = planned.filter((p) => p.action === 'run' || p.action === 'rerun').length;
    const rows = planned
      .map((p) => {
        const [state, words] = ACTIONS[p.action];
        return `<tr data-date="${esc(p.logicalDate)}" data-action="${esc(p.action)}"><td>${esc(fmtTime(p.logicalDate))}</td><td>${p.lastState ? stateBadge(p.lastState) : '<span class="muted">never ran</span>'}</td><td>${stateBadge(state)} ${esc(words)}</td></tr>`;
      })
      .join('');
    res.json({
      html: `<p><b>${planned.length}</b> dates; <b>${runs}</b> will run, ${planned.length - runs} skipped. Nothing has started.</p>
<div class="scroll"><table id="preview-table"><thead><tr><th>logical date</th><th>last run</th><th>will</th></tr></thead><tbody>${rows}</tbody></table></div>`,
    });
  });

  router.get('/backfills/:backfillId', async (req, res) => {
    const p = await backfillProgress(ctx.temporal, req.params.backfillId);
    const done = p.counts.success + p.counts.failed + p.counts.skipped;
    const id = encodeURIComponent(req.params.backfillId);
    const finished = p.state === 'done' || p.state === 'cancelled';
    const rows = p.dates
      .map(
        (d) => `<tr data-date="${esc(d.logicalDate)}" data-outcome="${esc(d.outcome)}"><td>${esc(fmtTime(d.logicalDate))}</td><td>${stateBadge(OUTCOME_STATE[d.outcome] ?? d.outcome)}</td>
<td>${d.runId ? `<a href="/runs/${encodeURIComponent(d.runId)}">${esc(d.runId)}</a>` : ''}</td><td>${esc(d.note ?? '')}</td></tr>`,
      )
      .join('');
    const buttons = finished
      ? ''
      : `<div class="actions">${p.state === 'paused' ? postButton('Resume', `/api/backfills/${id}/resume`, {}) : postButton('Pause', `/api/backfills/${id}/pause`, {}, { confirm: 'Pause? Runs in flight finish; no new date starts.' })}
${postButton('Cancel', `/api/backfills/${id}/cancel`, {}, { kind: 'danger', confirm: 'Cancel the backfill? Runs in flight finish; the remaining dates never start.' })}</div>`;
    sendLive(req, res, {
      title: req.params.backfillId,
      section: 'backfills',
      crumbs: [['Backfills', '/backfills'], [p.dagId, `/dags/${encodeURIComponent(p.dagId)}/grid`], ['progress']],
      live: `<p id="progress" data-state="${esc(p.state)}">backfill <b>${esc(p.state)}</b> · <progress max="${p.total}" value="${done}"></progress> ${done}/${p.total} dates done (${p.counts.success} succeeded, ${p.counts.failed} failed, ${p.counts.skipped} skipped) · ${p.counts.running} in flight</p>
${buttons}<div class="scroll"><table id="dates"><thead><tr><th>logical date</th><th>outcome</th><th>run</th><th>note</th></tr></thead><tbody>${rows}</tbody></table></div>`,
      open: !finished,
    });
  });

  return router;
}
