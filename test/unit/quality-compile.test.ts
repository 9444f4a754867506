/**
 * The quality compiler without a database: one statement per table, values only as parameters,
 * identifiers refused unless plain; and the verdicts and score computed from what it measures.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileCount, compileSuite, runWindow } from '../../activities/quality/compile';
import { evaluate, qualityScore } from '../../activities/quality/evaluate';
import { QUALITY_SUITES } from '../../activities/quality/suites';
import { qualitySuiteSchema, type QualitySuite } from '../../activities/quality/suite';

const window = runWindow('2026-11-21T00:00:00.000Z', '2026-11-22T00:00:00.000Z');
const placeholders = (sql: string) => sql.split('?').length - 1;

const sales: QualitySuite = {
  table: 'warehouse.fact_sales',
  partition: { column: 'date_key', value: 'dateKey' },
  checks: [
    { name: 'product_key_not_null', kind: 'notNull', column: 'product_key', severity: 'blocking' },
    { name: 'line_unique', kind: 'unique', columns: ['source', 'line_id'], severity: 'blocking' },
    { name: 'region_accepted', kind: 'acceptedValues', column: 'region', values: ['North', 'South'], severity: 'blocking' },
    { name: 'product_exists', kind: 'relationships', column: 'product_key', to: { table: 'warehouse.dim_product', column: 'product_key' }, severity: 'blocking' },
    { name: 'quantity_positive', kind: 'range', column: 'quantity', gt: 0, lte: 1000, severity: 'blocking' },
    { name: 'shop_customer', kind: 'notNull', column: 'customer_key', where: { source: 'shop' }, severity: 'warning' },
    { name: 'fresh', kind: 'freshness', column: 'ordered_at', maxAge: '6h', severity: 'warning' },
  ],
};

describe('compileSuite', () => {
  test('one aggregate statement per table: total, then one column per check, in one pass over the partition', () => {
    const { pass } = compileSuite(sales, window);
    assert.match(pass.sql, /^select count\(\*\) as "total", /);
    assert.equal(pass.sql.match(/\bselect\b/g)?.length, 3, 'the outer select, the window subquery and one join to the dimension');
    assert.equal(pass.sql.match(/"warehouse"\."fact_sales"/g)?.length, 1, 'the table is read once');
    for (const check of sales.checks) assert.ok(pass.sql.includes(` as "${check.name}"`), check.name);
    assert.ok(pass.sql.includes(`count(*) filter (where "t"."product_key" is null) as "product_key_not_null"`));
    assert.ok(pass.sql.includes(`count(*) over (partition by "t"."source", "t"."line_id") as "__unique_1"`), 'uniqueness is a window count');
    assert.ok(pass.sql.includes(`where "t"."date_key" = ?) as "t"`), 'the partition is filtered inside the window, so duplicates are counted within the day');
    assert.ok(
      pass.sql.includes(`left join (select distinct "product_key" as "k" from "warehouse"."dim_product") as "r3" on "r3"."k" = "t"."product_key"`),
      'a relationship is an anti-join against the distinct keys',
    );
    assert.ok(pass.sql.includes(`count(*) filter (where "t"."product_key" is not null and "r3"."k" is null) as "product_exists"`));
    assert.ok(pass.sql.includes(`not ("t"."quantity" > ? and "t"."quantity" <= ?)`));
    assert.ok(pass.sql.includes(`count(*) filter (where ("t"."source" = ?) and ("t"."customer_key" is null)) as "shop_customer"`));
    assert.ok(pass.sql.includes(`count(*) filter (where "t"."source" = ?) as "shop_customer__rows"`), 'a check with a where counts its own rows');
    assert.ok(pass.sql.includes(`max("t"."ordered_at") as "fresh"`));
  });

  test('every value is a bound parameter, in the order of its placeholder', () => {
    const { pass } = compileSuite(sales, window);
    assert.deepEqual(pass.bindings, ['North', 'South', 0, 1000, 'shop', 'shop', 20261121]);
    assert.equal(placeholders(pass.sql), pass.bindings.length);
    assert.ok(!pass.sql.includes("'North'") && !pass.sql.includes('20261121'), 'no value is spliced into the text');
  });

  test('a regex, accepted values and filters never reach the SQL text, whatever they hold', () => {
    const hostile = `x'); drop table warehouse.fact_sales; --`;
    const { pass, samples } = compileSuite(
      {
        table: 'warehouse.dim_customer',
        checks: [
          { name: 'email_format', kind: 'regex', column: 'email', pattern: hostile, where: { city: hostile, valid_to: null }, severity: 'warning' },
          { name: 'segment_accepted', kind: 'acceptedValues', column: 'segment', values: [hostile, 1, true], severity: 'blocking' },
        ],
      },
      window,
    );
    for (const statement of [pass, samples.email_format!, samples.segment_accepted!]) {
      assert.ok(!statement.sql.includes('drop table'), statement.sql);
      assert.equal(placeholders(statement.sql), statement.bindings.length);
    }
    assert.ok(pass.sql.includes(`("t"."city" = ? and "t"."valid_to" is null) and ("t"."email" is not null and "t"."email"::text !~ ?)`));
    assert.deepEqual(pass.bindings.filter((b) => b === hostile).length, 4);
  });

  test('identifiers are refused unless they are plain names: no quoting trick gets through', () => {
    const injection = 'a"; drop table x; --';
    const withColumn = (column: string): QualitySuite => ({ table: 'warehouse.fact_sales', checks: [{ name: 'c', kind: 'notNull', column, severity: 'blocking' }] });
    assert.throws(() => compileSuite(withColumn(injection), window), /invalid identifier "a\\"; drop table x; --"/);
    for (const bad of ['region name', 'x"y', 'a.b', '', '1st', 'a'.repeat(64)]) assert.throws(() => compileSuite(withColumn(bad), window), /invalid identifier/, bad);
    assert.throws(() => compileSuite({ ...withColumn('region'), table: `warehouse.fact_sales"; drop table x; --` }, window), /invalid identifier/);
    assert.throws(() => compileSuite({ ...withColumn('region'), table: 'fact_sales' }, window), /write it as schema\.table/);
    assert.throws(() => compileSuite({ ...withColumn('region'), table: 'a.b.c' }, window), /write it as schema\.table/);
    const relation: QualitySuite = {
      table: 'warehouse.fact_sales',
      checks: [{ name: 'c', kind: 'relationships', column: 'product_key', to: { table: 'warehouse.dim_product', column: injection }, severity: 'blocking' }],
    };
    assert.throws(() => compileSuite(relation, window), /invalid identifier/);
    const filtered: QualitySuite = { table: 'warehouse.fact_sales', checks: [{ name: 'c', kind: 'notNull', column: 'x', where: { [injection]: 1 }, severity: 'blocking' }] };
    assert.throws(() => compileSuite(filtered, window), /invalid identifier/);
  });

  test("samples: the failing rows of one check, from its own source, without the compiler's columns", () => {
    const { samples } = compileSuite(sales, window);
    assert.deepEqual(Object.keys(samples).sort(), ['line_unique', 'product_exists', 'product_key_not_null', 'quantity_positive', 'region_accepted', 'shop_customer']);
    assert.equal(
      samples.region_accepted?.sql,
      `select to_jsonb("t") as "row" from "warehouse"."fact_sales" as "t" where "t"."date_key" = ? and ("t"."region" is not null and "t"."region" not in (?, ?)) limit ?`,
    );
    assert.deepEqual(samples.region_accepted?.bindings, [20261121, 'North', 'South', 5]);
    assert.ok(samples.line_unique?.sql.startsWith(`select to_jsonb("t") - ?::text as "row" from (select "t".*, count(*) over`));
    assert.equal(samples.line_unique?.bindings[0], '__unique_1');
    assert.ok(!samples.region_accepted?.sql.includes('join'), 'a sample joins only what its own check needs');
  });

  test('a day column selects the run day: a key, a date, or a timestamp range [day, next day)', () => {
    const count = compileCount({ database: 'source', table: 'public.order_items', where: { channel: 'web' }, day: { column: 'created_at', value: 'timestamp' } }, window);
    assert.equal(count.sql, `select count(*) as "n" from "public"."order_items" as "t" where "t"."created_at" >= ? and "t"."created_at" < ? and "t"."channel" = ?`);
    assert.deepEqual(count.bindings, ['2026-11-21T00:00:00.000Z', '2026-11-22T00:00:00.000Z', 'web']);
    const sum = compileCount({ database: 'warehouse', table: 'ops.audit_log', sum: 'records_in', day: { column: 'logical_date', value: 'date' } }, window);
    assert.equal(sum.sql, `select coalesce(sum("t"."records_in"), 0) as "n" from "ops"."audit_log" as "t" where "t"."logical_date" = ?`);
    assert.deepEqual(sum.bindings, ['2026-11-21']);
  });

  test("the run window is the UTC day the data interval starts on", () => {
    assert.deepEqual(runWindow('2026-11-21T00:00:00.000Z', '2026-11-22T00:00:00.000Z'), {
      day: '2026-11-21',
      dateKey: 20261121,
      dayStart: '2026-11-21T00:00:00.000Z',
      dayEnd: '2026-11-22T00:00:00.000Z',
      intervalEnd: '2026-11-22T00:00:00.000Z',
    });
  });

  test('the shipped suites are valid and compile', () => {
    for (const suite of QUALITY_SUITES) {
      assert.deepEqual(qualitySuiteSchema.safeParse(suite).error?.issues, undefined, suite.table);
      const { pass } = compileSuite(suite, window);
      assert.equal(placeholders(pass.sql), pass.bindings.length, suite.table);
    }
  });

  test('the suite schema names what is wrong', () => {
    const problems = (suite: unknown) => qualitySuiteSchema.safeParse(suite).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    const check = { name: 'a', kind: 'notNull', column: 'x', severity: 'blocking' };
    assert.deepEqual(problems({ table: 't.x', checks: [check, check] }), ["checks.1.name: duplicate check name 'a'"]);
    assert.match(problems({ table: 't.x', checks: [{ ...check, name: 'Bad Name' }] }).join(), /checks\.0\.name: use snake_case/);
    assert.match(problems({ table: 't.x', checks: [{ ...check, name: 'a__rows' }] }).join(), /checks\.0\.name: use snake_case/);
    assert.match(problems({ table: 't.x', checks: [{ name: 'r', kind: 'range', column: 'x', severity: 'warning' }] }).join(), /give at least one of gt, gte, lt, lte/);
    assert.match(problems({ table: 't.x', checks: [{ name: 'f', kind: 'freshness', column: 'x', maxAge: 'soon', severity: 'warning' }] }).join(), /expected a duration/);
    // Bad identifiers fail at the task's edge already, without retries.
    assert.deepEqual(problems({ table: 't.x', checks: [{ ...check, column: 'a"; drop table x; --' }] }), ['checks.0.column: must be a plain identifier (letters, digits, _)']);
    const [badTable, badKey] = problems({ table: 'x', checks: [{ ...check, where: { 'a b': 1 } }] });
    assert.equal(badTable, 'table: must be schema.table, each a plain identifier');
    assert.match(badKey ?? '', /^checks\.0\.where\.a b: /);
  });
});

describe('evaluate and qualityScore', () => {
  const suite: QualitySuite = {
    table: 'warehouse.fact_sales',
    checks: [
      { name: 'not_null', kind: 'notNull', column: 'x', severity: 'blocking' },
      { name: 'complete', kind: 'completeness', column: 'email', threshold: 0.99, severity: 'blocking' },
      { name: 'fresh', kind: 'freshness', column: 'ordered_at', maxAge: '6h', severity: 'warning' },
      { name: 'count', kind: 'rowCountMatchesSource', expected: { database: 'source', table: 'public.order_items' }, minus: [{ database: 'warehouse', table: 'ops.exceptions' }], tolerance: 0.01, severity: 'blocking' },
      { name: 'rate', kind: 'rowRatio', of: { database: 'warehouse', table: 'ops.audit_log', sum: 'records_in' }, below: 0.1, severity: 'warning' },
    ],
  };

  test('verdicts: failing rows, ratios against thresholds, freshness against the interval end, counts within tolerance', () => {
    const results = evaluate(
      suite,
      {
        pass: { total: '1000', not_null: '0', complete: '11', fresh: new Date('2026-11-21T17:00:00Z'), count: '990', rate: '30' },
        counts: { count: [1000, 5], rate: [300] },
      },
      window,
    );
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    assert.deepEqual([byName.not_null?.passed, byName.not_null?.failedRows], [true, 0]);
    assert.deepEqual([byName.complete?.passed, byName.complete?.failedRows, byName.complete?.observed], [false, 11, { ratio: 0.989, threshold: 0.99 }]);
    assert.deepEqual([byName.fresh?.passed, byName.fresh?.observed.lagSeconds], [false, 7 * 3600]);
    assert.deepEqual([byName.count?.passed, byName.count?.failedRows, byName.count?.observed.expected], [true, 5, 995]);
    assert.deepEqual([byName.rate?.passed, byName.rate?.observed.ratio], [false, 0.1]);
  });

  test('the score weighs blocking checks twice', () => {
    assert.equal(qualityScore([]), 100);
    assert.equal(qualityScore([{ passed: true, severity: 'blocking' }, { passed: false, severity: 'warning' }]), 66.67);
    assert.equal(qualityScore([{ passed: false, severity: 'blocking' }, { passed: true, severity: 'warning' }]), 33.33);
  });
});
