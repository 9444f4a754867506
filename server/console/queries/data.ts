/**
 * What the data pages show, read from the pipelines' record in `ops`: quality scores and failed
 * checks (`quality_results`, `quality_scores`), quarantined records (`exceptions`), the
 * conservation counts (`audit_log`) and OpenLineage events (`lineage`). Every list is a page read
 * along an index: scores and results by (table_name, logical_date), exceptions by (category |
 * dag_id, logical_date), the audit log by its key (dag_id, logical_date, ...), lineage by
 * (dag_id, run_id) or event_time.
 *
 * The zod schemas here are the one definition of each filter: the pages and the JSON API parse
 * their query strings with them, so a bad filter is the same 400 in both.
 */
import type { Knex } from 'knex';
import { z } from 'zod';
import { EXCEPTION_CATEGORIES } from '../../../activities/lib/exception-categories';
import { fromPostgres } from '../../client/server-failures';
import { idText } from '../params';

const DAY_MS = 86_400_000;

/** Rows per page of the exceptions browser and of failed checks. */
export const PAGE_SIZE = 50;
/** DAG runs per page of the audit log. */
export const AUDIT_RUNS_PER_PAGE = 20;
/** The longest date range a chart covers, so its query stays one index range of bounded size. */
export const MAX_RANGE_DAYS = 366;
/** Days a chart shows when no range is given: the ones up to the latest day with data. */
export const DEFAULT_RANGE_DAYS = 30;

// ---------------------------------------------------------------------------------------------
// Query-string parsing, shared with reports.ts

/** A form sends its empty fields as `name=`: an empty field means "no filter", not a bad value. */
export function withoutBlanks(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== ''));
}

export const day = z.iso.date({ message: 'must be a date (YYYY-MM-DD)' });
export const pageNumber = z.coerce.number({ message: 'must be a number' }).int('must be a whole number').min(1, 'must be 1 or more').max(10_000, 'must be 10,000 or less').default(1);
/** A table as `schema.table`. */
export const tableName = z.string().max(200, 'is longer than 200 characters').regex(/^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/, 'must be schema.table');

/** `from` and `to` in order and at most `maxDays` apart (both days included). */
export function checkRange(range: { from?: string; to?: string }, ctx: z.RefinementCtx, maxDays?: number): void {
  if (!range.from || !range.to) return;
  if (range.from > range.to) {
    ctx.addIssue({ code: 'custom', path: ['from'], message: `from ${range.from} is after to ${range.to}` });
  } else if (maxDays !== undefined && daysBetween(range.from, range.to) + 1 > maxDays) {
    ctx.addIssue({ code: 'custom', path: ['from'], message: `the range covers more than ${maxDays} days` });
  }
}

export interface DayRange {
  /** First day, YYYY-MM-DD. */
  from: string;
  /** Last day, included. */
  to: string;
}

export const addDays = (d: string, n: number): string => new Date(Date.parse(`${d}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
const daysBetween = (a: string, b: string): number => Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);

/**
 * The range a chart covers: what the filter names, the rest filled in around `latest` (the last
 * day with data), so a page opened without filters shows the newest data however old it is.
 */
export function resolveRange(filter: { from?: string; to?: string }, latest: string | null, days = DEFAULT_RANGE_DAYS): DayRange | null {
  if (filter.from && filter.to) return { from: filter.from, to: filter.to };
  if (filter.from) {
    const to = addDays(filter.from, days - 1);
    return { from: filter.from, to: latest !== null && latest >= filter.from && latest < to ? latest : to };
  }
  const to = filter.to ?? latest;
  return to === null ? null : { from: addDays(to, -(days - 1)), to };
}

/** `date` columns as text: the driver would turn them into local-midnight Dates. */
const dayText = (db: Knex, column: string, as: string) => db.raw(`to_char(??, 'YYYY-MM-DD') as ??`, [column, as]);
const num = (value: unknown): number => Number(value);
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

export interface Page<T> {
  rows: T[];
  page: number;
  hasMore: boolean;
}

/** Runs `query` for page `page` of `size` rows (one extra row says whether there is a next page). */
async function pageOf<R, T>(query: Knex.QueryBuilder, page: number, size: number, map: (row: R) => T): Promise<Page<T>> {
  const rows = (await fromPostgres(query.limit(size + 1).offset((page - 1) * size))) as R[];
  return { rows: rows.slice(0, size).map(map), page, hasMore: rows.length > size };
}

// ---------------------------------------------------------------------------------------------
// Quality

export const qualityQuery = z.preprocess(
  withoutBlanks,
  z
    .object({ table: tableName.optional(), from: day.optional(), to: day.optional(), page: pageNumber })
    .strict()
    .superRefine((q, ctx) => checkRange(q, ctx, MAX_RANGE_DAYS)),
);
export type QualityQuery = z.output<typeof qualityQuery>;

export interface TableScore {
  table: string;
  day: string;
  score: number;
  checks: number;
  failedBlocking: number;
  failedWarning: number;
  dagId: string;
  runId: string;
  checkedAt: string;
}

export interface QualityOverview {
  /** The days the series cover; null when there are no scores at all. */
  range: DayRange | null;
  /** Each table's newest score up to the end of the range. */
  latest: TableScore[];
  /** Per table, its score per day of the range, oldest first. */
  series: Array<{ table: string; points: Array<{ day: string; score: number }> }>;
}

/** The range of the quality page: the filter's, or the 30 days up to the newest score. */
export async function qualityRange(db: Knex, q: Pick<QualityQuery, 'from' | 'to' | 'table'>): Promise<DayRange | null> {
  if (q.from && q.to) return { from: q.from, to: q.to };
  const query = db('ops.quality_scores').first(db.raw(`to_char(max(logical_date), 'YYYY-MM-DD') as latest`));
  if (q.table) query.where('table_name', q.table);
  const row = (await fromPostgres(query)) as { latest: string | null } | undefined;
  return resolveRange(q, row?.latest ?? null);
}

export async function qualityOverview(db: Knex, q: QualityQuery): Promise<QualityOverview> {
  const range = await qualityRange(db, q);
  if (range === null) return { range, latest: [], series: [] };
  const latestQuery = db('ops.quality_scores')
    .distinctOn('table_name')
    .select('table_name', dayText(db, 'logical_date', 'day'), 'score', 'checks', 'failed_blocking', 'failed_warning', 'dag_id', 'run_id', 'checked_at')
    .where('logical_date', '<=', range.to)
    .orderBy([{ column: 'table_name' }, { column: 'logical_date', order: 'desc' }, { column: 'checked_at', order: 'desc' }]);
  // Several DAGs may score the same table on a day; the chart shows their mean.
  const seriesQuery = db('ops.quality_scores')
    .select('table_name', dayText(db, 'logical_date', 'day'), db.raw('avg(score)::float8 as score'))
    .whereBetween('logical_date', [range.from, range.to])
    .groupBy('table_name', 'logical_date')
    .orderBy(['table_name', 'logical_date'])
    .limit(MAX_RANGE_DAYS * 50);
  if (q.table) {
    latestQuery.where('table_name', q.table);
    seriesQuery.where('table_name', q.table);
  }
  type ScoreRow = { table_name: string; day: string; score: string; checks: number; failed_blocking: number; failed_warning: number; dag_id: string; run_id: string; checked_at: Date };
  const [latestRows, seriesRows] = (await Promise.all([fromPostgres(latestQuery), fromPostgres(seriesQuery)])) as [ScoreRow[], Array<{ table_name: string; day: string; score: number }>];
  const series = new Map<string, Array<{ day: string; score: number }>>();
  for (const r of seriesRows) {
    const points = series.get(r.table_name) ?? [];
    points.push({ day: r.day, score: Math.round(r.score * 100) / 100 });
    series.set(r.table_name, points);
  }
  return {
    range,
    latest: latestRows.map((r) => ({
      table: r.table_name,
      day: r.day,
      score: num(r.score),
      checks: r.checks,
      failedBlocking: r.failed_blocking,
      failedWarning: r.failed_warning,
      dagId: r.dag_id,
      runId: r.run_id,
      checkedAt: new Date(r.checked_at).toISOString(),
    })),
    series: [...series].map(([table, points]) => ({ table, points })),
  };
}

export interface FailedCheck {
  dagId: string;
  runId: string;
  day: string;
  table: string;
  check: string;
  kind: string;
  severity: 'blocking' | 'warning';
  /** Null for checks of the table as a whole (freshness, ratios). */
  failedRows: number | null;
  totalRows: number;
  observed: Record<string, unknown>;
  /** Up to five failing rows, as the check found them. */
  samples: unknown[];
  checkedAt: string;
}

/** Checks that failed in the range (the filter's, or the quality page's default), newest day first. */
export async function failedChecks(db: Knex, q: QualityQuery): Promise<Page<FailedCheck> & { range: DayRange | null }> {
  const range = await qualityRange(db, q);
  if (range === null) return { rows: [], page: q.page, hasMore: false, range };
  const query = db('ops.quality_results')
    .select('dag_id', 'run_id', dayText(db, 'logical_date', 'day'), 'table_name', 'check_name', 'check_kind', 'severity', 'failed_rows', 'total_rows', 'observed', 'samples', 'checked_at')
    .where('passed', false)
    .whereBetween('logical_date', [range.from, range.to])
    .orderBy([{ column: 'logical_date', order: 'desc' }, { column: 'table_name' }, { column: 'check_name' }, { column: 'dag_id' }]);
  if (q.table) query.where('table_name', q.table);
  type Row = { dag_id: string; run_id: string; day: string; table_name: string; check_name: string; check_kind: string; severity: 'blocking' | 'warning'; failed_rows: string | null; total_rows: string; observed: Record<string, unknown>; samples: unknown[]; checked_at: Date };
  const page = await pageOf<Row, FailedCheck>(query, q.page, PAGE_SIZE, (r) => ({
    dagId: r.dag_id,
    runId: r.run_id,
    day: r.day,
    table: r.table_name,
    check: r.check_name,
    kind: r.check_kind,
    severity: r.severity,
    failedRows: numOrNull(r.failed_rows),
    totalRows: num(r.total_rows),
    observed: r.observed,
    samples: r.samples,
    checkedAt: new Date(r.checked_at).toISOString(),
  }));
  return { ...page, range };
}

// ---------------------------------------------------------------------------------------------
// Exceptions

export const exceptionsQuery = z.preprocess(
  withoutBlanks,
  z
    .object({
      category: z.enum(EXCEPTION_CATEGORIES, { message: `must be one of ${EXCEPTION_CATEGORIES.join(', ')}` }).optional(),
      dagId: idText.optional(),
      source: idText.optional(),
      from: day.optional(),
      to: day.optional(),
      page: pageNumber,
    })
    .strict()
    .superRefine((q, ctx) => checkRange(q, ctx)),
);
export type ExceptionsQuery = z.output<typeof exceptionsQuery>;

export interface ExceptionRecord {
  exceptionId: number;
  dagId: string;
  runId: string;
  taskId: string;
  /** The partition day the record belongs to. */
  logicalDate: string;
  source: string;
  sourceFile: string | null;
  sourceLine: number | null;
  sourceId: string | null;
  category: string;
  stage: string;
  reason: string;
  /** The record as received. */
  raw: unknown;
  createdAt: string;
}

/** Quarantined records, newest logical date first, 50 a page. */
export async function listExceptions(db: Knex, q: ExceptionsQuery): Promise<Page<ExceptionRecord>> {
  const query = db('ops.exceptions')
    .select('exception_id', 'dag_id', 'run_id', 'task_id', dayText(db, 'logical_date', 'logical_date'), 'source', 'source_file', 'source_line', 'source_id', 'category', 'stage', 'reason', 'raw', 'created_at')
    .orderBy([{ column: 'ops.exceptions.logical_date', order: 'desc' }, { column: 'exception_id', order: 'desc' }]);
  if (q.category) query.where('category', q.category);
  if (q.dagId) query.where('dag_id', q.dagId);
  if (q.source) query.where('source', q.source);
  if (q.from) query.where('ops.exceptions.logical_date', '>=', q.from);
  if (q.to) query.where('ops.exceptions.logical_date', '<=', q.to);
  type Row = { exception_id: string; dag_id: string; run_id: string; task_id: string; logical_date: string; source: string; source_file: string | null; source_line: number | null; source_id: string | null; category: string; stage: string; reason: string; raw: unknown; created_at: Date };
  return pageOf<Row, ExceptionRecord>(query, q.page, PAGE_SIZE, (r) => ({
    exceptionId: num(r.exception_id),
    dagId: r.dag_id,
    runId: r.run_id,
    taskId: r.task_id,
    logicalDate: r.logical_date,
    source: r.source,
    sourceFile: r.source_file,
    sourceLine: r.source_line,
    sourceId: r.source_id,
    category: r.category,
    stage: r.stage,
    reason: r.reason,
    raw: r.raw,
    createdAt: new Date(r.created_at).toISOString(),
  }));
}

/**
 * The sources the pipelines audit, as suggestions for the exceptions filter: read from the small
 * audit log (a few rows a day) rather than by scanning every quarantined record.
 */
export async function knownSources(db: Knex): Promise<string[]> {
  const rows = (await fromPostgres(db('ops.audit_log').distinct('source').orderBy('source').limit(200))) as Array<{ source: string }>;
  return rows.map((r) => r.source);
}

// ---------------------------------------------------------------------------------------------
// Audit log

export const auditQuery = z.preprocess(
  withoutBlanks,
  z
    .object({ dagId: idText.optional(), from: day.optional(), to: day.optional(), page: pageNumber })
    .strict()
    .superRefine((q, ctx) => checkRange(q, ctx)),
);
export type AuditQuery = z.output<typeof auditQuery>;

export interface AuditRow {
  dagId: string;
  logicalDate: string;
  runId: string;
  source: string;
  stage: string;
  recordsIn: number;
  recordsLoaded: number;
  recordsQuarantined: number;
  /** records_in = records_loaded + records_quarantined */
  balanced: boolean;
  /** records_in - (records_loaded + records_quarantined): records lost (> 0) or doubled (< 0). */
  difference: number;
  details: Record<string, unknown>;
  recordedAt: string;
}

/** One DAG run's audit: a row per source and stage, and whether every one balances. */
export interface AuditRun {
  dagId: string;
  logicalDate: string;
  runId: string;
  balanced: boolean;
  rows: AuditRow[];
}

type AuditDbRow = { dag_id: string; logical_date: string; run_id: string; source: string; stage: string; records_in: string; records_loaded: string; records_quarantined: string; details: Record<string, unknown>; recorded_at: Date };

const AUDIT_COLUMNS = ['dag_id', 'run_id', 'source', 'stage', 'records_in', 'records_loaded', 'records_quarantined', 'details', 'recorded_at'];

function auditRow(r: AuditDbRow): AuditRow {
  const [recordsIn, loaded, quarantined] = [num(r.records_in), num(r.records_loaded), num(r.records_quarantined)];
  return {
    dagId: r.dag_id,
    logicalDate: r.logical_date,
    runId: r.run_id,
    source: r.source,
    stage: r.stage,
    recordsIn,
    recordsLoaded: loaded,
    recordsQuarantined: quarantined,
    balanced: recordsIn === loaded + quarantined,
    difference: recordsIn - loaded - quarantined,
    details: r.details,
    recordedAt: new Date(r.recorded_at).toISOString(),
  };
}

/** Groups audit rows (ordered by day and DAG) into runs. */
function auditRuns(rows: readonly AuditRow[]): AuditRun[] {
  const runs = new Map<string, AuditRun>();
  for (const row of rows) {
    const key = `${row.dagId}\u0000${row.logicalDate}`;
    const run = runs.get(key) ?? { dagId: row.dagId, logicalDate: row.logicalDate, runId: row.runId, balanced: true, rows: [] };
    run.rows.push(row);
    run.balanced &&= row.balanced;
    runs.set(key, run);
  }
  return [...runs.values()];
}

/** The audit log by DAG run (a DAG and a day), newest day first, 20 runs a page. */
export async function auditLog(db: Knex, q: AuditQuery): Promise<{ runs: AuditRun[]; page: number; hasMore: boolean }> {
  const keys = db('ops.audit_log')
    .select('dag_id', dayText(db, 'logical_date', 'day'))
    .groupBy('dag_id', 'logical_date')
    .orderBy([{ column: 'logical_date', order: 'desc' }, { column: 'dag_id' }]);
  if (q.dagId) keys.where('dag_id', q.dagId);
  if (q.from) keys.where('logical_date', '>=', q.from);
  if (q.to) keys.where('logical_date', '<=', q.to);
  const page = await pageOf<{ dag_id: string; day: string }, [string, string]>(keys, q.page, AUDIT_RUNS_PER_PAGE, (r) => [r.dag_id, r.day]);
  if (page.rows.length === 0) return { runs: [], page: q.page, hasMore: false };
  const rows = (await fromPostgres(
    db('ops.audit_log')
      .select(...AUDIT_COLUMNS, dayText(db, 'logical_date', 'logical_date'))
      .whereIn(['dag_id', 'logical_date'], page.rows)
      .orderBy([{ column: 'ops.audit_log.logical_date', order: 'desc' }, { column: 'dag_id' }, { column: 'source' }, { column: 'stage' }]),
  )) as AuditDbRow[];
  return { runs: auditRuns(rows.map(auditRow)), page: q.page, hasMore: page.hasMore };
}

/** The DAG and data day of a run id: from run history, else from its lineage events. */
async function runKey(db: Knex, runId: string): Promise<{ dagId: string; day: string } | undefined> {
  const [run] = (await fromPostgres(
    db('sluice.dag_runs')
      .select('dag_id', db.raw(`to_char(data_interval_start at time zone 'UTC', 'YYYY-MM-DD') as day`))
      .where('run_id', runId)
      .orderBy('started_at', 'desc')
      .limit(1),
  )) as Array<{ dag_id: string; day: string }>;
  if (run) return { dagId: run.dag_id, day: run.day };
  // Run ids are `<dagId>-<RFC 3339 logical time>` (server/client/run-id.ts).
  const dagId = /^(.+)-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.exec(runId)?.[1];
  if (!dagId) return undefined;
  const [event] = (await fromPostgres(
    db('ops.lineage').select(dayText(db, 'logical_date', 'day')).where({ dag_id: dagId, run_id: runId }).whereNotNull('logical_date').limit(1),
  )) as Array<{ day: string }>;
  return event ? { dagId, day: event.day } : undefined;
}

/** The conservation counts a run wrote (the run page shows them); empty for a run that wrote none. */
export async function auditForRun(db: Knex, runId: string): Promise<AuditRow[]> {
  const key = await runKey(db, runId);
  if (!key) return [];
  const rows = (await fromPostgres(
    db('ops.audit_log')
      .select(...AUDIT_COLUMNS, dayText(db, 'logical_date', 'logical_date'))
      .where({ dag_id: key.dagId, logical_date: key.day, run_id: runId })
      .orderBy(['source', 'stage']),
  )) as AuditDbRow[];
  return rows.map(auditRow);
}

// ---------------------------------------------------------------------------------------------
// Lineage

export const lineageQuery = z.preprocess(withoutBlanks, z.object({ dagId: idText.optional(), runId: idText.optional() }).strict());
export type LineageQuery = z.output<typeof lineageQuery>;

/** How far back the lineage graph looks for each task's latest event: every scheduled task runs within it. */
export const LINEAGE_WINDOW_DAYS = 35;

export interface LineageNode {
  /** `task:<dagId>.<taskId>` or `dataset:<namespace>/<name>`. */
  id: string;
  kind: 'task' | 'dataset';
  label: string;
  /** Tasks: the DAG and task; datasets: the OpenLineage namespace and name. */
  dagId?: string;
  taskId?: string;
  runId?: string;
  eventTime?: string;
  namespace?: string;
  name?: string;
}

export interface LineageEdge {
  from: string;
  to: string;
  /** `input`: the task read the dataset (dataset → task); `output`: it wrote it (task → dataset). */
  kind: 'input' | 'output';
  /** Rows written, when the task reported them. */
  rows?: number;
}

export interface LineageGraph {
  nodes: LineageNode[];
  edges: LineageEdge[];
}

interface DatasetJson {
  namespace: string;
  name: string;
  outputFacets?: { outputStatistics?: { rowCount?: number } };
}

type LineageRow = { dag_id: string; task_id: string; run_id: string; event_time: Date; inputs: DatasetJson[]; outputs: DatasetJson[] };

/**
 * Tables and the tasks that read and write them, from each task's latest event: of one run when
 * `runId` is given, else of the last {@link LINEAGE_WINDOW_DAYS} days (by `event_time`, indexed),
 * optionally of one DAG.
 */
export async function lineageGraph(db: Knex, q: LineageQuery): Promise<LineageGraph> {
  if (q.runId) return lineageForRun(db, q.runId);
  const [latest] = (await fromPostgres(db('ops.lineage').max({ at: 'event_time' }))) as Array<{ at: Date | null }>;
  if (!latest?.at) return { nodes: [], edges: [] };
  const since = new Date(new Date(latest.at).getTime() - LINEAGE_WINDOW_DAYS * DAY_MS);
  const query = db('ops.lineage')
    .distinctOn('dag_id', 'task_id')
    .select('dag_id', 'task_id', 'run_id', 'event_time', 'inputs', 'outputs')
    .where('event_time', '>=', since)
    .orderBy([{ column: 'dag_id' }, { column: 'task_id' }, { column: 'event_time', order: 'desc' }])
    .limit(2000);
  if (q.dagId) query.where('dag_id', q.dagId);
  return graphOf((await fromPostgres(query)) as LineageRow[]);
}

/** One run's lineage: each of its tasks' latest event. */
export async function lineageForRun(db: Knex, runId: string): Promise<LineageGraph> {
  const key = await runKey(db, runId);
  if (!key) return { nodes: [], edges: [] };
  const rows = (await fromPostgres(
    db('ops.lineage')
      .distinctOn('task_id')
      .select('dag_id', 'task_id', 'run_id', 'event_time', 'inputs', 'outputs')
      .where({ dag_id: key.dagId, run_id: runId })
      .orderBy([{ column: 'task_id' }, { column: 'event_time', order: 'desc' }])
      .limit(2000),
  )) as LineageRow[];
  return graphOf(rows);
}

function graphOf(rows: readonly LineageRow[]): LineageGraph {
  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, LineageEdge>();
  const dataset = (d: DatasetJson): string => {
    const name = datasetName(d);
    const id = `dataset:${d.namespace}/${name}`;
    if (!nodes.has(id)) nodes.set(id, { id, kind: 'dataset', label: datasetLabel(d.namespace, name), namespace: d.namespace, name });
    return id;
  };
  for (const r of rows) {
    const task = `task:${r.dag_id}.${r.task_id}`;
    nodes.set(task, { id: task, kind: 'task', label: `${r.dag_id}.${r.task_id}`, dagId: r.dag_id, taskId: r.task_id, runId: r.run_id, eventTime: new Date(r.event_time).toISOString() });
    for (const input of r.inputs) {
      const from = dataset(input);
      edges.set(`${from}>${task}`, { from, to: task, kind: 'input' });
    }
    for (const output of r.outputs) {
      const to = dataset(output);
      const rowCount = output.outputFacets?.outputStatistics?.rowCount;
      edges.set(`${task}>${to}`, { from: task, to, kind: 'output', ...(typeof rowCount === 'number' ? { rows: rowCount } : {}) });
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/**
 * A lake dataset is its prefix up to the partition (`bronze/orders/dt=2026-11-21` and
 * `landing/partner_sales/dt=2026-11-21/a.csv` are `bronze/orders` and `landing/partner_sales`), so
 * the graph shows each dataset once, whichever day and files its tasks last touched; tables keep
 * their name.
 */
function datasetName(d: DatasetJson): string {
  if (!d.namespace.startsWith('s3://')) return d.name;
  const segments = d.name.split('/');
  const partition = segments.findIndex((segment) => /^[A-Za-z_]+=/.test(segment));
  return partition > 0 ? segments.slice(0, partition).join('/') : d.name;
}

/** A table without its database (`warehouse.fact_sales`); a lake prefix as it is. */
function datasetLabel(namespace: string, name: string): string {
  if (namespace.startsWith('postgres://')) return name.split('.').slice(1).join('.') || name;
  return name;
}
