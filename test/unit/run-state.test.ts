import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RunState } from '../../workflows/interpreter/run-state';
import type { DagSpec, TaskSpec } from '../../workflows/spec';

const task = (id: string, upstream: string[] = [], extra: Partial<TaskSpec> = {}): TaskSpec => ({
  id,
  activity: 'noop',
  kind: 'task',
  input: {},
  upstream,
  triggerRule: 'all_success',
  retry: { retries: 0, initialIntervalMs: 1000, backoffCoefficient: 2, maxIntervalMs: 60000 },
  executionTimeoutMs: 60000,
  ...extra,
});
const spec = (tasks: TaskSpec[]): DagSpec => ({
  dagId: 'unit',
  version: 'v',
  tags: [],
  schedule: null,
  catchup: false,
  maxActiveRuns: 1,
  maxActiveTasks: 16,
  operatorWindowMs: 1000,
  taskQueue: 'sluice',
  tasks,
});
const states = (run: RunState) => Object.fromEntries(run.snapshot().map((t) => [t.id, t.state]));

test('a diamond promotes roots first, then the join once both sides succeed', () => {
  const run = new RunState(spec([task('d', ['b', 'c']), task('b', ['a']), task('c', ['a']), task('a')]));
  assert.deepEqual(run.promote(), ['a']);
  run.finish('a', 'success');
  assert.deepEqual(run.promote().sort(), ['b', 'c']);
  run.finish('b', 'success');
  assert.deepEqual(run.promote(), []);
  run.finish('c', 'success');
  assert.deepEqual(run.promote(), ['d']);
});

test('a failure propagates upstream_failed down the whole chain in one pass', () => {
  const run = new RunState(spec([task('a'), task('b', ['a']), task('c', ['b']), task('other')]));
  run.promote();
  run.finish('a', 'failed', { error: 'boom' });
  run.finish('other', 'success');
  run.promote();
  assert.deepEqual(states(run), { a: 'failed', other: 'success', b: 'upstream_failed', c: 'upstream_failed' });
  assert.equal(run.isSettled(), true);
  assert.deepEqual(run.failedTasks(), ['a']);
});

test('retrying a failed task reopens what it blocked and leaves successes alone', () => {
  const run = new RunState(spec([task('a'), task('b', ['a']), task('c', ['b']), task('ok')]));
  run.promote();
  run.finish('a', 'failed', { error: 'boom' });
  run.finish('ok', 'success');
  run.promote();
  assert.deepEqual(run.resetFailed(['a']).sort(), ['a', 'b', 'c']);
  assert.deepEqual(states(run), { a: 'pending', ok: 'success', b: 'pending', c: 'pending' });
  assert.deepEqual(run.promote(), ['a']);
});

test('mark success lets downstream tasks run', () => {
  const run = new RunState(spec([task('a'), task('b', ['a'])]));
  run.promote();
  run.finish('a', 'failed', { error: 'boom' });
  run.promote();
  run.markSuccess('a', '2026-01-01T00:00:00Z');
  assert.deepEqual(run.promote(), ['b']);
  assert.equal(run.output('a'), null);
});

test('a branch runs the arms whose labels it chose and skips the others, with their descendants', () => {
  const run = new RunState(
    spec([
      task('pick', [], { kind: 'branch' }),
      task('eu', ['pick'], { when: { pick: ['eu'] } }),
      task('eu_too', ['pick'], { when: { pick: ['eu', 'both'] } }),
      task('us', ['pick'], { when: { pick: ['us'] } }),
      task('after_us', ['us']),
    ]),
  );
  run.promote();
  assert.throws(() => run.chooseBranch('pick', ['asia']), /branch 'pick' chose 'asia', but no task follows that label \(arms: eu, both, us\)/);
  run.chooseBranch('pick', ['eu']);
  run.finish('pick', 'success', { output: 'eu' });
  assert.deepEqual(run.promote(), ['eu', 'eu_too']);
  assert.deepEqual([states(run).us, states(run).after_us], ['skipped', 'skipped']);
});

test('clearing re-runs finished tasks (with their descendants) and drops their outputs', () => {
  const run = new RunState(spec([task('a'), task('b', ['a']), task('c', ['b']), task('side')]));
  for (const id of ['a', 'side']) run.start(id, 't');
  run.finish('a', 'success', { output: 'A' });
  run.finish('side', 'success', { output: 'S' });
  run.promote();
  run.finish('b', 'failed', { error: 'boom' });
  run.promote();
  assert.equal(states(run).c, 'upstream_failed');
  assert.deepEqual(run.clear(['a'], false), ['a']);
  assert.equal(run.output('a'), undefined);
  assert.deepEqual(states(run), { a: 'pending', side: 'success', b: 'failed', c: 'upstream_failed' });
  assert.deepEqual(run.clear(['a'], true), ['a', 'b', 'c']);
  assert.deepEqual(states(run), { a: 'pending', side: 'success', b: 'pending', c: 'pending' });
  assert.deepEqual(run.promote(), ['a']);
});

test('a cleared closed run restores what the earlier execution recorded, branch choices included', () => {
  const tasks = [
    task('pick', [], { kind: 'branch' }),
    task('eu', ['pick'], { when: { pick: ['eu'] } }),
    task('us', ['pick'], { when: { pick: ['us'] } }),
    task('publish', ['eu', 'us'], { triggerRule: 'none_failed_min_one_success' }),
  ];
  const run = new RunState(spec(tasks));
  run.restore([
    { id: 'pick', state: 'success', attempts: 1, output: 'eu' },
    { id: 'us', state: 'skipped', attempts: 0, skipReason: 'branch' },
    { id: 'publish', state: 'success', attempts: 2, output: 'P' },
    { id: 'eu', state: 'success', attempts: 1, output: 'cleared' },
  ], ['eu']);
  assert.deepEqual(run.promote(), ['eu']);
  assert.equal(run.record('publish').attempts, 2);
  assert.equal(run.output('pick'), 'eu');
  assert.equal(run.record('eu').attempts, 1, 'a cleared task keeps counting attempts');
  assert.equal(run.output('eu'), undefined);
});

test('(specs compiled before branch arms) a branch skips the downstream tasks it did not choose, and their descendants', () => {
  const run = new RunState(
    spec([
      task('pick', [], { kind: 'branch' }),
      task('left', ['pick']),
      task('right', ['pick']),
      task('after_right', ['right']),
      task('join', ['left', 'right'], { triggerRule: 'none_failed_min_one_success' }),
    ]),
  );
  run.promote();
  run.chooseBranch('pick', ['left']);
  run.finish('pick', 'success', { output: 'left' });
  assert.deepEqual(run.promote(), ['left']);
  assert.equal(states(run).right, 'skipped');
  assert.equal(states(run).after_right, 'skipped');
  run.finish('left', 'success');
  assert.deepEqual(run.promote(), ['join']);
});

test('(specs compiled before branch arms) a branch may only choose its direct downstream tasks', () => {
  const run = new RunState(spec([task('pick', [], { kind: 'branch' }), task('left', ['pick']), task('far', ['left'])]));
  assert.throws(() => run.chooseBranch('pick', ['far']), /'far'.*not directly downstream of it/);
});

test('a cyclic spec is refused', () => {
  assert.throws(() => new RunState(spec([task('a', ['b']), task('b', ['a'])])), /cycle/);
});

test('the state of a mapped task is summarised; the per-instance list stops at 1,000 instances', () => {
  const run = new RunState(spec([task('small', [], { kind: 'map' }), task('large', [], { kind: 'map' })]));
  run.initMap('small', [], 3);
  run.initMap('large', { $offloaded: { key: 'k', bytes: 1 } }, 50_000);
  const small = run.record('small').mapped!;
  small[0] = 'success';
  small[2] = 'failed';
  const large = run.record('large').mapped!;
  large.fill('success');
  large[7] = 'failed';
  large[49_999] = 'running';

  const [smallStatus, largeStatus] = run.snapshot();
  assert.deepEqual(smallStatus!.mapped, ['success', 'pending', 'failed']);
  assert.deepEqual(smallStatus!.mapSummary, { total: 3, counts: { success: 1, pending: 1, failed: 1 }, failedIndexes: [2] });
  assert.equal(largeStatus!.mapped, undefined);
  assert.deepEqual(largeStatus!.mapSummary, { total: 50_000, counts: { success: 49_998, failed: 1, running: 1 }, failedIndexes: [7] });
  assert.ok(JSON.stringify(largeStatus).length < 1_000);
});
