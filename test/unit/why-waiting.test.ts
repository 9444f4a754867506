import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskStatus } from '../../workflows/messages';
import type { DagRunState, DagSpec, TaskSpec, TaskState } from '../../workflows/spec';
import { backoff, whyNotRunning, type AttemptInfo, type WhyInput } from '../../server/console/why-waiting';

const task = (id: string, upstream: string[] = [], extra: Partial<TaskSpec> = {}): TaskSpec => ({
  id,
  activity: id,
  kind: 'task',
  input: {},
  upstream,
  triggerRule: 'all_success',
  retry: { retries: 3, initialIntervalMs: 10_000, backoffCoefficient: 2, maxIntervalMs: 30_000 },
  executionTimeoutMs: 60_000,
  ...extra,
});
const spec = (tasks: TaskSpec[], extra: Partial<DagSpec> = {}): DagSpec => ({
  dagId: 'unit',
  version: 'v',
  tags: [],
  schedule: null,
  catchup: false,
  maxActiveRuns: 1,
  maxActiveTasks: 16,
  operatorWindowMs: 3_600_000,
  taskQueue: 'sluice',
  tasks,
  ...extra,
});
const NOW = new Date('2026-11-30T04:00:00Z');
const at = (seconds: number) => new Date(NOW.getTime() + seconds * 1000).toISOString();
const status = (id: string, state: TaskState, extra: Partial<TaskStatus> = {}): TaskStatus => ({ id, state, attempts: 0, ...extra });
const attempt = (taskId: string, n: number, state: string, start: number, end: number | null, error: string | null = null): AttemptInfo => ({
  taskId,
  attempt: n,
  state,
  startedAt: at(start),
  endedAt: end === null ? null : at(end),
  error,
  mapIndex: null,
});
const why = (s: DagSpec, tasks: TaskStatus[], opts: { state?: DagRunState; attempts?: AttemptInfo[]; operatorDeadline?: string } = {}) =>
  whyNotRunning({
    spec: s,
    run: { state: opts.state ?? 'running', tasks, ...(opts.operatorDeadline ? { operatorDeadline: opts.operatorDeadline } : {}) },
    attempts: opts.attempts ?? [],
    now: NOW,
  } satisfies WhyInput);
const reasonOf = (result: ReturnType<typeof why>, id: string) => result.tasks.find((t) => t.taskId === id)?.reason;

describe('pending tasks', () => {
  it('names the upstream tasks they wait for, with their states, and what the trigger rule needs', () => {
    const s = spec([task('extract'), task('load'), task('report', ['extract', 'load'])]);
    const result = why(s, [status('extract', 'running', { attempts: 1 }), status('load', 'pending'), status('report', 'pending')], {
      attempts: [attempt('extract', 1, 'running', -5, null)],
    });
    assert.equal(result.run, undefined);
    assert.equal(
      reasonOf(result, 'report'),
      'waits for extract (running) and load (pending): trigger rule all_success runs it when every upstream task succeeded',
    );
    assert.match(reasonOf(result, 'load') ?? '', /^has no upstream task: it starts at the run's next step$/);
    assert.equal(reasonOf(result, 'extract'), undefined, 'a running task a worker took is not listed');
  });

  it('lists only the unfinished upstream tasks, and explains each rule', () => {
    const s = spec([task('a'), task('b'), task('c'), task('any', ['a', 'b', 'c'], { triggerRule: 'one_success' }), task('end', ['a', 'b'], { triggerRule: 'always' })]);
    const result = why(s, [status('a', 'failed'), status('b', 'up_for_retry'), status('c', 'running', { attempts: 1 }), status('any', 'pending'), status('end', 'pending')], {
      attempts: [attempt('b', 1, 'failed', -20, -5, 'boom'), attempt('c', 1, 'running', -5, null)],
    });
    assert.equal(reasonOf(result, 'any'), 'waits for b (up_for_retry) and c (running): trigger rule one_success runs it as soon as one upstream task succeeds');
    assert.equal(reasonOf(result, 'end'), 'waits for b (up_for_retry): trigger rule always runs it once every upstream task has finished, whatever the outcome');
    assert.equal(reasonOf(result, 'a'), undefined, 'failed tasks are not listed');
  });

  it('says when a task sits in a branch arm not chosen yet', () => {
    const s = spec([task('choose', [], { kind: 'branch' }), task('eu', ['choose'], { when: { choose: ['eu'] } }), task('old', ['choose'])]);
    const result = why(s, [status('choose', 'running', { attempts: 1 }), status('eu', 'pending'), status('old', 'pending')], {
      attempts: [attempt('choose', 1, 'running', -1, null)],
    });
    assert.equal(
      reasonOf(result, 'eu'),
      "waits for choose (running): trigger rule all_success runs it when every upstream task succeeded; it is in branch arm 'eu' of choose, which has not chosen yet (choose is running)",
    );
    assert.match(reasonOf(result, 'old') ?? '', /branch arm 'old' of choose/, 'specs from before arms name the task itself');
  });

  it('says a ready task starts at the next step, and one whose upstream failed will not run', () => {
    const s = spec([task('a'), task('b', ['a']), task('c', ['a'])]);
    const result = why(s, [status('a', 'success'), status('b', 'pending'), status('c', 'pending')]);
    assert.equal(reasonOf(result, 'b'), "ready (trigger rule all_success runs it when every upstream task succeeded, and its upstream tasks allow it): it starts at the run's next step");
    const failed = why(s, [status('a', 'failed'), status('b', 'pending'), status('c', 'upstream_failed')]);
    assert.match(reasonOf(failed, 'b') ?? '', /^will not run: its upstream tasks ended a \(failed\).*the run marks it upstream_failed/);
    assert.equal(reasonOf(failed, 'c'), undefined, 'upstream_failed tasks are not listed');
  });
});

describe('the run as a whole', () => {
  it('a queued run in its DAG\'s maxActiveRuns line names the holders and its place', () => {
    const s = spec([task('a')], { taskQueue: 'etl', maxActiveRuns: 2 });
    const result = whyNotRunning({
      spec: s,
      runId: 'unit-3',
      slots: { maxActiveRuns: 2, holders: ['unit-1', 'unit-2'], waiting: ['unit-0', 'unit-3'] },
      run: { state: 'queued', tasks: [] },
      attempts: [],
      now: NOW,
    });
    assert.equal(result.run, "waiting for one of the DAG's 2 run slots (maxActiveRuns), held by unit-1 and unit-2; number 2 in line (oldest logical date first).");
  });

  it('a queued run waits for a worker on its task queue, and its tasks for the run', () => {
    const s = spec([task('a'), task('b', ['a'])], { taskQueue: 'etl' });
    const result = why(s, [], { state: 'queued' });
    assert.equal(
      result.run,
      'the run has not started a task yet: it waits for a worker polling task queue `etl` to pick it up. If it stays queued, is a worker polling `etl`?',
    );
    assert.doesNotMatch(result.run ?? '', /maxActiveRuns/, 'without the gate\'s answer, no claim about its slots');
    assert.deepEqual(result.tasks, [
      { taskId: 'a', state: 'pending', reason: 'has no upstream task: it starts once the run starts' },
      { taskId: 'b', state: 'pending', reason: 'waits for a (pending): trigger rule all_success runs it when every upstream task succeeded' },
    ]);
  });

  it('a run awaiting an operator says until when, and what the operator can do', () => {
    const s = spec([task('a'), task('b'), task('c', ['a'])]);
    const result = why(s, [status('a', 'failed'), status('b', 'failed'), status('c', 'upstream_failed')], {
      state: 'awaiting_operator',
      operatorDeadline: at(3600),
    });
    assert.equal(
      result.run,
      'waiting for an operator until 2026-11-30 05:00:00 (in 1 h 00 min): retry or mark successful the failed tasks (a and b), or fail the run. With no action by then, the run fails.',
    );
    assert.deepEqual(result.tasks, []);
  });

  it('a closed run has nothing waiting', () => {
    const s = spec([task('a'), task('b', ['a'])]);
    for (const state of ['success', 'failed'] as const) {
      assert.deepEqual(why(s, [status('a', 'failed'), status('b', 'pending')], { state }), { tasks: [] });
    }
  });
});

describe('queued tasks', () => {
  it('wait for a slot when the run has maxActiveTasks tasks running, retrying or poking', () => {
    const s = spec(
      [task('a'), task('b'), task('fan', [], { kind: 'map', map: { over: { task: 'a', path: [] } } }), task('wait', [], { kind: 'sensor' }), task('d')],
      { maxActiveTasks: 4 },
    );
    const result = why(
      s,
      [
        status('a', 'running', { attempts: 1 }),
        status('b', 'up_for_retry', { attempts: 1 }),
        status('fan', 'running', { attempts: 1, mapped: ['success', 'running', 'pending'] }),
        status('wait', 'running', { attempts: 1 }),
        status('d', 'queued'),
      ],
      { attempts: [attempt('a', 1, 'running', -5, null), attempt('b', 1, 'failed', -5, -1, 'boom'), attempt('wait', 1, 'success', -5, -4)] },
    );
    assert.equal(
      reasonOf(result, 'd'),
      'the run already has 4 of maxActiveTasks=4 tasks running (a, b (waiting to retry), fan[1] and wait (sensor)); it starts when one of them finishes',
    );
    assert.equal(reasonOf(result, 'fan'), 'maps over 3 elements: 1 succeeded, 1 running, 1 waiting for a slot (the run has 4 of maxActiveTasks=4 running)');
  });

  it('with a free slot start at the next step; a queued mapped task is sizing its list', () => {
    const s = spec([task('a'), task('fan', ['a'], { kind: 'map', map: { over: { task: 'a', path: ['files'] } } }), task('d')], { maxActiveTasks: 4 });
    const result = why(s, [status('a', 'success'), status('fan', 'queued'), status('d', 'queued')]);
    assert.equal(reasonOf(result, 'd'), "ready: it starts at the run's next step (0 of maxActiveTasks=4 in use)");
    assert.equal(reasonOf(result, 'fan'), 'reading the size of the list it maps over (the output of a); then its instances start, at most maxActiveTasks=4 at a time');
  });
});

describe('up_for_retry tasks', () => {
  it('say which attempt failed, with its error, and when the retry starts, by the retry policy', () => {
    const s = spec([task('load')]);
    const result = why(s, [status('load', 'up_for_retry', { attempts: 2 })], {
      attempts: [attempt('load', 1, 'failed', -60, -50, 'first'), attempt('load', 2, 'failed', -30, -5, 'ConnectionError: database is down\n    at stack')],
    });
    // Retry 2 waits initialIntervalMs * backoffCoefficient^1 = 20 s after attempt 2 ended.
    assert.deepEqual(result.tasks, [
      {
        taskId: 'load',
        state: 'up_for_retry',
        reason: 'attempt 2 failed (ConnectionError: database is down); retry 2 of 3 at 2026-11-30 04:00:15 (in 15.0 s)',
        until: at(15),
      },
    ]);
  });

  it('cap the backoff at maxIntervalMs, count retries again after an operator retry, and shorten long errors', () => {
    const s = spec([task('load')]);
    const fail = (n: number, t: number) => attempt('load', n, 'failed', t, t + 1, 'x'.repeat(300));
    const third = why(s, [status('load', 'up_for_retry', { attempts: 3 })], { attempts: [fail(1, -100), fail(2, -80), fail(3, -20)] });
    // Retry 3 would wait 40 s; the policy caps it at 30 s.
    assert.equal(third.tasks[0]?.until, at(-19 + 30));
    assert.match(third.tasks[0]?.reason ?? '', /^attempt 3 failed \(x{159}…\); retry 3 of 3 at /);
    // Four failures used up the policy; an operator's retry starts it over: attempt 5 is retry 1.
    const again = why(s, [status('load', 'up_for_retry', { attempts: 5 })], {
      attempts: [fail(1, -900), fail(2, -880), fail(3, -860), fail(4, -830), fail(5, -2)],
    });
    assert.equal(again.tasks[0]?.until, at(-1 + 10));
    assert.match(again.tasks[0]?.reason ?? '', /retry 1 of 3/);
    assert.equal(backoff({ retries: 5, initialIntervalMs: 1000, backoffCoefficient: 3, maxIntervalMs: 5000 }, 3), 5000);
  });

  it('say when an attempt was lost with its worker, and when a retry is overdue', () => {
    const s = spec([task('load')]);
    const lost = why(s, [status('load', 'up_for_retry', { attempts: 1 })], {
      attempts: [attempt('load', 1, 'failed', -40, -1, 'attempt lost: no heartbeat for 30s (its worker stopped or hung)')],
    });
    assert.equal(
      lost.tasks[0]?.reason,
      'attempt 1 was lost (attempt lost: no heartbeat for 30s (its worker stopped or hung)); the run starts it again at 2026-11-30 04:00:00 (due now), without using up a retry',
    );
    const overdue = why(s, [status('load', 'up_for_retry', { attempts: 1 })], { attempts: [attempt('load', 1, 'failed', -200, -190, 'boom')] });
    assert.match(overdue.tasks[0]?.reason ?? '', /retry 1 of 3 at 2026-11-30 03:57:00 \(overdue by 3 min 00 s: .*is a worker polling `sluice`\?\)$/);
  });

  it('say so when the failed attempt is not on record yet', () => {
    const result = why(spec([task('load')]), [status('load', 'up_for_retry', { attempts: 1 })]);
    assert.equal(result.tasks[0]?.until, undefined);
    assert.match(result.tasks[0]?.reason ?? '', /^attempt 1 failed; the run retries it after the wait its retry policy sets \(3 retries, first after 10.0 s\)/);
  });

  it('read only the latest execution of a rerun date', () => {
    const s = spec([task('load')]);
    const result = why(s, [status('load', 'up_for_retry', { attempts: 1 })], {
      attempts: [attempt('load', 1, 'failed', -9000, -8990, 'old'), attempt('load', 2, 'success', -8900, -8800), attempt('load', 1, 'failed', -10, -2, 'new')],
    });
    assert.match(result.tasks[0]?.reason ?? '', /^attempt 1 failed \(new\); retry 1 of 3 at 2026-11-30 04:00:08/);
  });
});

describe('running tasks', () => {
  const sensorSpec = spec([task('wait', [], { kind: 'sensor', sensor: { pokeIntervalMs: 300_000, timeoutMs: 3_600_000, softFail: false } })]);

  it('a sensor between pokes says when it poked, when it pokes next and when it gives up', () => {
    const result = why(sensorSpec, [status('wait', 'running', { attempts: 2 })], {
      attempts: [attempt('wait', 1, 'success', -600, -599), attempt('wait', 2, 'success', -120, -119)],
    });
    assert.deepEqual(result.tasks, [
      {
        taskId: 'wait',
        state: 'running',
        reason:
          'sensor waiting: last poke at 2026-11-30 03:58:01 found nothing; next poke at 2026-11-30 04:03:01 (in 3 min 01 s); gives up at 2026-11-30 04:50:00 (in 50 min 00 s)',
        until: at(181),
      },
    ]);
  });

  it('a sensor poking now, or one whose deadline the records cannot tell', () => {
    const poking = why(sensorSpec, [status('wait', 'running', { attempts: 2 })], {
      attempts: [attempt('wait', 1, 'success', -600, -599), attempt('wait', 2, 'running', -3, null)],
    });
    assert.equal(poking.tasks[0]?.reason, 'sensor poking now (poke 2 since 2026-11-30 03:59:57); gives up at 2026-11-30 04:50:00 (in 50 min 00 s)');
    const restarted = why(sensorSpec, [status('wait', 'running', { attempts: 9 })], {
      attempts: [attempt('wait', 1, 'success', -7200, -7199), attempt('wait', 9, 'success', -60, -59)],
    });
    assert.match(restarted.tasks[0]?.reason ?? '', /; gives up at an unknown time \(1 h 00 min after its first poke since it was last retried or cleared\)$/);
  });

  it('an attempt no worker has picked up asks whether a worker polls its task queue', () => {
    const s = spec([task('load', [], { taskQueue: 'heavy' }), task('quick')]);
    const result = why(s, [status('load', 'running', { attempts: 1, startedAt: at(-120) }), status('quick', 'running', { attempts: 1, startedAt: at(-2) })]);
    assert.deepEqual(result.tasks, [
      {
        taskId: 'load',
        state: 'running',
        reason: 'attempt 1 was handed to task queue `heavy` 2 min 00 s ago; no worker has picked it up yet — is a worker polling `heavy` (one that has activity load)?',
      },
    ]);
    // A retry is handed over when its backoff ends: 10 s after attempt 1 ended, 5 s ago.
    const retry = why(s, [status('load', 'running', { attempts: 2, startedAt: at(-300) })], { attempts: [attempt('load', 1, 'failed', -300, -15, 'boom')] });
    assert.deepEqual(retry.tasks.filter((t) => t.taskId === 'load'), [], 'within the grace period a worker has to record it');
  });

  it('a mapped task lists its instances still to run; finished and plain running tasks are not listed', () => {
    const s = spec([task('fan', [], { kind: 'map', map: { over: { task: 'x', path: [] } } }), task('ok'), task('skip'), task('busy')]);
    const result = why(s, [
      status('fan', 'running', { attempts: 4, mapped: ['success', 'failed', 'up_for_retry', 'pending', 'pending'] }),
      status('ok', 'success'),
      status('skip', 'skipped'),
      status('busy', 'running', { attempts: 1 }),
    ], { attempts: [attempt('busy', 1, 'running', -100, null)] });
    assert.deepEqual(result.tasks, [{ taskId: 'fan', state: 'running', reason: 'maps over 5 elements: 1 succeeded, 1 failed, 1 waiting to retry, 2 not started yet' }]);
    const done = why(s, [status('fan', 'running', { attempts: 2, mapped: ['success', 'running'] })]);
    assert.deepEqual(done.tasks.filter((t) => t.taskId === 'fan'), []);
  });
});
