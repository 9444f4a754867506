/** Every scheduled DAG's schedule as Temporal has it, with pause and unpause. */
import { Router } from 'express';
import { scheduleStatus } from '../../schedules/status';
import type { ConsoleContext } from '../app';
import { emptyState, fmtTime, postButton } from '../html/components';
import { esc, page } from '../html/layout';

export function schedulePages(ctx: ConsoleContext): Router {
  const router = Router();
  router.get('/schedules', async (_req, res) => {
    // Asked afresh, not from the DAG list's cache: this page is where a pause is checked.
    const rows = await Promise.all(ctx.dags().filter((s) => s.schedule).map((s) => scheduleStatus(ctx.temporal, s)));
    const body = rows
      .map((r) => {
        const id = encodeURIComponent(r.dagId);
        const action = !r.exists
          ? ''
          : r.paused
            ? postButton('Unpause', `/api/schedules/${id}/unpause`, {}, { kind: 'secondary', confirm: `Unpause ${r.dagId}? Fire times missed while paused are not run; backfill them if they are needed.` })
            : postButton('Pause', `/api/schedules/${id}/pause`, { note: 'paused from the console' }, { kind: 'secondary', confirm: `Pause ${r.dagId}? No new scheduled runs start until it is unpaused.` });
        const state = r.exists ? (r.paused ? `⏸ paused${r.note ? `: ${esc(r.note)}` : ''}` : '▶ active') : 'not synced (run `sluice schedules sync`)';
        return `<tr data-dag="${esc(r.dagId)}"><td data-label="DAG"><a href="/dags/${id}/grid">${esc(r.dagId)}</a></td><td data-label="cron"><code>${esc(r.cron)}</code></td><td data-label="time zone">${esc(r.timezone)}</td>
<td data-label="catch-up">${r.catchup ? 'on' : 'off'}</td><td data-label="state">${state}</td><td data-label="last fire">${esc(fmtTime(r.lastFire))}</td>
<td data-label="next fires">${r.nextFires.map((t) => esc(fmtTime(t))).join('<br>')}</td><td>${action}</td></tr>`;
      })
      .join('\n');
    res.type('html').send(
      page(res, {
        title: 'Schedules',
        section: 'schedules',
        body: rows.length
          ? `<div class="scroll"><table id="schedules" class="responsive"><thead><tr><th>DAG</th><th>cron</th><th>time zone</th><th>catch-up</th><th>state</th><th>last fire</th><th>next fires</th><th></th></tr></thead><tbody>${body}</tbody></table></div>`
          : emptyState('No DAG has a schedule.'),
      }),
    );
  });
  return router;
}
