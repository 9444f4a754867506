/**
 * The data pages: how good the warehouse's tables are (quality scores over time, failed checks
 * with the rows that failed), what the pipelines refused (the exceptions browser, raw records
 * shown as received), whether every load balanced (the audit log's conservation equation), and
 * which tasks read and write which tables (lineage). Everything from data is escaped; states read
 * as symbol and word, not colour alone.
 */
import { Router } from 'express';
import type { Knex } from 'knex';
import { EXCEPTION_CATEGORIES } from '../../../activities/lib/exception-categories';
import { dateRangeInputs, emptyState, filterForm, fmtTime, pager, selectInput } from '../html/components';
import { esc, page } from '../html/layout';
import {
  auditLog,
  auditQuery,
  exceptionsQuery,
  failedChecks,
  knownSources,
  lineageGraph,
  lineageQuery,
  listExceptions,
  qualityOverview,
  qualityQuery,
  type AuditRow,
  type AuditRun,
  type ExceptionRecord,
  type FailedCheck,
  type LineageGraph,
  type QualityOverview,
} from '../queries/data';
import { dagGraphSvg } from '../svg/dag-graph';
import { lineChartSvg } from '../svg/charts';

const TABS: Array<[path: string, label: string]> = [
  ['/data/quality', 'Quality'],
  ['/data/exceptions', 'Exceptions'],
  ['/data/audit', 'Audit log'],
  ['/data/lineage', 'Lineage'],
];

export function dataPages(db: Knex): Router {
  const router = Router();

  router.get('/data/quality', async (req, res) => {
    const q = qualityQuery.parse(req.query);
    const [overview, failed] = await Promise.all([qualityOverview(db, q), failedChecks(db, q)]);
    const tables = overview.latest.map((s) => s.table);
    const filters = filterForm(`${selectInput('table', 'table', tables, q.table, 'all tables')} ${dateRangeInputs(overview.range?.from, overview.range?.to)}`, '/data/quality');
    const body =
      overview.range === null
        ? q.table
          ? `${filters}${emptyState(`No quality results for ${q.table}.`)}`
          : emptyState('No quality results yet: run quality_checks (it checks the day daily_etl loaded, table by table).')
        : `${filters}<div class="charts">${qualityChart(overview)}<section><h2>Latest score per table</h2>${latestScores(overview)}</section></div>
<h2 id="failed">Failed checks, ${esc(overview.range.from)} to ${esc(overview.range.to)}</h2>
${failed.rows.length ? `<div class="scroll">${failedTable(failed.rows)}</div>` : emptyState('No check failed in this range.')}
${pager('/data/quality', queryOf(q), failed.page, failed.hasMore)}`;
    send(res, 'Data quality', '/data/quality', body);
  });

  router.get('/data/exceptions', async (req, res) => {
    const q = exceptionsQuery.parse(req.query);
    const [found, sources] = await Promise.all([listExceptions(db, q), knownSources(db)]);
    // Source is free text (any DAG may quarantine), with the audited sources as suggestions.
    const filters = filterForm(
      `${selectInput('category', 'category', EXCEPTION_CATEGORIES, q.category)} <label>DAG <input name="dagId" value="${esc(q.dagId ?? '')}" size="14"></label>
<label>source <input name="source" value="${esc(q.source ?? '')}" list="exception-sources" size="16"></label><datalist id="exception-sources">${sources.map((s) => `<option value="${esc(s)}">`).join('')}</datalist>
${dateRangeInputs(q.from, q.to)}`,
      '/data/exceptions',
    );
    const filtered = Boolean(q.category || q.dagId || q.source || q.from || q.to);
    const list = found.rows.length
      ? `<div class="scroll">${exceptionsTable(found.rows)}</div>`
      : emptyState(filtered || q.page > 1 ? 'No quarantined records match these filters.' : 'No quarantined records yet: daily_etl puts every record it refuses here, with the reason.');
    send(res, 'Exceptions', '/data/exceptions', `${filters}${list}${pager('/data/exceptions', queryOf(q), found.page, found.hasMore)}`);
  });

  router.get('/data/audit', async (req, res) => {
    const q = auditQuery.parse(req.query);
    const audit = await auditLog(db, q);
    const filters = filterForm(`<label>DAG <input name="dagId" value="${esc(q.dagId ?? '')}" size="14"></label> ${dateRangeInputs(q.from, q.to)}`, '/data/audit');
    const filtered = Boolean(q.dagId || q.from || q.to);
    const runs = audit.runs.length
      ? audit.runs.map(auditCard).join('\n')
      : emptyState(filtered || q.page > 1 ? 'No audit entries match these filters.' : 'No audit entries yet: daily_etl writes its counts here at the end of every run.');
    const intro = `<p class="help">Every load must conserve its records: <b>records in = loaded + quarantined</b>, for every source. A row that does not balance lost or doubled records.</p>`;
    send(res, 'Audit log', '/data/audit', `${intro}${filters}${runs}${pager('/data/audit', queryOf(q), audit.page, audit.hasMore)}`);
  });

  router.get('/data/lineage', async (req, res) => {
    const q = lineageQuery.parse(req.query);
    const graph = await lineageGraph(db, q);
    const filters = filterForm(
      `<label>DAG <input name="dagId" value="${esc(q.dagId ?? '')}" size="14"></label> <label>run <input name="runId" value="${esc(q.runId ?? '')}" size="30"></label>`,
      '/data/lineage',
    );
    const scope = q.runId ? `run ${q.runId}` : q.dagId ? `DAG ${q.dagId}, each task's latest run` : "each task's latest run";
    const body = graph.nodes.length
      ? `${filters}${lineageFigure(graph, scope)}<h2>Reads and writes</h2><div class="scroll">${lineageTable(graph)}</div>`
      : `${filters}${emptyState(q.runId || q.dagId ? 'No lineage for this DAG or run.' : 'No lineage yet: pipeline tasks record what they read and wrote when they run (run daily_etl).')}`;
    send(res, 'Lineage', '/data/lineage', body);
  });

  return router;
}

function send(res: Parameters<typeof page>[0], title: string, path: string, body: string): void {
  const tabs = `<nav class="actions" aria-label="data pages">${TABS.map(
    ([href, label]) => `<a class="button${href === path ? ' primary' : ''}" href="${href}"${href === path ? ' aria-current="page"' : ''}>${label}</a>`,
  ).join(' ')}</nav>`;
  res.type('html').send(page(res, { title, section: 'data', body: `${tabs}\n${body}` }));
}

/** A parsed query as the pager's string map. */
function queryOf(q: Record<string, string | number | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(q).map(([k, v]) => [k, v === undefined ? undefined : String(v)]));
}

const int = (value: number | null): string => (value === null ? '' : value.toLocaleString('en-US'));
const runLink = (runId: string): string => `<a href="/runs/${encodeURIComponent(runId)}">${esc(runId)}</a>`;
const json = (value: unknown): string => `<pre>${esc(JSON.stringify(value, null, 2))}</pre>`;

// ---------------------------------------------------------------------------------------------
// Quality

function qualityChart(overview: QualityOverview): string {
  const range = overview.range;
  if (!range) return '';
  const chart = lineChartSvg({
    series: overview.series.map((s) => ({ name: s.table, points: s.points.map((p) => ({ x: p.day, y: p.score })) })),
    ariaLabel: `Quality score per table from ${range.from} to ${range.to}`,
    yLabel: 'score',
    yMin: 0,
    yMax: 100,
  });
  return `<figure id="quality-chart">${chart}<figcaption>Quality score per table (0 to 100: the share of checks passed, blocking checks weighing twice), ${esc(range.from)} to ${esc(range.to)}</figcaption></figure>`;
}

function latestScores(overview: QualityOverview): string {
  if (overview.latest.length === 0) return emptyState('No scores up to the end of this range.');
  const rows = overview.latest.map(
    (s) => `<tr data-table="${esc(s.table)}"><td data-label="table"><a href="/data/quality?table=${encodeURIComponent(s.table)}">${esc(s.table)}</a></td>
<td data-label="day (links to the run)"><a href="/runs/${encodeURIComponent(s.runId)}" title="run ${esc(s.runId)}">${esc(s.day)}</a></td><td class="num" data-label="score">${s.score.toFixed(2)}</td><td class="num" data-label="checks">${s.checks}</td>
<td class="num" data-label="failed blocking">${s.failedBlocking > 0 ? `<span aria-hidden="true">✗</span> ${s.failedBlocking}` : '0'}</td>
<td class="num" data-label="failed warnings">${s.failedWarning > 0 ? `<span aria-hidden="true">!</span> ${s.failedWarning}` : '0'}</td></tr>`,
  );
  return `<div class="scroll"><table id="latest-scores" class="responsive"><thead><tr><th>table</th><th>day</th><th class="num">score</th><th class="num">checks</th><th class="num">failed blocking</th><th class="num">failed warnings</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div>`;
}

function failedTable(rows: readonly FailedCheck[]): string {
  const body = rows.map(
    (c) => `<tr data-check="${esc(`${c.table}.${c.check}`)}"><td data-label="day">${esc(c.day)}</td><td data-label="table">${esc(c.table)}</td>
<td data-label="check"><div><code>${esc(c.check)}</code><br><span class="muted">${esc(c.kind)}</span></div></td>
<td data-label="severity">${c.severity === 'blocking' ? '<span aria-hidden="true">✗</span> blocking' : '<span aria-hidden="true">!</span> warning'}</td>
<td class="num" data-label="failed rows">${c.failedRows === null ? '<span class="muted">whole table</span>' : `${int(c.failedRows)} of ${int(c.totalRows)}`}</td>
<td data-label="observed"><div><pre>${esc(compactJson(c.observed))}</pre>${samplesDetails(c.samples)}</div></td><td data-label="run">${runLink(c.runId)}</td></tr>`,
  );
  return `<table id="failed-checks" class="responsive"><thead><tr><th>day</th><th>table</th><th>check</th><th>severity</th><th class="num">failed rows</th><th>observed, sample rows</th><th>run</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table>`;
}

/** The failing rows a check kept, as a table of their columns, folded away. */
function samplesDetails(samples: readonly unknown[]): string {
  if (samples.length === 0) return '';
  const objects = samples.filter((s): s is Record<string, unknown> => typeof s === 'object' && s !== null && !Array.isArray(s));
  if (objects.length !== samples.length) return `<details><summary>${samples.length} sample rows</summary>${json(samples)}</details>`;
  const columns = [...new Set(objects.flatMap((o) => Object.keys(o)))];
  const cell = (v: unknown) => esc(typeof v === 'string' ? v : JSON.stringify(v) ?? '');
  return `<details class="samples"><summary>${samples.length} sample row${samples.length === 1 ? '' : 's'}</summary><div class="scroll"><table>
<thead><tr>${columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead>
<tbody>${objects.map((o) => `<tr>${columns.map((c) => `<td>${cell(o[c])}</td>`).join('')}</tr>`).join('\n')}</tbody></table></div></details>`;
}

// ---------------------------------------------------------------------------------------------
// Exceptions

function exceptionsTable(rows: readonly ExceptionRecord[]): string {
  const where = (e: ExceptionRecord) =>
    e.sourceFile ? `<br><code>${esc(e.sourceFile)}${e.sourceLine === null ? '' : `:${e.sourceLine}`}</code>` : e.sourceId ? `<br>id <code>${esc(e.sourceId)}</code>` : '';
  // Cells hold one element each: on a phone the cells become flex rows, where loose parts would sit side by side.
  const body = rows.map(
    (e) => `<tr data-exception="${e.exceptionId}" data-category="${esc(e.category)}"><td data-label="category"><code>${esc(e.category)}</code></td>
<td data-label="DAG"><a href="/runs/${encodeURIComponent(e.runId)}" title="run ${esc(e.runId)}">${esc(e.dagId)}</a></td><td data-label="date">${esc(e.logicalDate)}</td>
<td data-label="source"><div>${esc(e.source)}${where(e)}</div></td><td data-label="stage"><div>${esc(e.stage)}<br><span class="muted">${esc(e.taskId)}</span></div></td>
<td data-label="reason">${esc(e.reason)}</td><td data-label="raw record"><pre>${esc(compactJson(e.raw))}</pre></td></tr>`,
  );
  return `<table id="exceptions" class="responsive"><thead><tr><th>category</th><th>DAG (links to the run)</th><th>date</th><th>source, file:line or id</th><th>stage, task</th><th>reason</th><th>raw record</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table>`;
}

/** A record on as few lines as its width allows: `{"id": 7, "email": "x"}`, breaking after commas. */
function compactJson(value: unknown): string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return JSON.stringify(value) ?? '';
  return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v) ?? 'null'}`).join(', ')}}`;
}

// ---------------------------------------------------------------------------------------------
// Audit

/** `120 = 100 + 20 ✓ holds`, or `✗ off by 3`: the verdict in words as well as a mark. */
export function equation(row: Pick<AuditRow, 'recordsIn' | 'recordsLoaded' | 'recordsQuarantined' | 'balanced' | 'difference'>): string {
  const sums = `${int(row.recordsIn)} ${row.balanced ? '=' : '≠'} ${int(row.recordsLoaded)} + ${int(row.recordsQuarantined)}`;
  const verdict = row.balanced
    ? '<span class="verdict ok"><span aria-hidden="true">✓</span> holds</span>'
    : `<span class="verdict bad"><span aria-hidden="true">✗</span> off by ${int(row.difference)} (${row.difference > 0 ? 'records lost' : 'records doubled'})</span>`;
  return `<span class="equation">${sums}</span> ${verdict}`;
}

/** A run's audit rows as a table, the equation and its verdict on each (the run page shows it too). */
export function auditTable(rows: readonly AuditRow[]): string {
  const body = rows.map(
    (r) => `<tr data-source="${esc(r.source)}" data-balanced="${r.balanced}"><td data-label="source">${esc(r.source)}</td><td data-label="stage">${esc(r.stage)}</td>
<td class="num" data-label="records in">${int(r.recordsIn)}</td><td class="num" data-label="loaded">${int(r.recordsLoaded)}</td><td class="num" data-label="quarantined">${int(r.recordsQuarantined)}</td>
<td data-label="in = loaded + quarantined">${equation(r)}</td><td data-label="loaded into">${esc(typeof r.details.loadedInto === 'string' ? r.details.loadedInto : '')}</td></tr>`,
  );
  return `<div class="scroll"><table class="responsive audit"><thead><tr><th>source</th><th>stage</th><th class="num">records in</th><th class="num">loaded</th><th class="num">quarantined</th><th>in = loaded + quarantined</th><th>loaded into</th></tr></thead>
<tbody>${body.join('\n')}</tbody></table></div>`;
}

function auditCard(run: AuditRun): string {
  const verdict = run.balanced ? '<span aria-hidden="true">✓</span> every source balances' : '<span aria-hidden="true">✗</span> does not balance';
  const exceptions = `/data/exceptions?dagId=${encodeURIComponent(run.dagId)}&from=${run.logicalDate}&to=${run.logicalDate}`;
  return `<section class="card audit-run" data-run="${esc(run.runId)}" data-balanced="${run.balanced}">
<h2>${esc(run.dagId)} · ${esc(run.logicalDate)} · ${verdict}</h2>
<p class="muted">run ${runLink(run.runId)} · recorded ${esc(fmtTime(run.rows[0]?.recordedAt))} · <a href="${esc(exceptions)}">quarantined records</a></p>
${auditTable(run.rows)}</section>`;
}

// ---------------------------------------------------------------------------------------------
// Lineage

/** The lineage graph in a figure (the run page shows one run's). */
export function lineageFigure(graph: LineageGraph, scope = 'this run'): string {
  const svg = dagGraphSvg({
    nodes: graph.nodes.map((node) =>
      node.kind === 'task'
        ? { id: node.id, label: node.label, kind: 'task', href: node.runId ? `/runs/${encodeURIComponent(node.runId)}` : undefined, detail: `run ${node.runId ?? '?'} at ${fmtTime(node.eventTime)}` }
        : { id: node.id, label: node.label, kind: 'dataset', detail: `${node.namespace ?? ''}/${node.name ?? ''}` },
    ),
    edges: graph.edges.map((e) => ({ from: e.from, to: e.to })),
    ariaLabel: `Lineage: datasets and the tasks that read and write them (${scope})`,
  });
  return `<figure id="lineage-graph">${svg}<figcaption>Datasets (cylinders) and the tasks (boxes) that read them (arrow into the task) and write them (arrow out of it), ${esc(scope)}</figcaption></figure>`;
}

function lineageTable(graph: LineageGraph): string {
  const label = new Map(graph.nodes.map((n) => [n.id, n.label]));
  const tasks = graph.nodes.filter((n) => n.kind === 'task');
  const rows = tasks.map((t) => {
    const reads = graph.edges.filter((e) => e.to === t.id).map((e) => `<code>${esc(label.get(e.from))}</code>`);
    const writes = graph.edges
      .filter((e) => e.from === t.id)
      .map((e) => `<code>${esc(label.get(e.to))}</code>${e.rows === undefined ? '' : ` <span class="muted">(${int(e.rows)} rows)</span>`}`);
    return `<tr data-task="${esc(t.label)}"><td data-label="task">${esc(t.label)}</td><td data-label="reads"><div>${reads.join('<br>')}</div></td><td data-label="writes"><div>${writes.join('<br>')}</div></td>
<td data-label="last run"><div>${t.runId ? runLink(t.runId) : ''}<br><span class="muted">${esc(fmtTime(t.eventTime))}</span></div></td></tr>`;
  });
  return `<table id="lineage" class="responsive"><thead><tr><th>task</th><th>reads</th><th>writes</th><th>last run</th></tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}
