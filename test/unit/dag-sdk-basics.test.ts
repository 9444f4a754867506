import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalJson,
  catalogFrom,
  dag,
  defineBranch,
  defineSensor,
  defineTask,
  isDagDefinition,
  isTaskDef,
  parseDuration,
  runTask,
  type TaskContext,
} from '../../dags/sdk';

const ctx = {
  dagId: 'd',
  runId: 'd-2026-01-01T00:00:00Z',
  taskId: 't',
  logicalDate: '2026-01-01T00:00:00Z',
  dataIntervalStart: '2026-01-01T00:00:00Z',
  dataIntervalEnd: '2026-01-02T00:00:00Z',
  params: {},
  attempt: 1,
  log: { debug() {}, info() {}, warn() {}, error() {} },
  heartbeat() {},
} as unknown as TaskContext;

describe('parseDuration', () => {
  it('parses unit strings and milliseconds', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('1d'), 86_400_000);
    assert.equal(parseDuration('1.5s'), 1_500);
    assert.equal(parseDuration(0), 0);
    assert.equal(parseDuration(1234), 1234);
  });

  it('rejects anything else with the value in the message', () => {
    for (const bad of ['5 minutes', '5', 'm', '-1s', '', -1, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, {}]) {
      assert.throws(() => parseDuration(bad), RangeError, String(bad));
    }
    assert.throws(() => parseDuration('1w'), /invalid duration "1w": expected e.g. '30s'/);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    assert.equal(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[{"y":2,"z":1}]},"b":1}');
    assert.equal(canonicalJson({ a: { y: 1, x: 2 } }), canonicalJson({ a: { x: 2, y: 1 } }));
  });
});

describe('task definitions', () => {
  it('carry name, kind, run and frozen defaults', () => {
    const def = defineTask('extract', async (input: { n: number }) => input.n * 2, { retries: 2 });
    assert.equal(def.name, 'extract');
    assert.equal(def.kind, 'task');
    assert.deepEqual(def.defaults, { retries: 2 });
    assert.ok(Object.isFrozen(def) && Object.isFrozen(def.defaults));
    assert.equal(defineSensor('s', async () => true).kind, 'sensor');
    assert.equal(defineBranch('b', async () => 'x').kind, 'branch');
    assert.ok(isTaskDef(def));
    assert.ok(!isTaskDef({ name: 'extract', kind: 'task', run: async () => 1 }));
  });

  it('reject invalid names and unknown defaults', () => {
    assert.throws(() => defineTask('', async () => 1), /invalid task name ""/);
    assert.throws(() => defineTask('has.dot', async () => 1), /invalid task name "has.dot"/);
    assert.throws(() => defineTask('typo', async () => 1, { retry: 2 } as never), /task 'typo': unknown default 'retry'/);
  });

  it('catalogFrom maps names to definitions and rejects two definitions with one name', () => {
    const a = defineTask('a', async () => 1);
    const b = defineTask('b', async () => 2);
    const catalog = catalogFrom([a, b, a]);
    assert.deepEqual([...catalog.keys()], ['a', 'b']);
    assert.equal(catalog.get('a'), a);
    assert.throws(() => catalogFrom([a, defineTask('a', async () => 3)]), /two different task definitions are named 'a'/);
  });

  it('runTask runs the function, passes the outcome to callbacks and checks sensor and branch results', async () => {
    const double = defineTask('double', async (input: { n: number }, c) => ({ n: input.n * 2, outcome: c.outcome }));
    assert.deepEqual(await runTask(double, { n: 2 }, ctx), { n: 4, outcome: undefined });
    const outcome = { state: 'failed', failedTasks: ['x'] };
    assert.deepEqual(await runTask(double, { n: 1 }, ctx, outcome), { n: 2, outcome });
    await assert.rejects(runTask(defineSensor('s', async () => 'yes' as never), {}, ctx), /sensor 's' must return a boolean, got string/);
    await assert.rejects(runTask(defineBranch('b', async () => [1] as never), {}, ctx), /branch 'b' must return a label or a list of labels/);
    assert.deepEqual(await runTask(defineBranch('b2', async () => ['x', 'y']), {}, ctx), ['x', 'y']);
  });
});

describe('dag()', () => {
  it('returns a frozen definition and accepts the options-less form', () => {
    const noop = defineTask('noop', async () => null);
    const d = dag('tiny', ({ task }) => void task(noop));
    assert.ok(isDagDefinition(d));
    assert.equal(d.dagId, 'tiny');
    assert.deepEqual(d.options, {});
    assert.ok(Object.isFrozen(d));
    assert.throws(() => dag('x', {} as never, undefined as never), /the last argument must be the DAG function/);
  });
});
