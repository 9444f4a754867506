/**
 * Runs one suite against the warehouse: the table's one pass, the count queries of row-count
 * checks (on the source database too), samples of the failing rows of failed checks only, the
 * score, and the results written in place of the day's earlier ones.
 */
import type { Knex } from 'knex';
import { compileCount, compileSuite, type RunWindow, type Statement } from './compile';
import { evaluate, qualityScore, type CheckResult } from './evaluate';
import type { CountQuery, QualityCheck, QualitySuite } from './suite';

export interface SuiteRun {
  dagId: string;
  runId: string;
  window: RunWindow;
}

export interface SuiteReport {
  table: string;
  /** The day checked: the `logical_date` of the rows written. */
  day: string;
  score: number;
  /** Rows in the partition checked. */
  totalRows: number;
  results: CheckResult[];
}

export interface Databases {
  warehouse: Knex;
  source: Knex;
}

export async function runSuite(dbs: Databases, suite: QualitySuite, run: SuiteRun): Promise<SuiteReport> {
  const compiled = compileSuite(suite, run.window);
  const [pass, counts] = await Promise.all([
    rows<Record<string, unknown>>(dbs.warehouse, compiled.pass).then((r) => r[0] ?? {}),
    countsOf(dbs, suite.checks, run.window),
  ]);
  const evaluated = evaluate(suite, { pass, counts }, run.window);
  const results = await Promise.all(
    evaluated.map(async (result) => {
      const sample = compiled.samples[result.name];
      if (result.passed || !sample) return result;
      return { ...result, samples: (await rows<{ row: unknown }>(dbs.warehouse, sample)).map((r) => r.row) };
    }),
  );
  const report = { table: suite.table, day: run.window.day, score: qualityScore(results), totalRows: Number(pass.total ?? 0), results };
  await saveReport(dbs.warehouse, run, report);
  return report;
}

/** The count queries of each check that compares with other tables, run concurrently. */
async function countsOf(dbs: Databases, checks: readonly QualityCheck[], window: RunWindow): Promise<Record<string, number[]>> {
  const queries = (check: QualityCheck): CountQuery[] => {
    if (check.kind === 'rowCountMatchesSource') return [check.expected, ...(check.minus ?? [])];
    if (check.kind === 'rowRatio') return [check.of];
    return [];
  };
  const entries = await Promise.all(
    checks.map(async (check) => {
      const values = await Promise.all(
        queries(check).map(async (query) => Number((await rows<{ n: unknown }>(dbs[query.database], compileCount(query, window)))[0]?.n ?? 0)),
      );
      return [check.name, values] as const;
    }),
  );
  return Object.fromEntries(entries.filter(([, values]) => values.length > 0));
}

async function rows<T>(db: Knex, statement: Statement): Promise<T[]> {
  const result = await db.raw<{ rows: T[] }>(statement.sql, statement.bindings);
  return result.rows;
}

/** Replaces the day's results and score of the table in one transaction: a rerun leaves what one clean run leaves. */
async function saveReport(db: Knex, run: SuiteRun, report: SuiteReport): Promise<void> {
  const key = { dag_id: run.dagId, logical_date: report.day, table_name: report.table };
  const failed = (severity: string) => report.results.filter((r) => !r.passed && r.severity === severity).length;
  await db.transaction(async (trx) => {
    await trx('ops.quality_results').where(key).delete();
    await trx('ops.quality_scores').where(key).delete();
    await trx('ops.quality_results').insert(
      report.results.map((r) => ({
        ...key,
        run_id: run.runId,
        check_name: r.name,
        check_kind: r.kind,
        severity: r.severity,
        passed: r.passed,
        failed_rows: r.failedRows,
        total_rows: r.totalRows,
        observed: JSON.stringify(r.observed),
        samples: JSON.stringify(r.samples),
      })),
    );
    await trx('ops.quality_scores').insert({
      ...key,
      run_id: run.runId,
      score: report.score,
      checks: report.results.length,
      failed_blocking: failed('blocking'),
      failed_warning: failed('warning'),
    });
  });
}
