/**
 * Tasks of the `quality_checks` DAG: one suite per table (`activities/quality/suites.ts`), a gate
 * that fails the run on failed blocking checks, and the failure callback's summary. Results live
 * in `ops.quality_results` and `ops.quality_scores`; tasks pass only small summaries.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { defineTask, type TaskContext } from '../dags/sdk';
import { recordLineage, sourceTable, warehouseTable, type DatasetRef } from './lib';
import { runWindow } from './quality/compile';
import { runSuite } from './quality/run-suite';
import { qualitySuiteSchema, type QualitySuite } from './quality/suite';

/** A failed check as the gate and the logs name it. */
export interface FailedCheck {
  check: string;
  /** Failing rows, or null for a check of the table as a whole. */
  failedRows: number | null;
}

/** What a suite task returns: enough for the gate, the rest is in ops.quality_results. */
export interface TableQuality {
  table: string;
  day: string;
  score: number;
  checks: number;
  failedBlocking: FailedCheck[];
  failedWarning: FailedCheck[];
}

export const checkTableQuality = defineTask(
  'checkTableQuality',
  async (input: { suite: QualitySuite }, ctx): Promise<TableQuality> => {
    const parsed = qualitySuiteSchema.safeParse(input.suite);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw ApplicationFailure.nonRetryable(`invalid quality suite: ${problems}`, 'InvalidQualitySuite');
    }
    const suite = parsed.data;
    const report = await runSuite(ctx.resources, suite, { dagId: ctx.dagId, runId: ctx.runId, window: checkedWindow(ctx) });
    const failed = (severity: string) =>
      report.results.filter((r) => !r.passed && r.severity === severity).map((r) => ({ check: r.name, failedRows: r.failedRows }));
    const quality = { table: report.table, day: report.day, score: report.score, checks: report.results.length, failedBlocking: failed('blocking'), failedWarning: failed('warning') };
    const level = quality.failedBlocking.length > 0 ? 'error' : quality.failedWarning.length > 0 ? 'warn' : 'info';
    ctx.log[level]({ ...quality, rows: report.totalRows }, `${suite.table} on ${report.day}: score ${report.score}`);
    await recordLineage(ctx, { inputs: inputsOf(suite), outputs: [warehouseTable('ops.quality_results'), warehouseTable('ops.quality_scores')] });
    return quality;
  },
  { doc: "Runs one table's quality suite (one SQL pass) and replaces the day's rows in ops.quality_results and ops.quality_scores." },
);

/** The table checked, the tables its relationships point at, and what row counts compare with. */
function inputsOf(suite: QualitySuite): DatasetRef[] {
  const names = new Map<string, DatasetRef>([[suite.table, warehouseTable(suite.table)]]);
  const add = (database: 'warehouse' | 'source', table: string) => names.set(`${database}:${table}`, database === 'source' ? sourceTable(table) : warehouseTable(table));
  for (const check of suite.checks) {
    if (check.kind === 'relationships') add('warehouse', check.to.table);
    if (check.kind === 'rowCountMatchesSource') for (const q of [check.expected, ...(check.minus ?? [])]) add(q.database, q.table);
    if (check.kind === 'rowRatio') add(check.of.database, check.of.table);
  }
  return [...names.values()];
}

export const qualityGate = defineTask(
  'qualityGate',
  async (input: { tables: TableQuality[] }, ctx): Promise<{ score: number }> => {
    const blocking = input.tables.flatMap((t) => t.failedBlocking.map((f) => `${t.table}.${f.check}${f.failedRows === null ? '' : ` (${f.failedRows} rows)`}`));
    if (blocking.length > 0) {
      throw ApplicationFailure.nonRetryable(`${blocking.length} blocking quality checks failed: ${blocking.join(', ')}`, 'QualityCheckFailed');
    }
    const score = input.tables.length === 0 ? 100 : Math.round((100 * input.tables.reduce((sum, t) => sum + t.score, 0)) / input.tables.length) / 100;
    ctx.log.info({ score, warnings: input.tables.flatMap((t) => t.failedWarning.map((f) => `${t.table}.${f.check}`)) }, 'no blocking check failed');
    return { score };
  },
  { doc: 'Fails the run, naming them, when any blocking check failed; warnings only lower the scores.' },
);

/**
 * The DAG's failure callback: one error line summing up the run's failed checks, from
 * ops.quality_results (a run that failed before any check ran, at the sensor say, names its
 * failed tasks instead).
 */
export const logQualityFailure = defineTask(
  'logQualityFailure',
  async (_input: Record<string, never>, ctx: TaskContext) => {
    const day = checkedWindow(ctx).day;
    const failed: Array<{ table_name: string; check_name: string; severity: string; failed_rows: string | null }> = await ctx.resources
      .warehouse('ops.quality_results')
      .where({ dag_id: ctx.dagId, logical_date: day, run_id: ctx.runId, passed: false })
      .orderBy([{ column: 'severity' }, { column: 'table_name' }, { column: 'check_name' }])
      .select('table_name', 'check_name', 'severity', 'failed_rows');
    const checks = failed.map((f) => `${f.severity} ${f.table_name}.${f.check_name}${f.failed_rows === null ? '' : ` (${f.failed_rows} rows)`}`);
    ctx.log.error(
      { day, failedTasks: ctx.outcome?.failedTasks ?? [], reason: ctx.outcome?.reason, failedChecks: checks },
      `quality_checks failed for ${day}: ${checks.length > 0 ? checks.join(', ') : `no failed checks recorded; failed tasks: ${(ctx.outcome?.failedTasks ?? []).join(', ') || 'none'}`}`,
    );
  },
  { doc: 'Failure callback: logs an error summary of the failed checks of the day.' },
);

/**
 * The day a run checks: its data interval's, which an asset-triggered run takes from the
 * daily_etl run that loaded it. A run started by hand (or a backfill) of a DAG scheduled on
 * assets has no interval of its own: it checks the day before its logical date, which is the
 * day daily_etl's run for that logical date loads.
 */
function checkedWindow(ctx: Pick<TaskContext, 'dataIntervalStart' | 'dataIntervalEnd' | 'logicalDate'>) {
  if (ctx.dataIntervalStart !== ctx.dataIntervalEnd) return runWindow(ctx.dataIntervalStart, ctx.dataIntervalEnd);
  const end = new Date(ctx.logicalDate);
  return runWindow(new Date(end.getTime() - 86_400_000).toISOString(), end.toISOString());
}
