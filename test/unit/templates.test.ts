import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runMacros } from '../../workflows/interpreter/macros';
import { getPath, resolveTemplate } from '../../workflows/interpreter/templates';

const context = {
  dagId: 'd',
  runId: 'd-2026-11-21T06:00:00Z',
  logicalDate: '2026-11-21T06:00:00Z',
  dataIntervalStart: '2026-11-20T06:00:00Z',
  dataIntervalEnd: '2026-11-21T06:00:00Z',
  params: { region: 'eu', limits: { max: 5 } },
  ...runMacros('2026-11-21T06:00:00Z', '2026-11-20T06:00:00Z', '2026-11-22T06:00:00Z'),
};

test("Airflow's macros come from the logical date and the neighbouring fire times, in UTC", () => {
  assert.deepEqual(runMacros('2026-11-21T06:00:00.000Z', '2026-11-20T06:00:00Z', '2026-11-22T06:00:00Z'), {
    ds: '2026-11-21',
    dsNodash: '20261121',
    ts: '2026-11-21T06:00:00+00:00',
    tsNodash: '20261121T060000',
    prevDs: '2026-11-20',
    nextDs: '2026-11-22',
  });
  // 00:30 in Berlin is still the day before in UTC, as in Airflow.
  assert.equal(runMacros('2026-11-20T23:30:00Z', null, null).ds, '2026-11-20');
  assert.deepEqual([runMacros('2026-11-21T00:00:00Z', null, undefined).prevDs, runMacros('2026-11-21T00:00:00Z', null, undefined).nextDs], [null, null]);
});

test('a tpl placeholder joins its strings and resolved scalar values', () => {
  const outputs: Record<string, unknown> = { extract: { key: 'bronze/x', rows: 3 } };
  const scope = { output: (id: string) => outputs[id], context };
  const template = { $tpl: { strings: ['landing/dt=', '/', '-', '.csv'], values: [{ $ctx: 'ds' }, { $ref: { task: 'extract', path: ['rows'] } }, 'x'] } };
  assert.equal(resolveTemplate(template, scope), 'landing/dt=2026-11-21/3-x.csv');
  assert.throws(() => resolveTemplate({ $tpl: { strings: ['a', ''], values: [{ $ref: { task: 'extract', path: [] } }] } }, scope), /tpl value 1 \(output of 'extract'\) is an object; use a field of it/);
  assert.throws(() => resolveTemplate({ $tpl: { strings: ['', ''], values: [{ $ctx: 'prevDs' }] } }, { ...scope, context: { ...context, prevDs: null } }), /tpl value 1 \(ctx.prevDs\) is null/);
});

test('placeholders resolve to outputs, context values and mapped items, at any depth', () => {
  const outputs: Record<string, unknown> = { extract: { key: 'bronze/x', rows: 3 }, list: ['a', 'b'] };
  const template = {
    key: { $ref: { task: 'extract', path: ['key'] } },
    all: { $ref: { task: 'extract', path: [] } },
    day: { $ctx: 'logicalDate' },
    max: { $ctx: 'params', path: ['limits', 'max'] },
    nested: [{ item: { $item: [] } }, 42, 'plain'],
  };
  const resolved = resolveTemplate(template, { output: (id) => outputs[id], context, item: { list: outputs.list, index: 1 } });
  assert.deepEqual(resolved, {
    key: 'bronze/x',
    all: { key: 'bronze/x', rows: 3 },
    day: '2026-11-21T06:00:00Z',
    max: 5,
    nested: [{ item: 'b' }, 42, 'plain'],
  });
});

test('a path into an offloaded output is deferred to the activity that loads it', () => {
  const offloaded = { $offloaded: { key: '_sluice/outputs/x.json', bytes: 99999 } };
  assert.deepEqual(getPath(offloaded, ['rows', 3]), { ...offloaded, path: ['rows', 3] });
  assert.deepEqual(getPath({ inner: offloaded }, ['inner', 'a']), { ...offloaded, path: ['a'] });
});

test('$item outside a mapped task is an error', () => {
  assert.throws(() => resolveTemplate({ $item: [] }, { output: () => undefined, context }), /outside a mapped task/);
});
