import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getPath, resolveTemplate } from '../../workflows/interpreter/templates';

const context = {
  dagId: 'd',
  runId: 'd-2026-11-21T00:00:00Z',
  logicalDate: '2026-11-21T00:00:00Z',
  dataIntervalStart: '2026-11-20T00:00:00Z',
  dataIntervalEnd: '2026-11-21T00:00:00Z',
  params: { region: 'eu', limits: { max: 5 } },
};

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
    day: '2026-11-21T00:00:00Z',
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
