/**
 * The DAG list (the home page), a DAG's trigger form and its grid: Airflow's three most used
 * views. Runs show as squares with their state's symbol, so the page reads without colour.
 */
import { Router } from 'express';
import type { DagSpec } from '../../../workflows/spec';
import { dagAssets } from '../../assets/asset-graph';
import type { ConsoleContext } from '../app';
import { dagGrid, dagSummaries, findDag, triggerRun, type DagGrid, type DagSummary } from '../dag-views';
import { dateRangeInputs, emptyState, fmtTime, postButton, selectInput, stateBadge } from '../html/components';
import { esc, page, sendLive } from '../html/layout';
import { KNOWN_STATES, stateStyle } from '../html/states';
import { paramFields, paramsFormHtml } from '../params-form';
import { checkIdParams } from '../params';
import { runsNeedingAttention, type AttentionRun } from '../queries/dag-overview';
import { gridQuery } from '../queries/grid';

const RUN_STATES = ['queued', 'running', 'awaiting_operator', 'success', 'failed'];
/** How far back a failed run still asks for attention on the home page. */
const ATTENTION_DAYS = 7;

export function dagPages(ctx: ConsoleContext): Router {
  const router = checkIdParams(Router());

  router.get('/', async (req, res) => {
    const [dags, attention] = await Promise.all([dagSummaries(ctx), runsNeedingAttention(ctx.db, { days: ATTENTION_DAYS, limit: 20 })]);
    const open = dags.some((d) => d.recent.some((r) => RUN_STATES.slice(0, 3).includes(r.state)));
    sendLive(req, res, {
      title: 'DAGs',
      section: 'dags',
      live: `${attentionList(attention)}${dags.length ? dagTable(dags) : emptyState('No DAGs found: put a DAG file in dags/ (see the README) and restart.')}`,
      open,
    });
  });

  router.get('/dags/:dagId', (req, res) => {
    findDag(ctx, req.params.dagId);
    res.redirect(`/dags/${encodeURIComponent(req.params.dagId)}/grid`);
  });

  router.get('/dags/:dagId/trigger', (req, res) => {
    const spec = findDag(ctx, req.params.dagId);
    res.type('html').send(
      page(res, {
        title: `Trigger ${spec.dagId}`,
        section: 'dags',
        crumbs: [['DAGs', '/'], [spec.dagId, gridHref(spec.dagId)], ['trigger']],
        body: triggerForm(spec),
      }),
    );
  });

  // The form's own endpoint: its fields are the params, beside `logicalDate`.
  router.post('/dags/:dagId/trigger', async (req, res) => {
    const spec = findDag(ctx, req.params.dagId);
    const { logicalDate, ...params } = (req.body ?? {}) as Record<string, unknown>;
    const outcome = await triggerRun(ctx, spec, { logicalDate: typeof logicalDate === 'string' ? logicalDate : undefined, params });
    res.status(outcome.started ? 201 : 200).json(outcome);
  });

  router.get('/dags/:dagId/grid', async (req, res) => {
    const spec = findDag(ctx, req.params.dagId);
    const query = gridQuery.parse(req.query);
    const grid = await dagGrid(ctx, spec, query);
    const filters = `<form method="get" class="filters">${selectInput('state', 'state', RUN_STATES, query.state)} ${dateRangeInputs(query.from, query.to)}
<button type="submit">Filter</button> <a href="${gridHref(spec.dagId)}">clear</a></form>`;
    sendLive(req, res, {
      title: spec.dagId,
      section: 'dags',
      crumbs: [['DAGs', '/'], [spec.dagId]],
      before: `${dagFacts(spec, ctx.dags())}<div class="actions"><a class="button primary" href="/dags/${encodeURIComponent(spec.dagId)}/trigger">Trigger</a>${
        spec.schedule ? ` <a class="button" href="/backfills/new?dagId=${encodeURIComponent(spec.dagId)}">Backfill</a>` : ''
      } <a class="button" href="/runs?dagId=${encodeURIComponent(spec.dagId)}">Run list</a></div>${filters}${legend()}`,
      live: gridTable(grid, req.originalUrl, query.limit),
      // Always live: a run just triggered reaches the history a moment after the trigger answers.
      open: true,
    });
  });

  return router;
}

function gridHref(dagId: string): string {
  return `/dags/${encodeURIComponent(dagId)}/grid`;
}

/** Runs waiting for an operator, then failures of the last week not run again: where on-call starts. */
function attentionList(runs: AttentionRun[]): string {
  if (runs.length === 0) return '';
  const items = runs
    .map(
      (r) => `<li data-run="${esc(r.runId)}">${stateBadge(r.state)} <a href="/runs/${encodeURIComponent(r.runId)}">${esc(r.runId)}</a>${
        r.failedTasks.length ? ` · failed: ${esc(r.failedTasks.join(', '))}` : ''
      }${r.reason ? ` <span class="muted">${esc(r.reason.length > 160 ? `${r.reason.slice(0, 160)}…` : r.reason)}</span>` : ''}</li>`,
    )
    .join('');
  return `<section id="attention" class="card"><h2>Needs attention</h2><ul>${items}</ul><p class="muted">Runs waiting for an operator, then runs that failed in the last ${ATTENTION_DAYS} days and were not run again.</p></section>`;
}

function dagTable(dags: DagSummary[]): string {
  const rows = dags.map((d) => {
    const id = encodeURIComponent(d.dagId);
    const squares = d.recent
      .map((r) => {
        const s = stateStyle(r.state);
        return `<a class="sq state-${esc(r.state)}" data-state="${esc(r.state)}" href="/runs/${encodeURIComponent(r.runId)}" title="${esc(`${fmtTime(r.logicalDate)} · ${s.label}`)}" aria-label="${esc(`run of ${fmtTime(r.logicalDate)}: ${s.label}`)}">${s.symbol}</a>`;
      })
      .join('');
    const schedule = d.schedule
      ? `<code>${esc(d.schedule.cron)}</code> <span class="muted">${esc(d.schedule.timezone)}</span>`
      : d.assetSchedule
        ? `<span class="muted">assets:</span> ${d.assetSchedule.map((a) => `<code>${esc(a)}</code>`).join(', ')}`
        : '<span class="muted">manual only</span>';
    const paused =
      d.paused === null
        ? `<span class="muted">${d.schedule ? (d.scheduleError ? `unknown: ${esc(d.scheduleError)}` : 'not synced') : '—'}</span>`
        : d.paused
          ? `<span class="badge state-skipped">⏸ paused</span>${d.pauseNote ? ` <span class="muted">${esc(d.pauseNote)}</span>` : ''}`
          : '<span class="badge state-success">▶ active</span>';
    const toggle =
      d.paused === null
        ? ''
        : d.paused
          ? postButton('Unpause', `/api/schedules/${id}/unpause`, {}, { kind: 'secondary', confirm: `Unpause ${d.dagId}? Fire times missed while paused are not run; backfill them if they are needed.` })
          : postButton('Pause', `/api/schedules/${id}/pause`, { note: 'paused from the console' }, { kind: 'secondary', confirm: `Pause ${d.dagId}? No new scheduled runs start until it is unpaused.` });
    const rate = d.successRate === null ? '' : `${Math.round(d.successRate * 100)}%`;
    return `<tr data-dag="${esc(d.dagId)}">
<td data-label="DAG"><a href="/dags/${id}/grid"><b>${esc(d.dagId)}</b></a>${d.description ? `<div class="muted">${esc(d.description)}</div>` : ''}${d.tags.length ? `<div class="muted">${d.tags.map((t) => `#${esc(t)}`).join(' ')}</div>` : ''}</td>
<td data-label="schedule">${schedule}</td><td data-label="state">${paused}</td>
<td data-label="version"><code title="${esc(d.version)}">${esc(d.version.slice(0, 8))}</code></td>
<td data-label="last runs"><div class="runs">${squares || '<span class="muted">no runs yet</span>'}</div></td>
<td data-label="success" class="num" title="of the finished runs shown">${rate}</td>
<td data-label="next run">${esc(fmtTime(d.nextRun))}</td>
<td data-label="actions"><div class="actions"><a class="button primary trigger" href="/dags/${id}/trigger">Trigger</a>${toggle}</div></td></tr>`;
  });
  return `<div class="scroll"><table id="dags" class="responsive"><thead><tr><th>DAG</th><th>schedule (UTC unless named)</th><th>state</th><th>version</th><th>last 25 runs (oldest left)</th><th class="num">success</th><th>next run</th><th></th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>`;
}

function dagFacts(spec: DagSpec, specs: readonly DagSpec[]): string {
  const schedule = spec.schedule
    ? `${esc(spec.schedule.cron)} (${esc(spec.schedule.timezone)})`
    : spec.assetSchedule
      ? `assets: ${spec.assetSchedule.map((a) => `<code>${esc(a)}</code>`).join(', ')}`
      : 'manual only';
  const facts: Array<[string, string]> = [
    ['schedule', schedule],
    ['version', `<code>${esc(spec.version.slice(0, 12))}</code>`],
    ['tasks', String(spec.tasks.length)],
    ['max active tasks', String(spec.maxActiveTasks)],
    ['task queue', `<code>${esc(spec.taskQueue)}</code>`],
  ];
  return `${spec.description ? `<p>${esc(spec.description)}</p>` : ''}<div class="facts">${facts.map(([k, v]) => `<div><span>${k}</span>${v}</div>`).join('')}</div>${assetEdges(spec, specs)}`;
}

/** Upstream DAGs → this DAG through its scheduled assets, what its tasks write, and the DAGs that write starts. */
function assetEdges(spec: DagSpec, specs: readonly DagSpec[]): string {
  const assets = dagAssets(specs, spec);
  const dagLink = (dagId: string) => `<a href="${gridHref(dagId)}">${esc(dagId)}</a>`;
  const items = [
    ...assets.scheduledOn.map(({ asset, producers }) => {
      const from = producers.length > 0 ? [...new Set(producers.map((p) => p.dagId))].map(dagLink).join(', ') : '<span class="muted">no DAG writes it</span>';
      return `<li>${from} → <code>${esc(asset)}</code> → ${esc(spec.dagId)}</li>`;
    }),
    ...assets.outlets.map(({ taskId, assets: written }) => `<li>${esc(taskId)} writes ${written.map((a) => `<code>${esc(a)}</code>`).join(', ')}</li>`),
    ...assets.consumers.map((c) => `<li>${esc(spec.dagId)} → ${c.assets.map((a) => `<code>${esc(a)}</code>`).join(', ')} → ${dagLink(c.dagId)}</li>`),
  ];
  return items.length > 0 ? `<section id="assets"><h2>Assets</h2><ul>${items.join('')}</ul></section>` : '';
}

function legend(): string {
  return `<div class="legend" aria-label="legend">${KNOWN_STATES.filter((s) => s !== 'duplicate').map((s) => stateBadge(s)).join(' ')}</div>`;
}

function gridTable(grid: DagGrid, url: string, limit: number): string {
  if (grid.runs.length === 0) return emptyState('No runs match. Trigger one, or clear the filters.');
  const heads = grid.runs
    .map((r) => {
      const s = stateStyle(r.state);
      return `<th class="run" data-run="${esc(r.runId)}" data-state="${esc(r.state)}" scope="col"><a href="/runs/${encodeURIComponent(r.runId)}" title="${esc(`${r.runId} · ${s.label} · ${r.trigger}`)}">${s.symbol} ${esc(fmtTime(r.logicalDate).slice(0, 16))}</a></th>`;
    })
    .join('');
  // Each run's id and link once, not once per cell: a page has up to 100 runs of many tasks.
  const columns = grid.runs.map((r) => ({ run: r, id: esc(r.runId), href: `/runs/${encodeURIComponent(r.runId)}#task-` }));
  const rows = grid.tasks.map((taskId) => {
    const task = esc(taskId);
    const anchor = encodeURIComponent(taskId);
    const cells = columns
      .map(({ run, id, href }) => {
        const cell = run.cells[taskId];
        if (!cell) return `<td class="missing" data-run="${id}" data-task="${task}" title="not run">·</td>`;
        const s = stateStyle(cell.state);
        const mapped = cell.mapped ? ` · instances ${Object.entries(cell.mapped).map(([k, v]) => `${v} ${k}`).join(', ')}` : '';
        const title = `${s.label} · ${cell.attempts} attempt${cell.attempts === 1 ? '' : 's'}${mapped}`;
        return `<td class="cell" data-run="${id}" data-task="${task}" data-state="${esc(cell.state)}"><a class="state-${esc(cell.state)}" href="${href}${anchor}" title="${esc(title)}">${s.symbol}</a></td>`;
      })
      .join('');
    // The row and column headers name each cell's task and run for screen readers.
    return `<tr><th class="task" scope="row">${task}</th>${cells}</tr>`;
  });
  const last = grid.runs.at(-1);
  const older =
    grid.hasMore && last
      ? `<nav class="pager"><a rel="next" href="${esc(withParam(url, 'before', last.logicalDate))}">older runs →</a></nav>`
      : '';
  return `<div class="scroll"><table id="grid" class="grid"><thead><tr><th>task ╲ run (newest left)</th>${heads}</tr></thead><tbody>${rows.join('\n')}</tbody></table></div>
<p class="muted">${grid.runs.length} run${grid.runs.length === 1 ? '' : 's'} shown (up to ${limit}).</p>${older}`;
}

function withParam(url: string, key: string, value: string): string {
  const parsed = new URL(url, 'http://console');
  parsed.searchParams.set(key, value);
  return `${parsed.pathname}?${parsed.searchParams.toString()}`;
}

function triggerForm(spec: DagSpec): string {
  const fields = paramFields(spec.paramsSchema);
  const dateHelp = spec.schedule
    ? `Empty: now (an ad-hoc run). A date (YYYY-MM-DD) runs that day's scheduled fire time in ${esc(spec.schedule.timezone)}.`
    : 'Empty: now. Or a date (YYYY-MM-DD) or an instant with its zone.';
  return `<form id="trigger" class="stack" novalidate data-api="/dags/${encodeURIComponent(spec.dagId)}/trigger">
<label>logical date <input name="logicalDate" placeholder="YYYY-MM-DD" autocomplete="off"><span class="help">${dateHelp}</span></label>
<small class="field-error" data-error-for="logicalDate"></small>
${fields.length ? paramsFormHtml(fields, esc) : '<p class="muted">This DAG takes no params.</p>'}
<div class="actions"><button type="submit">Trigger run</button> <a class="button" href="${gridHref(spec.dagId)}">Cancel</a></div></form>`;
}
