/**
 * Schedules, scheduled runs, collisions, catch-up and backfills on the real dev server. These
 * tests run one after another: `syncSchedules` deletes every Sluice schedule it is not given.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { dag } from '../../dags/sdk';
import { backfillProgress, startBackfill } from '../../server/client/backfill';
import { startDagRun } from '../../server/client/start-run';
import { fireTimes } from '../../server/schedules/fire-times';
import { syncSchedules } from '../../server/schedules/sync';
import { backfillQueue, type BackfillProgress } from '../../workflows/backfill';
import { stateQuery } from '../../workflows/messages';
import { echo, loadDay, testTasks } from '../fixtures/tasks';
import { attemptCounts, compileOrThrow } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-scheduling';
let live: TestWorker;
let backfills: TestWorker;

before(async () => {
  live = await startTestWorker(testTasks, TQ);
  backfills = await startTestWorker(testTasks, backfillQueue(TQ));
});
after(async () => {
  await syncSchedules(live.client, []);
  await live?.stop();
  await backfills?.stop();
});

const daily = (dagId: string, label: string, extra: { timezone?: string; catchup?: boolean } = {}) =>
  compileOrThrow(
    dag(dagId, { taskQueue: TQ, schedule: '0 2 * * *', ...extra }, ({ task }) => {
      task(echo, { label });
    }),
    testTasks,
  );

async function waitUntil<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('schedules', () => {
  test('sync creates, updates and deletes schedules, and keeps an operator pause', async () => {
    const a = daily('sync_a', 'v1');
    const b = daily('sync_b', 'v1');
    assert.deepEqual((await syncSchedules(live.client, [a, b])).created, ['sync_a', 'sync_b']);
    assert.deepEqual((await syncSchedules(live.client, [a, b])).unchanged, ['sync_a', 'sync_b']);

    await live.client.schedule.getHandle('sync_b').pause('partner outage, ticket 42');
    const b2 = daily('sync_b', 'v2');
    const report = await syncSchedules(live.client, [a, b2]);
    assert.deepEqual(report.updated, ['sync_b']);
    const described = await live.client.schedule.getHandle('sync_b').describe();
    assert.equal(described.state.paused, true);
    assert.equal(described.state.note, 'partner outage, ticket 42');
    assert.equal((described.action.args?.[0] as { spec: { version: string } }).spec.version, b2.version);
    assert.deepEqual(described.spec.timezone, 'UTC');

    const deleted = await waitUntil(async () => {
      const r = await syncSchedules(live.client, [b2]);
      return r.deleted.includes('sync_a') ? r : undefined;
    }, 'sync_a to be listed and deleted');
    assert.deepEqual(deleted.deleted, ['sync_a']);
  });

  test('a scheduled fire runs with its logical date and data interval; a second fire of that date is a no-op', async () => {
    const spec = daily('scheduled_run', 'v1', { timezone: 'Europe/Berlin' });
    await syncSchedules(live.client, [spec]);
    const handle = live.client.schedule.getHandle('scheduled_run');
    await handle.pause('fired by the test only');
    // 02:00 in Berlin on 2026-06-10 (summer time) is 00:00 UTC.
    const fire = new Date('2026-06-10T00:00:00Z');
    await handle.backfill({ start: fire, end: new Date(fire.getTime() + 1000), overlap: 'ALLOW_ALL' });
    const runId = 'scheduled_run-2026-06-10T00:00:00Z';
    const first = live.client.workflow.getHandle(runId);
    await waitUntil(() => first.result().then((r) => r, () => undefined), 'the scheduled run');
    const status = await first.query(stateQuery);
    assert.equal(status.logicalDate, '2026-06-10T00:00:00.000Z');
    assert.equal(status.dataIntervalStart, '2026-06-09T00:00:00.000Z');
    assert.equal(status.dataIntervalEnd, '2026-06-10T00:00:00.000Z');

    // A manual trigger of the same date finds the run instead of starting another.
    const manual = await startDagRun(live.client, spec, { logicalDate: fire, params: {}, trigger: 'manual' });
    assert.equal(manual.started, false);
    assert.equal(manual.runId, runId);

    // The schedule fires that date again: Temporal starts a second execution, which does nothing.
    const firstExecution = (await first.describe()).runId;
    await handle.backfill({ start: fire, end: new Date(fire.getTime() + 1000), overlap: 'ALLOW_ALL' });
    const second = await waitUntil(async () => {
      const latest = await live.client.workflow.getHandle(runId).describe();
      return latest.runId !== firstExecution ? latest : undefined;
    }, 'the second execution');
    const result = await live.client.workflow.getHandle(runId, second.runId).result();
    assert.equal(result.state, 'duplicate');
    assert.equal(result.duplicateOf, firstExecution);
    const rows = await live.resources.warehouse.withSchema('sluice').table('dag_runs').where('run_id', runId);
    assert.equal(rows.length, 1, 'one run recorded for the date');
    assert.equal(rows[0].trigger, 'scheduled');
    assert.deepEqual(await attemptCounts(live.resources.warehouse, runId), { echo: 1 });
  });

  test('catch-up off runs only the latest missed interval, once; catch-up on buffers missed fires in order', async () => {
    const off = daily('catchup_off', 'v1');
    const on = daily('catchup_on', 'v1', { catchup: true });
    await syncSchedules(live.client, [off, on]);
    // Three days later, as if Sluice had been down: only the latest fire of catchup_off runs.
    const later = new Date(Date.now() + 3 * 86_400_000);
    const report = await syncSchedules(live.client, [off, on], later);
    const latest = fireTimes('0 2 * * *', 'UTC', new Date(later.getTime() - 86_400_000), later).at(-1) as Date;
    assert.deepEqual(report.caughtUp, [`catchup_off-${latest.toISOString().replace('.000Z', 'Z')}`]);
    assert.deepEqual((await syncSchedules(live.client, [off, on], later)).caughtUp, [], 'a second sync starts nothing');
    await live.client.workflow.getHandle(report.caughtUp[0] as string).result();

    const policies = (await live.client.schedule.getHandle('catchup_on').describe()).policies;
    assert.equal(policies.overlap, 'BUFFER_ALL');
    assert.equal(policies.catchupWindow, 365 * 86_400_000);
    const offPolicies = (await live.client.schedule.getHandle('catchup_off').describe()).policies;
    assert.equal(offPolicies.overlap, 'ALLOW_ALL');
    assert.equal(offPolicies.catchupWindow, 60_000);
  });
});

describe('backfill', () => {
  const dagId = 'backfilled';
  const fixKey = `test/backfill/${Date.now()}/fixed`;
  const spec = compileOrThrow(
    dag(dagId, { taskQueue: TQ, schedule: '0 0 * * *' }, ({ task, ctx }) => {
      task(loadDay, { logicalDate: ctx.logicalDate, brokenDays: [7, 14, 21, 28], fixKey });
    }),
    testTasks,
  );
  const dates = fireTimes('0 0 * * *', 'UTC', new Date('2025-01-01T00:00:00Z'), new Date('2025-01-30T00:00:00Z'));

  async function finished(backfillId: string): Promise<BackfillProgress> {
    return waitUntil(async () => {
      const p = await backfillProgress(live.client, backfillId);
      return p.state === 'done' ? p : undefined;
    }, backfillId, 120_000);
  }

  test('30 dates at concurrency 4 skip the dates that already succeeded, then reprocess only the failed ones', async () => {
    assert.equal(dates.length, 30);
    for (const day of [dates[0], dates[1], dates[2]] as Date[]) {
      await (await startDagRun(live.client, spec, { logicalDate: day, params: {}, trigger: 'manual' })).handle.result();
    }
    const first = await finished(await startBackfill(live.client, spec, { logicalDates: dates, concurrency: 4, reprocess: 'none', params: {} }));
    assert.deepEqual(first.counts, { pending: 0, running: 0, success: 23, failed: 4, skipped: 3 });
    assert.deepEqual(
      first.dates.filter((d) => d.outcome === 'failed').map((d) => d.logicalDate.slice(8, 10)),
      ['07', '14', '21', '28'],
    );

    const rows: Array<{ started_at: Date; ended_at: Date; trigger: string }> = await live.resources.warehouse
      .withSchema('sluice')
      .table('dag_runs')
      .where({ dag_id: dagId, trigger: 'backfill' });
    assert.equal(rows.length, 27);
    const overlap = Math.max(...rows.map((r) => rows.filter((o) => o.started_at <= r.started_at && o.ended_at > r.started_at).length));
    assert.ok(overlap <= 4, `at most 4 runs at once, saw ${overlap}`);

    await live.resources.s3.send(new PutObjectCommand({ Bucket: live.resources.bucket, Key: fixKey, Body: '' }));
    const retried = await finished(await startBackfill(live.client, spec, { logicalDates: dates, concurrency: 4, reprocess: 'failed', params: {} }));
    assert.deepEqual(retried.counts, { pending: 0, running: 0, success: 4, failed: 0, skipped: 26 });
    const counts = await Promise.all(dates.map((d) => attemptCounts(live.resources.warehouse, `${dagId}-${d.toISOString().replace('.000Z', 'Z')}`)));
    assert.deepEqual(counts.map((c) => c.loadDay), dates.map((d) => ([7, 14, 21, 28].includes(d.getUTCDate()) ? 2 : 1)));
  });

  test('pause holds new dates back, resume continues, cancel stops starting new ones', async () => {
    const more = fireTimes('0 0 * * *', 'UTC', new Date('2025-03-01T00:00:00Z'), new Date('2025-03-20T00:00:00Z'));
    const id = await startBackfill(live.client, spec, { logicalDates: more, concurrency: 1, reprocess: 'none', params: {} });
    const handle = live.client.workflow.getHandle(id);
    await handle.signal('pause');
    const paused = await waitUntil(async () => {
      const p = await backfillProgress(live.client, id);
      return p.state === 'paused' && p.counts.running === 0 ? p : undefined;
    }, 'the backfill to pause');
    await sleep(1500);
    const stillPaused = await backfillProgress(live.client, id);
    assert.equal(stillPaused.counts.success, paused.counts.success, 'no date started while paused');
    await handle.signal('resume');
    await waitUntil(async () => ((await backfillProgress(live.client, id)).counts.success > paused.counts.success ? true : undefined), 'progress after resume');
    await handle.signal('cancel');
    const done = await handle.result();
    assert.equal(done.state, 'cancelled');
    assert.ok(done.counts.pending > 0, 'cancel left dates unstarted');
  });
});
