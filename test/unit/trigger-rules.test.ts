import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide } from '../../workflows/interpreter/trigger-rules';
import type { TaskState, TriggerRule } from '../../workflows/spec';

// [rule, upstream states, expected decision]
const cases: Array<[TriggerRule, TaskState[], ReturnType<typeof decide>]> = [
  ['all_success', [], 'run'],
  ['all_success', ['success', 'success'], 'run'],
  ['all_success', ['success', 'running'], 'wait'],
  ['all_success', ['success', 'failed'], 'upstream_failed'],
  ['all_success', ['success', 'upstream_failed'], 'upstream_failed'],
  ['all_success', ['success', 'skipped'], 'skipped'],
  ['all_failed', ['failed', 'upstream_failed'], 'run'],
  ['all_failed', ['failed', 'success'], 'skipped'],
  ['all_done', ['failed', 'skipped', 'success'], 'run'],
  ['all_done', ['failed', 'up_for_retry'], 'wait'],
  ['always', ['upstream_failed'], 'run'],
  ['one_success', ['success', 'running'], 'run'],
  ['one_success', ['failed', 'failed'], 'upstream_failed'],
  ['one_success', ['failed', 'skipped'], 'skipped'],
  ['one_failed', ['failed', 'running'], 'run'],
  ['one_failed', ['success', 'success'], 'skipped'],
  ['one_failed', ['success', 'queued'], 'wait'],
  ['none_failed', ['success', 'skipped'], 'run'],
  ['none_failed', ['success', 'failed'], 'upstream_failed'],
  ['none_failed_min_one_success', ['success', 'skipped'], 'run'],
  ['none_failed_min_one_success', ['skipped', 'skipped'], 'skipped'],
  ['none_failed_min_one_success', ['success', 'upstream_failed'], 'upstream_failed'],
];

for (const [rule, upstream, expected] of cases) {
  test(`${rule} with [${upstream.join(', ')}] → ${expected}`, () => {
    assert.equal(decide(rule, upstream), expected);
  });
}
