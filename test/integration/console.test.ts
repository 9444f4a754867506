/**
 * The console's JSON API and pages over HTTP, in-process (the app is built apart from `listen`),
 * against the real stack: schedules (pause with a note, unpause preview), backfills (dry run,
 * start, progress, cancel), runs with several executions, 4xx answers for bad requests, and 503s
 * for questions only a worker answers while none runs (`console_orphan` is on a queue no worker
 * polls).
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { dag } from '../../dags/sdk';
import { startDagRun } from '../../server/client/start-run';
import { createConsoleApp } from '../../server/console/app';
import { syncSchedules } from '../../server/schedules/sync';
import { backfillQueue, type BackfillProgress } from '../../workflows/backfill';
import { echo, testTasks } from '../fixtures/tasks';
import { compileOrThrow } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-console';
const NO_WORKER_QUEUE = 'test-console-nobody';
const TOKEN = 'console-test-token';
const spec = compileOrThrow(
  dag('console_daily', { taskQueue: TQ, schedule: '30 4 * * *', timezone: 'Europe/Berlin' }, ({ task, ctx }) => {
    task(echo, { label: ctx.logicalDate });
  }),
  testTasks,
);
const orphanSpec = compileOrThrow(
  dag('console_orphan', { taskQueue: NO_WORKER_QUEUE, schedule: '0 1 * * *' }, ({ task, ctx }) => {
    task(echo, { label: ctx.logicalDate });
  }),
  testTasks,
);
const orphans: string[] = [];
let live: TestWorker;
let backfills: TestWorker;
let server: Server;
let origin: string;
let base: string;

before(async () => {
  live = await startTestWorker(testTasks, TQ);
  backfills = await startTestWorker(testTasks, backfillQueue(TQ));
  await syncSchedules(live.client, [spec]);
  const app = createConsoleApp({ temporal: live.client, db: live.resources.warehouse, token: TOKEN, logger: pino({ level: 'silent' }), dags: () => [spec, orphanSpec] });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = `${origin}/api`;
});
after(async () => {
  await new Promise((resolve) => server?.close(resolve));
  for (const id of orphans) await live.client.workflow.getHandle(id).terminate('end of test').catch(() => undefined);
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

async function page(path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, text: await res.text() };
}

describe('console API', () => {
  test('schedules: list, pause with a note, preview and unpause', async () => {
    const listed = await call('GET', '/schedules');
    assert.equal(listed.status, 200);
    assert.deepEqual(
      (listed.json.schedules as Array<{ dagId: string; timezone: string; exists: boolean }>).map((s) => [s.dagId, s.timezone, s.exists]),
      [
        ['console_daily', 'Europe/Berlin', true],
        ['console_orphan', 'UTC', false],
      ],
    );
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
    assert.deepEqual(
      (dry.json.dates as Array<{ logicalDate: string }>).map((d) => d.logicalDate),
      ['01', '02', '03', '04', '05'].map((day) => `2025-03-${day}T03:30:00Z`),
      'bare dates are whole Berlin days, the last one included, as in the CLI',
    );
    const bad = await call('POST', '/backfills', { dagId: 'console_daily', from: '2025-03-05', to: '2025-03-01' });
    assert.deepEqual([bad.status, bad.json.error], [400, 'from 2025-03-05 is after to 2025-03-01']);
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
    assert.deepEqual(progress.counts, { pending: 0, running: 0, success: 5, failed: 0, skipped: 0 });
    const again = await call('POST', '/backfills', { dagId: 'console_daily', from: '2025-03-01', to: '2025-03-05' });
    assert.equal(again.status, 202, 'the same range may run again once the first backfill closed');
    assert.deepEqual([id, again.json.backfillId], [1, 2].map((n) => `backfill-console_daily-2025-03-01T03:30:00Z-2025-03-05T03:30:00Z-${n}`));
    const first = (await call('GET', `/backfills/${id}`)).json as unknown as BackfillProgress;
    assert.equal(first.counts.success, 5, "the first backfill's status stays its own");
    assert.match((await page(`/backfills/${id}`)).text, /backfill done · <progress[^>]*><\/progress> 5\/5 dates done \(5 succeeded, 0 failed, 0 skipped\) · 0 in flight/);
  });

  test('a run page and its attempts show every execution, older ones labelled', async () => {
    const logicalDate = new Date('2025-04-01T02:30:00Z');
    await (await startDagRun(live.client, spec, { logicalDate, params: {}, trigger: 'manual' })).handle.result();
    const rerun = await startDagRun(live.client, spec, { logicalDate, params: {}, trigger: 'manual', rerun: true });
    await rerun.handle.result();
    const attempts = (await call('GET', `/runs/${rerun.runId}/tasks/echo/attempts`)).json.attempts as Array<{ execution: { temporalRunId: string; trigger: string } }>;
    assert.equal(new Set(attempts.map((a) => a.execution.temporalRunId)).size, 2, 'one attempt in each of two executions');
    const shown = await page(`/runs/${rerun.runId}`);
    assert.equal(shown.status, 200);
    assert.match(shown.text, /\[earlier execution, manual, started [^\]]+\] attempt 1 success/);
    assert.equal(shown.text.match(/attempt 1 success/g)?.length, 2);
  });

  test('without a worker, run and backfill state answer 503 at once; a running backfill is not copied', async () => {
    const run = await startDagRun(live.client, orphanSpec, { logicalDate: new Date('2025-03-01T01:00:00Z'), params: {}, trigger: 'manual' });
    orphans.push(run.runId);
    const started = await call('POST', '/backfills', { dagId: 'console_orphan', from: '2025-03-01', to: '2025-03-02' });
    assert.equal(started.status, 202);
    const backfillId = started.json.backfillId as string;
    orphans.push(backfillId);
    const copy = await call('POST', '/backfills', { dagId: 'console_orphan', from: '2025-03-01', to: '2025-03-02' });
    assert.deepEqual([copy.status, copy.json.error], [409, `a backfill of this range is already running: ${backfillId}`]);

    const message = `no worker is polling task queue '${NO_WORKER_QUEUE}': start \`sluice up\` (or \`sluice worker\`)`;
    for (const path of [`/api/runs/${run.runId}`, `/runs/${run.runId}`, `/api/backfills/${backfillId}`, `/backfills/${backfillId}`]) {
      const t0 = Date.now();
      const res = await page(path);
      assert.deepEqual([res.status, JSON.parse(res.text).error], [503, message], path);
      assert.ok(Date.now() - t0 < 3000, `${path} took ${Date.now() - t0} ms`);
    }
  });
});
