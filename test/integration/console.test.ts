/**
 * The console's JSON API over HTTP, in-process (the app is built apart from `listen`), against
 * the real stack: schedules (pause with a note, unpause preview), backfills (dry run, start,
 * progress, cancel) and 4xx answers for bad requests.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { dag } from '../../dags/sdk';
import { createConsoleApp } from '../../server/console/app';
import { syncSchedules } from '../../server/schedules/sync';
import { backfillQueue, type BackfillProgress } from '../../workflows/backfill';
import { echo, testTasks } from '../fixtures/tasks';
import { compileOrThrow } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-console';
const TOKEN = 'console-test-token';
const spec = compileOrThrow(
  dag('console_daily', { taskQueue: TQ, schedule: '30 4 * * *', timezone: 'Europe/Berlin' }, ({ task, ctx }) => {
    task(echo, { label: ctx.logicalDate });
  }),
  testTasks,
);
let live: TestWorker;
let backfills: TestWorker;
let server: Server;
let base: string;

before(async () => {
  live = await startTestWorker(testTasks, TQ);
  backfills = await startTestWorker(testTasks, backfillQueue(TQ));
  await syncSchedules(live.client, [spec]);
  const app = createConsoleApp({ temporal: live.client, db: live.resources.warehouse, token: TOKEN, logger: pino({ level: 'silent' }), dags: () => [spec] });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});
after(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await syncSchedules(live.client, []);
  await live?.stop();
  await backfills?.stop();
});

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('console API', () => {
  test('schedules: list, pause with a note, preview and unpause', async () => {
    const listed = await call('GET', '/schedules');
    assert.equal(listed.status, 200);
    assert.deepEqual((listed.json.schedules as Array<{ dagId: string; timezone: string }>).map((s) => [s.dagId, s.timezone]), [['console_daily', 'Europe/Berlin']]);
    const paused = await call('POST', '/schedules/console_daily/pause', { note: 'upstream late' });
    assert.deepEqual([paused.json.paused, paused.json.note], [true, 'upstream late']);
    const preview = await call('GET', '/schedules/console_daily/unpause-preview');
    assert.equal(preview.json.runsStartedNow, 0);
    const unpaused = await call('POST', '/schedules/console_daily/unpause', {});
    assert.equal(unpaused.json.paused, false);
    assert.equal((await call('POST', '/schedules/nope/pause', {})).status, 404);
    assert.equal((await call('POST', '/schedules/console_daily/pause', { note: 5 })).status, 400);
  });

  test('backfills: dry run, start, progress and cancel; bad ranges are 400s', async () => {
    const dry = await call('POST', '/backfills', { dagId: 'console_daily', from: '2025-03-01', to: '2025-03-05', dryRun: true });
    assert.equal(dry.status, 200);
    assert.equal((dry.json.dates as unknown[]).length, 4, 'four 04:30 Berlin fire times lie between 03-01T00:00Z and 03-05T00:00Z');
    const bad = await call('POST', '/backfills', { dagId: 'console_daily', from: '2025-03-05', to: '2025-03-01' });
    assert.deepEqual([bad.status, bad.json.error], [400, 'from is after to']);
    assert.equal((await call('POST', '/backfills', { dagId: 'console_daily', from: 'soon', to: '2025-03-01' })).status, 400);

    const started = await call('POST', '/backfills', { dagId: 'console_daily', from: '2025-03-01', to: '2025-03-05', concurrency: 2 });
    assert.equal(started.status, 202);
    const id = started.json.backfillId as string;
    let progress: BackfillProgress;
    const deadline = Date.now() + 60_000;
    do {
      assert.ok(Date.now() < deadline, 'backfill finished within a minute');
      await sleep(250);
      progress = (await call('GET', `/backfills/${id}`)).json as unknown as BackfillProgress;
    } while (progress.state !== 'done');
    assert.deepEqual(progress.counts, { pending: 0, running: 0, success: 4, failed: 0, skipped: 0 });
    const again = await call('POST', '/backfills', { dagId: 'console_daily', from: '2025-03-01', to: '2025-03-05' });
    assert.equal(again.status, 202, 'the same range may run again once the first backfill closed');
  });
});
