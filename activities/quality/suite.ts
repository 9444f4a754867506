/**
 * The format of a quality suite: what "good data" means for one table, written as typed data
 * instead of SQL. `compile.ts` turns a suite into one aggregate statement per table, with every
 * identifier checked and every value bound, so adding a check is editing an object and can never
 * inject SQL. Suites travel inside the DAG spec as JSON, so the checks a run applied are recorded
 * in its history and a changed suite is a new DAG version.
 */
import { z } from 'zod';
import { parseDuration, type Duration } from '../../dags/sdk';
import { MAX_NAME_BYTES, NAME } from './sql';

/** A failed `blocking` check fails the run; a failed `warning` only lowers the table's score. */
export type Severity = 'blocking' | 'warning';

/** A value a suite may compare with; always sent to Postgres as a bound parameter. */
export type Scalar = string | number | boolean;

/** Rows to look at: each column equals its value (all of them); `null` means `is null`. */
export type RowFilter = Record<string, Scalar | null>;

/**
 * How a column selects the day a run checks: the UTC day its data interval starts on (for a DAG
 * at midnight UTC, exactly its interval).
 * - `dateKey`: an integer `yyyymmdd` column, e.g. `warehouse.fact_sales.date_key`;
 * - `date`: a `date` column, e.g. `ops.exceptions.logical_date`;
 * - `timestamp`: a timestamp column, in [that day 00:00Z, the next day 00:00Z).
 */
export interface DayColumn {
  column: string;
  value: 'dateKey' | 'date' | 'timestamp';
}

/** A count (or a sum) of the run's day in a table of the warehouse or of the source database. */
export interface CountQuery {
  database: 'warehouse' | 'source';
  /** `schema.table`. */
  table: string;
  /** Sum this column instead of counting rows (e.g. `records_in` of ops.audit_log). */
  sum?: string;
  where?: RowFilter;
  /** Restrict to the run's day; without it the whole table counts. */
  day?: DayColumn;
}

interface CheckBase {
  /** Unique in its suite, snake_case: it names the result row and the statement's column. */
  name: string;
  severity: Severity;
  /** Check only the rows this filter matches (e.g. `{ source: 'shop' }`). */
  where?: RowFilter;
}

/** Fails rows where `column` is null. */
export interface NotNullCheck extends CheckBase {
  kind: 'notNull';
  column: string;
}

/** Fails rows whose combination of `columns` occurs more than once (rows with a null in it are ignored, as a unique index does). */
export interface UniqueCheck extends CheckBase {
  kind: 'unique';
  columns: string[];
}

/** Fails rows whose `column` is not one of `values`; nulls pass (check them with `notNull`). */
export interface AcceptedValuesCheck extends CheckBase {
  kind: 'acceptedValues';
  column: string;
  values: readonly Scalar[];
}

/** Fails rows whose `column` has no match in `to.table`.`to.column` (a foreign key Postgres does not enforce); nulls pass. */
export interface RelationshipsCheck extends CheckBase {
  kind: 'relationships';
  column: string;
  to: { table: string; column: string };
}

/** Fails rows whose `column` is outside the bounds given; nulls pass. */
export interface RangeCheck extends CheckBase {
  kind: 'range';
  column: string;
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

/** Fails rows whose `column` (as text) does not match the POSIX regular expression `pattern` (Postgres `~`); nulls pass. */
export interface RegexCheck extends CheckBase {
  kind: 'regex';
  column: string;
  pattern: string;
}

/** Fails rows where `left op right` is false; rows with either side null pass (e.g. an open `valid_to`). */
export interface CompareCheck extends CheckBase {
  kind: 'compare';
  left: string;
  op: '<' | '<=' | '=' | '<>' | '>=' | '>';
  right: string;
}

/** Passes when at least `threshold` (0..1) of the rows have `column` neither null nor blank. */
export interface CompletenessCheck extends CheckBase {
  kind: 'completeness';
  column: string;
  threshold: number;
}

/** Passes when the newest `column` is at most `maxAge` before the end of the run's data interval. */
export interface FreshnessCheck extends CheckBase {
  kind: 'freshness';
  column: string;
  maxAge: Duration;
}

/**
 * Passes when the table's rows (in its partition, matching `where`) equal `expected` minus every
 * `minus` count, within `tolerance` (a fraction of the expected count; 0 is exact).
 */
export interface RowCountMatchesSourceCheck extends CheckBase {
  kind: 'rowCountMatchesSource';
  expected: CountQuery;
  minus?: CountQuery[];
  tolerance: number;
}

/** Passes when the table's rows (in its partition, matching `where`) are less than `below` (a fraction) of the count `of`. */
export interface RowRatioCheck extends CheckBase {
  kind: 'rowRatio';
  of: CountQuery;
  below: number;
}

export type QualityCheck =
  | NotNullCheck
  | UniqueCheck
  | AcceptedValuesCheck
  | RelationshipsCheck
  | RangeCheck
  | RegexCheck
  | CompareCheck
  | CompletenessCheck
  | FreshnessCheck
  | RowCountMatchesSourceCheck
  | RowRatioCheck;

export type CheckKind = QualityCheck['kind'];

/** The checks of one table, run as one pass over it (over one day of it, with `partition`). */
export interface QualitySuite {
  /** `schema.table` in the warehouse. */
  table: string;
  /** Check only the run's day of the table; without it the whole table is checked. */
  partition?: DayColumn;
  checks: QualityCheck[];
}

/** Row-level checks count failing rows (and have samples); the others measure the table as a whole. */
export const ROW_CHECKS = ['notNull', 'unique', 'acceptedValues', 'relationships', 'range', 'regex', 'compare', 'completeness'] as const satisfies readonly CheckKind[];
export type RowCheck = Extract<QualityCheck, { kind: (typeof ROW_CHECKS)[number] }>;
export const isRowCheck = (check: QualityCheck): check is RowCheck => (ROW_CHECKS as readonly string[]).includes(check.kind);

// ---------------------------------------------------------------------------------------------
// The same format as a zod schema: a suite arrives at a task as JSON from the run's spec.

// Identifiers are checked here, at the task's edge, so a bad one fails without retries; the
// compiler refuses them again where it builds SQL.
const column = z.string().max(MAX_NAME_BYTES).regex(NAME, { error: 'must be a plain identifier (letters, digits, _)' });
const table = z.string().refine((t) => t.split('.').length === 2 && t.split('.').every((p) => NAME.test(p) && p.length <= MAX_NAME_BYTES), {
  error: 'must be schema.table, each a plain identifier',
});
const scalar = z.union([z.string(), z.number(), z.boolean()]);
const rowFilter = z.record(column, scalar.nullable());
const dayColumn = z.strictObject({ column, value: z.enum(['dateKey', 'date', 'timestamp']) });
const countQuery = z.strictObject({
  database: z.enum(['warehouse', 'source']),
  table,
  sum: column.optional(),
  where: rowFilter.optional(),
  day: dayColumn.optional(),
});
const duration = z.custom<Duration>((v) => {
  try {
    parseDuration(v);
    return true;
  } catch {
    return false;
  }
}, { error: "expected a duration such as '6h'" });
const fraction = z.number().min(0).max(1);

// Names become output columns (`<name>__rows` too), so: no `__` of their own, and short enough
// for Postgres's 63-byte identifiers.
const base = {
  name: z
    .string()
    .max(50)
    .regex(/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/, { error: 'use snake_case (letters, digits, single _), at most 50 characters' })
    .refine((n) => n !== 'total', { error: "'total' is reserved" }),
  severity: z.enum(['blocking', 'warning']),
  where: rowFilter.optional(),
};

const checkSchema = z.discriminatedUnion('kind', [
  z.strictObject({ ...base, kind: z.literal('notNull'), column }),
  z.strictObject({ ...base, kind: z.literal('unique'), columns: z.array(column).min(1) }),
  z.strictObject({ ...base, kind: z.literal('acceptedValues'), column, values: z.array(scalar).min(1) }),
  z.strictObject({ ...base, kind: z.literal('relationships'), column, to: z.strictObject({ table, column }) }),
  z
    .strictObject({ ...base, kind: z.literal('range'), column, gt: z.number().optional(), gte: z.number().optional(), lt: z.number().optional(), lte: z.number().optional() })
    .refine((c) => [c.gt, c.gte, c.lt, c.lte].some((b) => b !== undefined), { error: 'give at least one of gt, gte, lt, lte' }),
  z.strictObject({ ...base, kind: z.literal('regex'), column, pattern: z.string().min(1) }),
  z.strictObject({ ...base, kind: z.literal('compare'), left: column, op: z.enum(['<', '<=', '=', '<>', '>=', '>']), right: column }),
  z.strictObject({ ...base, kind: z.literal('completeness'), column, threshold: fraction }),
  z.strictObject({ ...base, kind: z.literal('freshness'), column, maxAge: duration }),
  z.strictObject({ ...base, kind: z.literal('rowCountMatchesSource'), expected: countQuery, minus: z.array(countQuery).optional(), tolerance: fraction }),
  z.strictObject({ ...base, kind: z.literal('rowRatio'), of: countQuery, below: z.number().positive() }),
]);

export const qualitySuiteSchema: z.ZodType<QualitySuite> = z
  .strictObject({ table, partition: dayColumn.optional(), checks: z.array(checkSchema).min(1) })
  .superRefine((suite, ctx) => {
    const seen = new Set<string>();
    suite.checks.forEach((check, i) => {
      if (seen.has(check.name)) ctx.addIssue({ code: 'custom', path: ['checks', i, 'name'], message: `duplicate check name '${check.name}'` });
      seen.add(check.name);
    });
  });
