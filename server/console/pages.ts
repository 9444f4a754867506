import type { Client } from '@temporalio/client';
import { Router, type Response } from 'express';
import type { Knex } from 'knex';
import type { DagSpec } from '../../workflows/spec';
import { backfillProgress } from '../client/backfill';
import { listRuns } from '../client/run-history';
import { runView } from '../client/run-view';
import { scheduleStatus } from '../schedules/status';
import { CSRF_HEADER, csrfMeta } from './csrf';
import { checkIdParams } from './params';

/**
 * Server-rendered pages, no build step: the run list (failed and waiting runs first, as the
 * on-call engineer needs them), one run's tasks with retry buttons that call the JSON API,
 * schedules and backfills. Their buttons send the session's CSRF token (csrf.ts).
 */
export function pages(temporal: Client, db: Knex, specs: () => readonly DagSpec[], temporalUiUrl?: string): Router {
  const router = checkIdParams(Router());

  router.get('/schedules', async (_req, res) => {
    const rows = await Promise.all(specs().filter((s) => s.schedule).map((s) => scheduleStatus(temporal, s)));
    const body = rows
      .map((r) => {
        const action = r.paused
          ? `<button onclick="unpause('${esc(r.dagId)}')">unpause</button>`
          : `<button onclick="post('/api/schedules/${esc(r.dagId)}/pause',{note:prompt('Why pause?')||undefined})">pause</button>`;
        return `<tr><td>${esc(r.dagId)}</td><td>${esc(r.cron)}</td><td>${esc(r.timezone)}</td><td>${r.catchup ? 'on' : 'off'}</td>
<td>${r.exists ? (r.paused ? `paused: ${esc(r.note ?? '')}` : 'active') : 'not synced'}</td><td>${esc(r.lastFire ?? '')}</td><td>${esc(r.nextFires[0] ?? '')}</td><td>${r.exists ? action : ''}</td></tr>`;
      })
      .join('\n');
    res.type('html').send(
      layout(
        res,
        'Schedules',
        `<table><thead><tr><th>DAG</th><th>cron</th><th>time zone</th><th>catch-up</th><th>state</th><th>last fire</th><th>next fire</th><th></th></tr></thead><tbody>${body}</tbody></table>
<script>async function unpause(dag){const p=await (await fetch('/api/schedules/'+dag+'/unpause-preview')).json();
if(confirm('Unpausing starts '+p.runsStartedNow+' runs now; '+p.missedWhilePaused.length+' fire times passed while paused (backfill them if needed). Next fire: '+p.nextFire+'. Unpause?'))post('/api/schedules/'+dag+'/unpause',{});}</script>`,
      ),
    );
  });

  router.get('/backfills/:backfillId', async (req, res) => {
    const p = await backfillProgress(temporal, req.params.backfillId);
    const done = p.counts.success + p.counts.failed + p.counts.skipped;
    const rows = p.dates.map((d) => `<tr class="${d.outcome}"><td>${esc(d.logicalDate)}</td><td>${esc(d.outcome)}</td><td>${esc(d.note ?? '')}</td></tr>`).join('\n');
    const id = esc(req.params.backfillId);
    res.type('html').send(
      layout(
        res,
        req.params.backfillId,
        `<p>backfill ${esc(p.state)} · <progress max="${p.total}" value="${done}"></progress> ${done}/${p.total} dates done (${p.counts.success} succeeded, ${p.counts.failed} failed, ${p.counts.skipped} skipped) · ${p.counts.running} in flight
<button onclick="post('/api/backfills/${id}/pause',{})">pause</button> <button onclick="post('/api/backfills/${id}/resume',{})">resume</button> <button onclick="post('/api/backfills/${id}/cancel',{})">cancel</button></p>
<table><thead><tr><th>logical date</th><th>outcome</th><th>note</th></tr></thead><tbody>${rows}</tbody></table>
${p.state === 'done' || p.state === 'cancelled' ? '' : '<script>setTimeout(()=>location.reload(),2000)</script>'}`,
      ),
    );
  });

  router.get('/', async (_req, res) => {
    const runs = await listRuns(db, { limit: 200 });
    const rank = (state: string) => (state === 'awaiting_operator' ? 0 : state === 'failed' ? 1 : 2);
    runs.sort((a, b) => rank(a.state) - rank(b.state));
    const rows = runs
      .map(
        (r) => `<tr class="${r.state}"><td><a href="/runs/${encodeURIComponent(r.runId)}">${esc(r.runId)}</a></td>
<td>${esc(r.dagId)}</td><td>${esc(r.logicalDate)}</td><td class="state">${esc(r.state)}</td><td>${esc(r.trigger)}</td>
<td>${r.durationMs === null ? '' : `${(r.durationMs / 1000).toFixed(1)} s`}</td><td>${esc(r.failedTasks.join(', '))}</td>
<td>${r.failedTasks.length > 0 && r.state === 'awaiting_operator' ? `<button onclick="act('${esc(r.runId)}','retry',{})">retry failed</button>` : ''}</td></tr>`,
      )
      .join('\n');
    res.type('html').send(
      layout(
        res,
        'Runs',
        `<table><thead><tr><th>run</th><th>DAG</th><th>logical date</th><th>state</th><th>trigger</th><th>duration</th><th>failed tasks</th><th></th></tr></thead><tbody>${rows}</tbody></table>`,
      ),
    );
  });

  router.get('/runs/:runId', async (req, res) => {
    const runId = req.params.runId;
    const run = await runView(temporal, db, runId);
    const open = run.temporalStatus === 'RUNNING';
    const rows = run.tasks
      .map((t) => {
        const taskAttempts = run.attempts.filter((a) => a.taskId === t.id);
        const logs = taskAttempts
          .map((a) => {
            const earlier = a.execution.temporalRunId === run.execution ? '' : `[earlier execution, ${a.execution.trigger ?? 'unknown trigger'}, started ${a.execution.startedAt ?? '?'}] `;
            return `${earlier}attempt ${a.attempt}${a.mapIndex === null ? '' : ` [${a.mapIndex}]`} ${a.state}: ${(a.logs as Array<{ msg: string }>).map((l) => l.msg).join(' | ')}`;
          })
          .join('\n');
        const failed =
          open && t.state === 'failed'
            ? `<button onclick="act('${esc(runId)}','retry',{taskId:'${esc(t.id)}'})">retry</button>
<button onclick="act('${esc(runId)}','mark-success',{taskId:'${esc(t.id)}'})">mark success</button>`
            : '';
        // Clearing re-runs a task that finished (a closed run gets a new execution that keeps the rest).
        const clear = ['success', 'failed', 'skipped', 'upstream_failed'].includes(t.state)
          ? ` <button onclick="clearTask('${esc(runId)}','${esc(t.id)}',false)">clear</button> <button onclick="clearTask('${esc(runId)}','${esc(t.id)}',true)">clear + downstream</button>`
          : '';
        const actions = `${failed}${clear}`;
        return `<tr class="${t.state}"><td>${esc(t.id)}</td><td class="state">${esc(t.state)}</td><td>${t.attempts}</td><td>${esc(t.startedAt ?? '')}</td>
<td>${esc(t.endedAt ?? '')}</td><td>${esc(t.error ?? '')}</td><td><pre>${esc(logs)}</pre></td><td>${actions}</td></tr>`;
      })
      .join('\n');
    const temporalLink = temporalUiUrl
      ? ` · <a href="${esc(temporalUiUrl)}/namespaces/default/workflows/${encodeURIComponent(runId)}">open in Temporal UI</a>`
      : '';
    const interval = run.dataIntervalStart && run.dataIntervalEnd ? ` · data interval ${esc(run.dataIntervalStart)} → ${esc(run.dataIntervalEnd)}` : '';
    // Signals the run could not apply: the sender saw no answer, so the page must say it.
    const warnings = run.warnings?.length
      ? `<div class="warnings"><b>Operator messages the run ignored:</b><ul>${run.warnings.map((w) => `<li>${esc(w.at)}: ${esc(w.message)}</li>`).join('')}</ul></div>`
      : '';
    res.type('html').send(
      layout(
        res,
        runId,
        `<p>DAG ${esc(run.dagId)} version ${esc(run.version ?? 'unknown')} · state <b>${esc(run.state)}</b>${run.reason ? ` (${esc(run.reason)})` : ''}${interval}${temporalLink}</p>
${run.note ? `<p class="note">${esc(run.note)}</p>` : ''}
${open && run.state === 'awaiting_operator' ? `<p>Waiting for an operator until ${esc(run.operatorDeadline ?? '')}. <button onclick="act('${esc(runId)}','retry',{})">retry all failed</button> <button onclick="act('${esc(runId)}','fail',{reason:'failed from the console'})">fail run</button></p>` : ''}
${warnings}
<table><thead><tr><th>task</th><th>state</th><th>attempts</th><th>started</th><th>ended</th><th>error</th><th>attempt logs</th><th></th></tr></thead><tbody>${rows}</tbody></table>`,
      ),
    );
  });

  return router;
}

/** A page: every one carries the session's CSRF token, which `post()` sends with each action (csrf.ts). */
function layout(res: Response, title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8">${csrfMeta(res)}<title>${esc(title)} · Sluice</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
tr.failed td,tr.awaiting_operator td{background:#fde8e8}td.state{font-weight:600}tr.success td.state{color:#16794c}tr.failed td.state,tr.awaiting_operator td.state{color:#b42318}pre{margin:0;white-space:pre-wrap;max-width:40em}
.warnings,.note{background:#fff4e5;border:1px solid #f5b759;padding:4px 8px}</style></head>
<body><h1><a href="/">Sluice</a> · ${esc(title)}</h1><nav><a href="/">runs</a> · <a href="/schedules">schedules</a></nav>${body}
<script>async function post(url,body){const csrf=document.querySelector('meta[name=csrf-token]').content;
const r=await fetch(url,{method:'POST',headers:{'content-type':'application/json','${CSRF_HEADER}':csrf},body:JSON.stringify(body)});
const j=await r.json();if(!r.ok)alert('refused: '+j.error);location.reload();return j;}
function act(run,action,body){return post('/api/runs/'+encodeURIComponent(run)+'/'+action,body);}
function clearTask(run,task,downstream){if(confirm('Re-run '+task+(downstream?' and every task after it':'')+'? Other tasks keep their results.'))act(run,'clear',{taskId:task,downstream});}</script></body></html>`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
