/**
 * From what the statements measured to a verdict per check and a score per table. Pure, so the
 * rules (tolerances, thresholds, weights) are tested without a database.
 */
import { parseDuration } from 'sluice/sdk';
import type { RunWindow } from './compile';
import { isRowCheck, type CheckKind, type QualityCheck, type QualitySuite, type Severity } from './suite';

export interface CheckResult {
  name: string;
  kind: CheckKind;
  severity: Severity;
  passed: boolean;
  /**
   * Rows failing a row check; for a row count, the rows missing or extra. Null for freshness and
   * ratios, which judge the table as a whole.
   */
  failedRows: number | null;
  /** Rows the check looked at: the table's partition, narrowed by the check's `where`. */
  totalRows: number;
  /** What the check saw, by kind: the ratio, the counts compared, the newest timestamp. */
  observed: Record<string, unknown>;
  /** Up to a few failing rows, for row checks that failed. */
  samples: unknown[];
}

export interface Measurements {
  /** The row of the suite's pass statement, as the driver returns it (counts as strings). */
  pass: Record<string, unknown>;
  /** Per check with count queries: their results, in the order the check lists them. */
  counts: Record<string, number[]>;
}

/** A failed blocking check weighs twice a warning in the score. */
export const WEIGHTS: Record<Severity, number> = { blocking: 2, warning: 1 };

export function evaluate(suite: QualitySuite, measured: Measurements, window: RunWindow): CheckResult[] {
  const total = count(measured.pass.total);
  return suite.checks.map((check) => {
    const scoped = measured.pass[`${check.name}__rows`];
    const inScope = scoped === undefined ? total : count(scoped);
    const verdict = judge(check, measured.pass[check.name], inScope, measured.counts[check.name] ?? [], window);
    return { name: check.name, kind: check.kind, severity: check.severity, samples: [], ...verdict };
  });
}

type Verdict = Pick<CheckResult, 'passed' | 'failedRows' | 'totalRows' | 'observed'>;

function judge(check: QualityCheck, value: unknown, inScope: number, counts: number[], window: RunWindow): Verdict {
  if (isRowCheck(check)) {
    const failed = count(value);
    const share = inScope === 0 ? 0 : failed / inScope;
    if (check.kind === 'completeness') {
      const ratio = round(1 - share, 6);
      return { passed: ratio >= check.threshold, failedRows: failed, totalRows: inScope, observed: { ratio, threshold: check.threshold } };
    }
    return { passed: failed === 0, failedRows: failed, totalRows: inScope, observed: { failedShare: round(share, 6) } };
  }
  switch (check.kind) {
    case 'freshness': {
      const latest = value === null || value === undefined ? null : new Date(value as string | Date);
      const lagMs = latest === null ? null : Date.parse(window.intervalEnd) - latest.getTime();
      const maxAgeMs = parseDuration(check.maxAge);
      return {
        passed: lagMs !== null && lagMs <= maxAgeMs,
        failedRows: null,
        totalRows: inScope,
        observed: { latest: latest?.toISOString() ?? null, lagSeconds: lagMs === null ? null : lagMs / 1000, maxAgeSeconds: maxAgeMs / 1000, reference: window.intervalEnd },
      };
    }
    case 'rowCountMatchesSource': {
      const rows = count(value);
      const [source = 0, ...minus] = counts;
      const expected = source - minus.reduce((a, b) => a + b, 0);
      const difference = Math.abs(rows - expected);
      return {
        passed: difference <= check.tolerance * expected,
        failedRows: difference,
        totalRows: rows,
        observed: { rows, expected, source, minus, tolerance: check.tolerance },
      };
    }
    case 'rowRatio': {
      const rows = count(value);
      const of = counts[0] ?? 0;
      // Nothing to compare with: any row is too many, none is fine.
      const ratio = of === 0 ? (rows === 0 ? 0 : null) : round(rows / of, 6);
      return { passed: ratio !== null && ratio < check.below, failedRows: null, totalRows: rows, observed: { rows, of, ratio, below: check.below } };
    }
  }
}

/** The weighted share of checks passed, 0..100 with two decimals; 100 for no checks. */
export function qualityScore(results: ReadonlyArray<Pick<CheckResult, 'passed' | 'severity'>>): number {
  const weight = (rs: typeof results) => rs.reduce((sum, r) => sum + WEIGHTS[r.severity], 0);
  const all = weight(results);
  return all === 0 ? 100 : round((100 * weight(results.filter((r) => r.passed))) / all, 2);
}

/** Postgres counts are bigints, which the driver returns as strings. */
function count(value: unknown): number {
  const n = Number(value ?? 0);
  if (!Number.isFinite(n)) throw new Error(`expected a count, got ${JSON.stringify(value)}`);
  return n;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
