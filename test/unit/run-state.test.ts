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

test('a branch skips the downstream tasks it did not choose, and their descendants', () => {
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

test('a branch may only choose its direct downstream tasks', () => {
  const run = new RunState(spec([task('pick', [], { kind: 'branch' }), task('left', ['pick']), task('far', ['left'])]));
  assert.throws(() => run.chooseBranch('pick', ['far']), /'far'.*not directly downstream of it/);
});

test('a cyclic spec is refused', () => {
  assert.throws(() => new RunState(spec([task('a', ['b']), task('b', ['a'])])), /cycle/);
});
