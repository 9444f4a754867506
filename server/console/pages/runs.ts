/**
 * The run list and the run page: the graph with live task states, the Gantt chart of attempts
 * (queue gaps shown), why waiting tasks wait, every attempt with its error and log lines, and
 * the operator's actions, each confirmed and answered in the page's outcome line.
 */
import { Router } from 'express';
import type { DagSpec, TaskSpec } from '../../../workflows/spec';
import type { TaskStatus } from '../../../workflows/messages';
import { listRuns } from '../../client/run-history';
import type { AttemptRow } from '../../client/run-history';
import { runView, type RunView } from '../../client/run-view';
import { listQuery, RUN_STATES } from '../api/runs-api';
import type { ConsoleContext } from '../app';
import { emptyState, fmtDuration, fmtTime, postButton, selectInput, stateBadge } from '../html/components';
import { esc, sendLive } from '../html/layout';
import { checkIdParams } from '../params';
import { auditForRun, lineageForRun } from '../queries/data';
import { auditTable, lineageFigure } from './data';
import { dagGraphSvg, ganttSvg } from '../svg';
import { poolGateId, poolQuery } from '../../../workflows/pools';
import { runSlotsId, slotsQuery } from '../../../workflows/run-slots';
import { whyNotRunning, type WhyInput } from '../why-waiting';

const OPEN_STATES = new Set<string>(['queued', 'running', 'awaiting_operator']);
const FINISHED_TASK = new Set(['success', 'failed', 'skipped', 'upstream_failed']);

export function runPages(ctx: ConsoleContext): Router {
  const router = checkIdParams(Router());

  router.get('/runs', async (req, res) => {
    const filter = listQuery.parse(req.query);
    const runs = await listRuns(ctx.db, filter);
    const dagIds = ctx.dags().map((s) => s.dagId);
    const filters = `<form method="get" class="filters">${selectInput('dagId', 'DAG', dagIds, filter.dagId)} ${selectInput('state', 'state', RUN_STATES, filter.state)}
<button type="submit">Filter</button> <a href="/runs">clear</a></form>`;
    const rows = runs.map(
      (r) => `<tr data-run="${esc(r.runId)}" data-state="${esc(r.state)}"><td data-label="run"><a href="/runs/${encodeURIComponent(r.runId)}">${esc(r.runId)}</a></td>
<td data-label="DAG"><a href="/dags/${encodeURIComponent(r.dagId)}/grid">${esc(r.dagId)}</a></td><td data-label="logical date">${esc(fmtTime(r.logicalDate))}</td>
<td data-label="state">${stateBadge(r.state)}</td><td data-label="trigger">${esc(r.trigger)}</td><td data-label="duration" class="num">${esc(fmtDuration(r.durationMs))}</td>
<td data-label="failed tasks">${esc(r.failedTasks.join(', '))}</td></tr>`,
    );
    const last = runs.at(-1);
    const more =
      runs.length === filter.limit && last
        ? `<nav class="pager"><a rel="next" href="/runs?${esc(new URLSearchParams({ ...(filter.dagId ? { dagId: filter.dagId } : {}), ...(filter.state ? { state: filter.state } : {}), before: last.logicalDate }).toString())}">older →</a></nav>`
        : '';
    sendLive(req, res, {
      title: 'Runs',
      section: 'runs',
      before: filters,
      live: runs.length
        ? `<div class="scroll"><table id="runs" class="responsive"><thead><tr><th>run</th><th>DAG</th><th>logical date</th><th>state</th><th>trigger</th><th class="num">duration</th><th>failed tasks</th></tr></thead><tbody>${rows.join('\n')}</tbody></table></div>${more}`
        : emptyState('No runs recorded yet.'),
      open: runs.some((r) => OPEN_STATES.has(r.state)),
    });
  });

  router.get('/runs/:runId', async (req, res) => {
    const run = await runView(ctx.temporal, ctx.db, req.params.runId);
    const spec = ctx.dags().find((s) => s.dagId === run.dagId);
    const open = run.temporalStatus === 'RUNNING';
    const [audit, lineage, slots, pools] = await Promise.all([
      auditForRun(ctx.db, run.runId),
      lineageForRun(ctx.db, run.runId),
      open && run.state === 'queued' && spec ? gateOf(ctx, spec) : undefined,
      open ? poolGatesOf(ctx, run) : undefined,
    ]);
    sendLive(req, res, {
      title: run.runId,
      section: 'runs',
      crumbs: [['DAGs', '/'], [run.dagId, `/dags/${encodeURIComponent(run.dagId)}/grid`], [run.logicalDate ? fmtTime(run.logicalDate) : run.runId]],
      live: runBody(ctx, run, spec, open, { slots, pools }) + dataSections(audit, lineage),
      open,
    });
  });

  return router;
}

type Gates = Pick<WhyInput, 'slots' | 'pools'>;

function runBody(ctx: ConsoleContext, run: RunView, spec: DagSpec | undefined, open: boolean, gates: Gates): string {
  const id = encodeURIComponent(run.runId);
  const own = run.attempts.filter((a) => a.execution.temporalRunId === run.execution);
  const facts: Array<[string, string]> = [
    ['state', stateBadge(run.state)],
    ['DAG', `<a href="/dags/${encodeURIComponent(run.dagId)}/grid">${esc(run.dagId)}</a>`],
    ['version', `<code title="${esc(run.version ?? '')}">${esc((run.version ?? 'unknown').slice(0, 12))}</code>`],
    ['logical date', esc(fmtTime(run.logicalDate))],
    ['data interval', run.dataIntervalStart ? `${esc(fmtTime(run.dataIntervalStart))} → ${esc(fmtTime(run.dataIntervalEnd))}` : ''],
    ['Temporal', `${esc(run.temporalStatus.toLowerCase())}${run.closedAt ? ` at ${esc(fmtTime(run.closedAt))}` : ''}`],
  ];
  if (ctx.temporalUiUrl) {
    facts.push(['', `<a href="${esc(`${ctx.temporalUiUrl}/namespaces/default/workflows/${id}`)}" rel="noreferrer">open in the Temporal UI ↗</a>`]);
  }
  const actions: string[] = [];
  if (open && run.state === 'awaiting_operator') {
    actions.push(postButton('Retry all failed', `/api/runs/${id}/retry`, {}, { confirm: `Retry every failed task of ${run.runId}? Tasks that succeeded keep their results.` }));
    actions.push(postButton('Fail run', `/api/runs/${id}/fail`, { reason: 'failed from the console' }, { kind: 'danger', confirm: `Fail ${run.runId} now? Its failure callback runs; nothing is retried.` }));
  } else if (open) {
    actions.push(postButton('Fail run', `/api/runs/${id}/fail`, { reason: 'failed from the console' }, { kind: 'danger', confirm: `Fail ${run.runId} now? Running tasks are cancelled.` }));
  } else {
    actions.push(postButton('Rerun this date', `/api/runs/${id}/rerun`, {}, { confirm: `Start ${run.runId} again from scratch, every task? (To re-run some tasks only, use "clear" on them.)` }));
  }
  const notes = [
    run.reason ? `<p class="note">Why it failed: ${esc(run.reason)}</p>` : '',
    run.note ? `<p class="note">${esc(run.note)}</p>` : '',
    open && run.state === 'awaiting_operator' && run.operatorDeadline
      ? `<p class="note">Waiting for an operator until <b>${esc(fmtTime(run.operatorDeadline))}</b>, then it fails.</p>`
      : '',
    run.warnings?.length
      ? `<div class="warnings"><b>Operator messages the run ignored:</b><ul>${run.warnings.map((w) => `<li>${esc(fmtTime(w.at))}: ${esc(w.message)}</li>`).join('')}</ul></div>`
      : '',
    spec && run.version && spec.version !== run.version
      ? `<p class="note">This run ran version ${esc(run.version.slice(0, 12))}; the graph shows the DAG's current version ${esc(spec.version.slice(0, 12))}.</p>`
      : '',
  ].join('');
  return `<div class="facts">${facts.map(([k, v]) => `<div><span>${k}</span>${v}</div>`).join('')}</div>
<div class="actions">${actions.join(' ')}</div>${notes}
${open ? whySection(run, spec, own, gates) : ''}
<h2>Graph</h2><figure id="graph" class="wide">${graph(run, spec)}</figure>
<h2>Timeline</h2><figure id="gantt" class="wide">${gantt(run, spec, own)}<figcaption class="muted">Bars are attempts; hatched, the time a task waited after its upstream tasks finished.</figcaption></figure>
<h2>Tasks</h2>${taskTable(run, spec, open)}`;
}

/** Who holds the DAG's maxActiveRuns slots and who waits, from its gate; nothing when it cannot say. */
async function gateOf(ctx: ConsoleContext, spec: DagSpec): Promise<WhyInput['slots']> {
  try {
    const gate = await ctx.temporal.workflow.getHandle(runSlotsId(spec.dagId, spec.taskQueue)).query(slotsQuery);
    return { maxActiveRuns: gate.maxActiveRuns, holders: gate.holders.map((h) => h.runId), waiting: gate.waiting.map((w) => w.runId) };
  } catch {
    return undefined;
  }
}

/** The gates of the pools this run's tasks wait for, as they answer now; a gate that cannot answer is left out. */
async function poolGatesOf(ctx: ConsoleContext, run: RunView): Promise<WhyInput['pools']> {
  const names = [...new Set(run.tasks.flatMap((t) => (t.waitingFor ? [t.waitingFor.pool] : [])))];
  if (names.length === 0) return undefined;
  const answers = await Promise.all(
    names.map(async (name) => {
      try {
        const gate = await ctx.temporal.workflow.getHandle(poolGateId(name)).query(poolQuery);
        return [[name, { size: gate.size, inUse: gate.inUse, waiting: gate.waiting.map((w) => ({ key: w.key })) }]] as const;
      } catch {
        return [];
      }
    }),
  );
  return Object.fromEntries(answers.flat());
}

function whySection(run: RunView, spec: DagSpec | undefined, own: AttemptRow[], gates: Gates): string {
  if (!spec) return '';
  const why = whyNotRunning({ spec, runId: run.runId, ...gates, run: { state: run.state, operatorDeadline: run.operatorDeadline, tasks: run.tasks }, attempts: own, now: new Date() });
  if (!why.run && why.tasks.length === 0) return '';
  const items = why.tasks.map((t) => `<li data-task="${esc(t.taskId)}"><b>${esc(t.taskId)}</b> ${stateBadge(t.state)}: ${esc(t.reason)}</li>`).join('');
  return `<section id="why" class="card why"><h2>Why is this not running?</h2>${why.run ? `<p>${esc(why.run)}</p>` : ''}${items ? `<ul>${items}</ul>` : ''}</section>`;
}

function graph(run: RunView, spec: DagSpec | undefined): string {
  const states = new Map(run.tasks.map((t) => [t.id, t]));
  const tasks: Array<Pick<TaskSpec, 'id' | 'upstream' | 'kind'>> = spec ? spec.tasks : run.tasks.map((t) => ({ id: t.id, upstream: [], kind: 'task' as const }));
  const nodes = tasks.map((t) => {
    const status = states.get(t.id);
    return {
      id: t.id,
      label: t.id,
      state: status?.state ?? 'pending',
      kind: 'task' as const,
      href: `#task-${encodeURIComponent(t.id)}`,
      detail: `${t.kind}${status?.attempts ? ` · ${status.attempts} attempt${status.attempts === 1 ? '' : 's'}` : ''}${status?.mapSummary ? ` · ${status.mapSummary.total} mapped` : ''}`,
    };
  });
  const edges = tasks.flatMap((t) => t.upstream.map((from) => ({ from, to: t.id })));
  return dagGraphSvg({ nodes, edges, ariaLabel: `task graph of ${run.runId}` });
}

function gantt(run: RunView, spec: DagSpec | undefined, own: AttemptRow[]): string {
  const byTask = new Map<string, AttemptRow[]>();
  for (const a of own) byTask.set(a.taskId, [...(byTask.get(a.taskId) ?? []), a]);
  const order = spec ? spec.tasks.map((t) => t.id) : run.tasks.map((t) => t.id);
  const upstream = new Map(spec?.tasks.map((t) => [t.id, t.upstream]) ?? []);
  // When a task could have started: the last of its upstream tasks' final attempts ended.
  const doneAt = (taskId: string): string | undefined => {
    const ends = (byTask.get(taskId) ?? []).map((a) => a.endedAt).filter((e): e is string => e !== null);
    return ends.sort().at(-1);
  };
  const rows = order
    .filter((taskId) => byTask.has(taskId))
    .map((taskId) => {
      const ups = (upstream.get(taskId) ?? []).map(doneAt);
      const readyAt = ups.length > 0 && ups.every((u) => u !== undefined) ? (ups as string[]).sort().at(-1) : undefined;
      return {
        id: taskId,
        label: taskId,
        ...(readyAt ? { readyAt } : {}),
        bars: (byTask.get(taskId) ?? []).map((a) => ({
          start: a.startedAt,
          ...(a.endedAt ? { end: a.endedAt } : {}),
          state: a.state,
          label: `attempt ${a.attempt}${a.mapIndex === null ? '' : ` [${a.mapIndex}]`}`,
        })),
      };
    });
  if (rows.length === 0) return emptyState('No attempt has started yet.');
  return ganttSvg({ rows, now: new Date(), ariaLabel: `timeline of ${run.runId}` });
}

function taskTable(run: RunView, spec: DagSpec | undefined, open: boolean): string {
  const id = encodeURIComponent(run.runId);
  const specs = new Map(spec?.tasks.map((t) => [t.id, t]) ?? []);
  const rows = run.tasks.map((t) => {
    const attempts = run.attempts.filter((a) => a.taskId === t.id);
    const buttons: string[] = [];
    if (open && t.state === 'failed') {
      buttons.push(postButton('Retry', `/api/runs/${id}/retry`, { taskId: t.id }, { confirm: `Retry ${t.id}? The tasks that succeeded keep their results.` }));
      buttons.push(postButton('Mark success', `/api/runs/${id}/mark-success`, { taskId: t.id }, { kind: 'secondary', confirm: `Mark ${t.id} as succeeded without running it? Downstream tasks then run.` }));
    }
    if (FINISHED_TASK.has(t.state)) {
      buttons.push(postButton('Clear', `/api/runs/${id}/clear`, { taskId: t.id, downstream: false }, { kind: 'secondary', confirm: `Re-run ${t.id}? Other tasks keep their results.` }));
      buttons.push(postButton('Clear + downstream', `/api/runs/${id}/clear`, { taskId: t.id, downstream: true }, { kind: 'secondary', confirm: `Re-run ${t.id} and every task after it? Other tasks keep their results.` }));
    }
    const duration = t.startedAt && t.endedAt ? Date.parse(t.endedAt) - Date.parse(t.startedAt) : null;
    return `<tr id="task-${esc(t.id)}" data-task="${esc(t.id)}" data-state="${esc(t.state)}">
<td data-label="task"><b>${esc(t.id)}</b>${mappedSummary(t)}</td><td data-label="state">${stateBadge(t.state)}${t.skipReason ? ` <span class="muted">(${esc(t.skipReason.replace('_', ' '))})</span>` : ''}</td>
<td data-label="attempts" class="num">${t.attempts}</td><td data-label="started">${esc(fmtTime(t.startedAt))}</td><td data-label="duration" class="num">${esc(fmtDuration(duration))}</td>
<td data-label="error">${t.error ? `<pre>${esc(t.error)}</pre>` : ''}</td><td data-label="actions"><div class="actions">${buttons.join('')}</div></td></tr>
<tr class="detail" data-detail-for="${esc(t.id)}"><td colspan="7"><details data-key="task-${esc(t.id)}"${t.state === 'failed' ? ' open' : ''}><summary>attempts, logs, input and output</summary>${attemptList(attempts, run.execution)}${ioBlock(specs.get(t.id), t)}</details></td></tr>`;
  });
  return `<div class="scroll"><table id="tasks" class="responsive"><thead><tr><th>task</th><th>state</th><th class="num">attempts</th><th>started</th><th class="num">duration</th><th>error</th><th></th></tr></thead><tbody>${rows.join('\n')}</tbody></table></div>`;
}

function mappedSummary(t: TaskStatus): string {
  const summary = t.mapSummary;
  if (!summary) return '';
  const counts = Object.entries(summary.counts).map(([s, n]) => `${n} ${esc(s)}`).join(', ');
  const failed = summary.failedIndexes;
  const failedNote = failed.length ? `; failed indexes ${failed.slice(0, 20).join(', ')}${(summary.counts.failed ?? 0) > 20 ? '…' : ''}` : '';
  return `<div class="muted">${summary.total} mapped: ${counts}${failedNote}</div>`;
}

function attemptList(attempts: AttemptRow[], execution: string): string {
  if (attempts.length === 0) return emptyState('No attempt recorded.');
  return attempts
    .map((a) => {
      const earlier = a.execution.temporalRunId === execution ? '' : ` <span class="muted">(earlier execution, ${esc(a.execution.trigger ?? 'unknown trigger')}, started ${esc(fmtTime(a.execution.startedAt))})</span>`;
      const logs = (a.logs as Array<{ at?: string; level?: string; msg?: string }>).map((l) => `${fmtTime(l.at)} ${l.level ?? ''} ${l.msg ?? JSON.stringify(l)}`).join('\n');
      const took = a.endedAt ? ` · ${fmtDuration(Date.parse(a.endedAt) - Date.parse(a.startedAt))}` : '';
      return `<div class="attempt" data-attempt="${a.attempt}"><b>attempt ${a.attempt}${a.mapIndex === null ? '' : ` [${a.mapIndex}]`}</b> ${stateBadge(a.state)} · ${esc(fmtTime(a.startedAt))}${esc(took)} · <span class="muted">${esc(a.worker)}</span>${earlier}
${a.error ? `<pre class="error">${esc(a.error)}</pre>` : ''}${logs ? `<pre>${esc(logs)}</pre>` : '<div class="muted">no log lines</div>'}</div>`;
    })
    .join('');
}

/** The task's input template and its output (inline, or the S3 key it was offloaded to), shortened. */
function ioBlock(spec: TaskSpec | undefined, status: TaskStatus): string {
  const show = (value: unknown) => {
    const text = JSON.stringify(value, null, 2) ?? '';
    return text.length > 4000 ? `${text.slice(0, 4000)}\n… (${text.length} characters)` : text;
  };
  return `<div class="io">${spec ? `<div><b>input</b> <span class="muted">(template; references resolve when the task starts)</span><pre>${esc(show(spec.input))}</pre></div>` : ''}${
    status.output !== undefined ? `<div><b>output</b><pre>${esc(show(status.output))}</pre></div>` : ''
  }</div>`;
}

function dataSections(audit: Awaited<ReturnType<typeof auditForRun>>, lineage: Awaited<ReturnType<typeof lineageForRun>>): string {
  const parts: string[] = [];
  if (audit.length > 0) parts.push(`<h2>Records in and out</h2>${auditTable(audit)}`);
  if (lineage.nodes.length > 0) parts.push(`<h2>Lineage</h2>${lineageFigure(lineage)}`);
  return parts.join('');
}

