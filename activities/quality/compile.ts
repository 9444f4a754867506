/**
 * Compiles a quality suite into set-based SQL: ONE aggregate statement per table that counts, in
 * a single pass over its partition, the rows failing each check. Uniqueness is a window count in
 * the same pass; a relationship is a left join to the referenced table's distinct keys (a hash
 * anti-join for the planner, whatever the table sizes), never a query per row. Failing rows are
 * fetched separately (`samples`), only for checks that failed.
 *
 * Pure: no database, no clock. Identifiers are checked (see `ident`), values are bound.
 */
import { isRowCheck, type CountQuery, type DayColumn, type QualityCheck, type QualitySuite, type RowCheck, type RowFilter } from './suite';
import { ident, join, keyword, sql, Sql, tableName, type SqlValue } from './sql';

/** The values a run's checks are measured against, from its data interval. */
export interface RunWindow {
  /** The day checked: the UTC date the data interval starts on, `2026-11-21`. */
  day: string;
  /** The same day as a `yyyymmdd` key: 20261121. */
  dateKey: number;
  /** [dayStart, dayEnd): the day as instants (ISO, UTC). */
  dayStart: string;
  dayEnd: string;
  /** The end of the run's data interval: what freshness is measured against. */
  intervalEnd: string;
}

export function runWindow(dataIntervalStart: string, dataIntervalEnd: string): RunWindow {
  const day = new Date(dataIntervalStart).toISOString().slice(0, 10);
  const start = new Date(`${day}T00:00:00.000Z`);
  return {
    day,
    dateKey: Number(day.replaceAll('-', '')),
    dayStart: start.toISOString(),
    dayEnd: new Date(start.getTime() + 86_400_000).toISOString(),
    intervalEnd: new Date(dataIntervalEnd).toISOString(),
  };
}

/** SQL for knex's `raw(sql, bindings)`: `?` placeholders, values in order. */
export interface Statement {
  sql: string;
  bindings: SqlValue[];
}

export interface CompiledSuite {
  /**
   * The one pass: column `total` (rows in the partition), then per check a column named after it:
   * failing rows for row checks, `max(column)` for freshness, rows in scope for the row-count
   * checks; plus `<name>__rows` (rows in scope) for the others when they have a `where`.
   */
  pass: Statement;
  /** Per row check: up to `SAMPLE_LIMIT` failing rows, one JSON object (`row`) each. */
  samples: Record<string, Statement>;
}

export const SAMPLE_LIMIT = 5;

/** The alias of the table checked, in every statement. */
const T = 't';

export function compileSuite(suite: QualitySuite, window: RunWindow): CompiledSuite {
  const indexed = suite.checks.map((check, index) => ({ check, index }));
  const columns = [sql`count(*) as "total"`];
  for (const { check, index } of indexed) {
    columns.push(sql`${measure(check, index)} as ${ident(check.name)}`);
    // A row count's measure is already its rows in scope.
    const scope = isRowCheck(check) || check.kind === 'freshness' ? rowFilter(check.where) : undefined;
    if (scope) columns.push(sql`count(*) filter (where ${scope}) as ${ident(`${check.name}__rows`)}`);
  }
  const pass = sql`select ${join(columns, ', ')} ${source(suite, window, indexed).clause()}`;

  const samples: Record<string, Statement> = {};
  for (const { check, index } of indexed) {
    if (!isRowCheck(check)) continue;
    const own = source(suite, window, [{ check, index }]);
    // The window columns the source adds are the compiler's, not the table's: not part of a sample.
    const row = own.windows.reduce((json, name) => sql`${json} - ${name}::text`, sql`to_jsonb(${ident(T)})`);
    samples[check.name] = statement(sql`select ${row} as "row" ${own.clause(failing(check, index))} limit ${SAMPLE_LIMIT}`);
  }
  return { pass: statement(pass), samples };
}

/** `select count(*) as "n"` (or the sum of a column) of the run's day of another table. */
export function compileCount(query: CountQuery, window: RunWindow): Statement {
  const value = query.sum === undefined ? sql`count(*)` : sql`coalesce(sum(${ident(query.sum, T)}), 0)`;
  const conditions = [query.day && dayCondition(query.day, window), rowFilter(query.where)].filter((c): c is Sql => c !== undefined);
  return statement(sql`select ${value} as "n" from ${tableName(query.table)} as ${ident(T)}${where(conditions.length > 0 ? join(conditions, ' and ') : undefined)}`);
}

const statement = (fragment: Sql): Statement => ({ sql: fragment.text, bindings: [...fragment.values] });

/** What the pass computes for a check (see `CompiledSuite.pass`). */
function measure(check: QualityCheck, index: number): Sql {
  if (isRowCheck(check)) return sql`count(*) filter (where ${failing(check, index)})`;
  const scope = rowFilter(check.where);
  const filter = scope ? sql` filter (where ${scope})` : NOTHING;
  switch (check.kind) {
    case 'freshness':
      return sql`max(${col(check.column)})${filter}`;
    case 'rowCountMatchesSource':
    case 'rowRatio':
      return sql`count(*)${filter}`;
  }
}

/** The condition a row check's failing rows meet (its `where` included). */
function failing(check: RowCheck, index: number): Sql {
  const condition = violation(check, index);
  const scope = rowFilter(check.where);
  return scope ? sql`(${scope}) and (${condition})` : condition;
}

function violation(check: RowCheck, index: number): Sql {
  switch (check.kind) {
    case 'notNull':
      return sql`${col(check.column)} is null`;
    case 'unique':
      return sql`${join(check.columns.map((c) => sql`${col(c)} is not null`), ' and ')} and ${col(uniqueColumn(index))} > 1`;
    case 'acceptedValues':
      return sql`${col(check.column)} is not null and ${col(check.column)} not in (${join(
        check.values.map((v) => sql`${v}`),
        ', ',
      )})`;
    case 'relationships':
      return sql`${col(check.column)} is not null and ${ident('k', joinAlias(index))} is null`;
    case 'range': {
      const bounds = (
        [
          ['>', check.gt],
          ['>=', check.gte],
          ['<', check.lt],
          ['<=', check.lte],
        ] as const
      ).flatMap(([op, bound]) => (bound === undefined ? [] : [sql`${col(check.column)} ${keyword(op)} ${bound}`]));
      return sql`${col(check.column)} is not null and not (${join(bounds, ' and ')})`;
    }
    case 'regex':
      return sql`${col(check.column)} is not null and ${col(check.column)}::text !~ ${check.pattern}`;
    case 'compare':
      return sql`${col(check.left)} is not null and ${col(check.right)} is not null and not (${col(check.left)} ${comparison(check.op)} ${col(check.right)})`;
    case 'completeness':
      return sql`${col(check.column)} is null or btrim(${col(check.column)}::text) = ''`;
  }
}

const OPERATORS = new Set(['<', '<=', '=', '<>', '>=', '>']);
function comparison(op: string): Sql {
  if (!OPERATORS.has(op)) throw new Error(`invalid comparison ${JSON.stringify(op)}`);
  return keyword(op);
}

interface Source {
  /** The names of the window columns it adds to the table's. */
  windows: string[];
  /** `from ... [where ...]`, with `extra` as one more condition. */
  clause(extra?: Sql): Sql;
}

/**
 * `from` the table's partition, with a window count per unique check and a join per
 * relationship check among `checks`. With windows, the partition is filtered inside the subquery
 * so duplicates are counted within the day, not across the table.
 */
function source(suite: QualitySuite, window: RunWindow, checks: ReadonlyArray<{ check: QualityCheck; index: number }>): Source {
  const table = sql`${tableName(suite.table)} as ${ident(T)}`;
  const partition = suite.partition && dayCondition(suite.partition, window);
  const windows = checks.flatMap(({ check, index }) => {
    if (check.kind !== 'unique') return [];
    const scope = rowFilter(check.where);
    const counted = scope ? sql`count(*) filter (where ${scope})` : sql`count(*)`;
    return [{ name: uniqueColumn(index), sql: sql`${counted} over (partition by ${join(check.columns.map(col), ', ')}) as ${ident(uniqueColumn(index))}` }];
  });
  const joins = checks.flatMap(({ check, index }) => {
    if (check.kind !== 'relationships') return [];
    const alias = joinAlias(index);
    return [
      sql` left join (select distinct ${ident(check.to.column)} as "k" from ${tableName(check.to.table)}) as ${ident(alias)} on ${ident('k', alias)} = ${col(check.column)}`,
    ];
  });
  const from =
    windows.length > 0
      ? sql`from (select ${ident(T)}.*, ${join(
          windows.map((w) => w.sql),
          ', ',
        )} from ${table}${where(partition)}) as ${ident(T)}`
      : sql`from ${table}`;
  const outer = windows.length > 0 ? undefined : partition;
  return {
    windows: windows.map((w) => w.name),
    clause(extra?: Sql): Sql {
      return sql`${from}${join(joins, '')}${where(outer && extra ? sql`${outer} and (${extra})` : (outer ?? extra))}`;
    },
  };
}

function dayCondition(day: DayColumn, window: RunWindow): Sql {
  switch (day.value) {
    case 'dateKey':
      return sql`${col(day.column)} = ${window.dateKey}`;
    case 'date':
      return sql`${col(day.column)} = ${window.day}`;
    case 'timestamp':
      return sql`${col(day.column)} >= ${window.dayStart} and ${col(day.column)} < ${window.dayEnd}`;
  }
}

function rowFilter(filter: RowFilter | undefined): Sql | undefined {
  const entries = Object.entries(filter ?? {});
  if (entries.length === 0) return undefined;
  return join(
    entries.map(([column, value]) => (value === null ? sql`${col(column)} is null` : sql`${col(column)} = ${value}`)),
    ' and ',
  );
}

const NOTHING = keyword('');
const where = (condition: Sql | undefined): Sql => (condition ? sql` where ${condition}` : NOTHING);
const col = (name: string): Sql => ident(name, T);
const uniqueColumn = (index: number) => `__unique_${index}`;
const joinAlias = (index: number) => `r${index}`;
