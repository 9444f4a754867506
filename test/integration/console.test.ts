/**
 * The console's JSON API and pages over HTTP, in-process (the app is built apart from `listen`),
 * against the real stack: schedules (pause with a note, unpause preview), backfills (dry run,
 * start, progress, cancel), runs with several executions, 4xx answers for bad requests, and 503s
 * for questions only a worker answers while none runs (`console_orphan` is on a queue no worker
 * polls) and for a Temporal or a Postgres that went away (behind a proxy the test cuts). Run pages
 * of runs Temporal closed from outside, or whose workflow task keeps failing, still render.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import type { Express } from 'express';
import pino from 'pino';
import { dag } from '../../dags/sdk';
import { createKnex } from '../../infra/db/knex';
import { startDagRun } from '../../server/client/start-run';
import { createConsoleApp } from '../../server/console/app';
import { syncSchedules } from '../../server/schedules/sync';
import { backfillQueue, type BackfillProgress } from '../../workflows/backfill';
import { retryTaskSignal } from '../../workflows/messages';
import type { DagSpec } from '../../workflows/spec';
import { alwaysFail, echo, sleepFor, testTasks } from '../fixtures/tasks';
import { compileOrThrow, waitForStatus } from '../support/dag-runs';
import { testConfig } from '../support/env';
import { startTcpProxy } from '../support/tcp-proxy';
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
const failing = compileOrThrow(
  dag('console_failing', { taskQueue: TQ }, ({ task }) => {
    task(alwaysFail, { message: 'partner file is broken' });
  }),
  testTasks,
);
const slow = compileOrThrow(
  dag('console_slow', { taskQueue: TQ }, ({ task }) => {
    task(sleepFor, { ms: 5000 });
  }),
  testTasks,
);
/** Fires every 5 s, on the queue no worker polls: its schedule's own next fire times go stale while paused. */
const often = compileOrThrow(
  dag('console_often', { taskQueue: NO_WORKER_QUEUE, schedule: '*/5 * * * * *' }, ({ task, ctx }) => {
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
  const app = createConsoleApp({ temporal: live.client, db: live.resources.warehouse, token: TOKEN, logger: pino({ level: 'silent' }), dags: () => [spec, orphanSpec, often] });
  ({ server, origin } = await serve(app));
  base = `${origin}/api`;
});

async function serve(app: Express): Promise<{ server: Server; origin: string }> {
  const listening = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => listening.once('listening', resolve));
  return { server: listening, origin: `http://127.0.0.1:${(listening.address() as AddressInfo).port}` };
}
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

async function page(path: string, at = origin): Promise<{ status: number; text: string }> {
  const res = await fetch(`${at}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, text: await res.text() };
}

/** A request as a script might send it: Bearer token, and whatever headers and body the test gives. */
async function send(path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<{ status: number; error: unknown }> {
  const res = await fetch(`${origin}${path}`, { ...init, headers: { authorization: `Bearer ${TOKEN}`, ...init.headers } });
  const text = await res.text();
  return { status: res.status, error: (JSON.parse(text) as { error?: unknown }).error };
}

/** Polls until `check` returns a value (not undefined), for up to `ms`. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(250)) {
    const found = await check();
    if (found !== undefined) return found;
  }
  throw new Error(`timed out waiting for ${what}`);
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
        ['console_often', 'UTC', false],
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
    assert.match((await page(`/backfills/${id}`)).text, /backfill <b>done<\/b> · <progress[^>]*><\/progress> 5\/5 dates done \(5 succeeded, 0 failed, 0 skipped\) · 0 in flight/);
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
    const attemptsShown = [...shown.text.matchAll(/<div class="attempt" data-attempt="1"><b>attempt 1<\/b> <span class="badge state-success"[^\n]*/g)].map((m) => m[0]);
    assert.equal(attemptsShown.length, 2, 'both executions\' attempts');
    assert.match(attemptsShown[0] as string, /\(earlier execution, manual, started [^)]+\)/);
    assert.doesNotMatch(attemptsShown[1] as string, /earlier execution/);
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

describe('console status codes', () => {
  test('bad bodies are 4xx naming the problem: too large 413, unsupported charset or encoding 415, broken gzip or JSON 400', async () => {
    const fail = (body: string | Buffer, headers: Record<string, string>) => send('/api/runs/x-2025-01-01T00:00:00Z/fail', { method: 'POST', headers, body });
    const json = { 'content-type': 'application/json' };
    assert.deepEqual(await fail(JSON.stringify({ reason: 'x'.repeat(1024 * 1024) }), json), { status: 413, error: 'request body is larger than the limit of 64 KB' });
    assert.deepEqual(await fail('{}', { 'content-type': 'application/json; charset=latin1' }), { status: 415, error: 'unsupported charset "LATIN1"' });
    assert.deepEqual(await fail('{}', { ...json, 'content-encoding': 'x-sluice' }), { status: 415, error: 'unsupported content encoding "x-sluice"' });
    const broken = await fail('this is not gzip', { ...json, 'content-encoding': 'gzip' });
    assert.equal(broken.status, 400);
    assert.match(String(broken.error), /^request body does not decompress \(.+\)$/);
    assert.deepEqual(await fail(gzipSync('{"reason": '), { ...json, 'content-encoding': 'gzip' }), { status: 400, error: 'request body is not valid JSON' });
  });

  test('ids with NUL, control characters or invalid UTF-8 are 400s, in the API and the pages', async () => {
    const bad: Array<[string, RegExp]> = [
      ['/api/runs/run%00id', /^runId: must not contain control characters$/],
      ['/runs/run%00id', /^runId: must not contain control characters$/],
      ['/api/runs/run%ffid', /^Failed to decode param 'run%ffid'$/],
      ['/runs/%E0%A4%A', /^Failed to decode param/],
      ['/api/runs/r/tasks/t%07/attempts', /^taskId: must not contain control characters$/],
      [`/api/runs/${'r'.repeat(1001)}`, /^runId: is longer than 1,000 characters$/],
      ['/api/runs?dagId=%00', /^dagId: must not contain control characters$/],
      ['/api/backfills/b%00', /^backfillId: must not contain control characters$/],
      ['/backfills/b%0a', /^backfillId: must not contain control characters$/],
    ];
    for (const [path, message] of bad) {
      const res = await send(path);
      assert.equal(res.status, 400, `${path}: ${String(res.error)}`);
      assert.match(String(res.error), message, path);
    }
    const retry = await call('POST', '/runs/x-2025-01-01T00:00:00Z/retry', { taskId: 'load\u0000' });
    assert.deepEqual([retry.status, retry.json.error], [400, 'taskId: must not contain control characters']);
  });

  test('a backfill id is no run and a run id no backfill: 404, whatever the action', async () => {
    const started = await call('POST', '/backfills', { dagId: 'console_daily', from: '2025-06-01', to: '2025-06-01' });
    assert.equal(started.status, 202);
    const backfillId = started.json.backfillId as string;
    const run = await startDagRun(live.client, spec, { logicalDate: new Date('2025-06-02T02:30:00Z'), params: {}, trigger: 'manual' });
    await run.handle.result();
    const notRun = `no such run: ${backfillId}`;
    const notBackfill = `no such backfill: ${run.runId}`;
    const cases: Array<[string, string, string]> = [
      ['GET', `/runs/${backfillId}`, notRun],
      ['GET', `/runs/${backfillId}/tasks/echo/attempts`, ''],
      ['POST', `/runs/${backfillId}/retry`, notRun],
      ['POST', `/runs/${backfillId}/fail`, notRun],
      ['POST', `/runs/${backfillId}/clear`, notRun],
      ['GET', `/backfills/${run.runId}`, notBackfill],
      ['POST', `/backfills/${run.runId}/pause`, notBackfill],
      ['GET', '/runs/never_ran-2025-01-01T00:00:00Z', 'no such run: never_ran-2025-01-01T00:00:00Z'],
    ];
    for (const [method, path, error] of cases) {
      const body = path.endsWith('/clear') ? { taskId: 'echo' } : method === 'POST' ? {} : undefined;
      const res = await call(method, path, body);
      // Attempts come from Postgres, which has none for a backfill: an empty list, as for any id.
      if (error === '') assert.deepEqual([res.status, res.json.attempts], [200, []], path);
      else assert.deepEqual([res.status, res.json.error], [404, error], `${method} ${path}`);
    }
    assert.equal((await page(`/runs/${backfillId}`)).status, 404);
    assert.equal((await page(`/backfills/${run.runId}`)).status, 404);
  });

  test('while Temporal is unreachable every request that needs it is a 503 saying so, within seconds', async () => {
    const proxy = await startTcpProxy(testConfig().temporal.address);
    const connection = await Connection.connect({ address: proxy.address });
    const temporal = new Client({ connection, namespace: testConfig().temporal.namespace });
    const cut = await serve(createConsoleApp({ temporal, db: live.resources.warehouse, token: TOKEN, logger: pino({ level: 'silent' }), dags: () => [spec] }));
    try {
      assert.equal((await page('/schedules', cut.origin)).status, 200, 'through the proxy while it is up');
      await proxy.cut();
      const t0 = Date.now();
      const paths = ['/api/runs/console_daily-2025-03-01T03:30:00Z', '/runs/console_daily-2025-03-01T03:30:00Z', '/schedules', '/api/schedules', '/api/backfills/b-1'];
      const answers = await Promise.all([
        ...paths.map(async (path) => ({ path, ...(await page(path, cut.origin)) })),
        (async () => {
          const res = await fetch(`${cut.origin}/api/runs/console_daily-2025-03-01T03:30:00Z/retry`, {
            method: 'POST',
            headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
            body: '{}',
          });
          return { path: 'POST retry', status: res.status, text: await res.text() };
        })(),
      ]);
      for (const { path, status, text } of answers) {
        assert.equal(status, 503, `${path}: ${text}`);
        assert.match(JSON.parse(text).error as string, /^(cannot reach Temporal \(.+\)|Temporal did not answer in time); is it running, and is TEMPORAL_ADDRESS right\?$/, path);
      }
      assert.ok(Date.now() - t0 < 15_000, `answered after ${Date.now() - t0} ms`);
    } finally {
      await new Promise((resolve) => cut.server.close(resolve));
      await connection.close();
    }
  });

  test('while Postgres is unreachable the run list, the run page and attempts are 503s saying so', async () => {
    const proxy = await startTcpProxy(new URL(testConfig().postgres.databaseUrl).host);
    const url = new URL(testConfig().postgres.databaseUrl);
    url.host = proxy.address;
    const db = createKnex(url.toString(), { maxConnections: 2 });
    const cut = await serve(createConsoleApp({ temporal: live.client, db, token: TOKEN, logger: pino({ level: 'silent' }), dags: () => [spec] }));
    try {
      assert.equal((await page('/api/runs', cut.origin)).status, 200, 'through the proxy while it is up');
      await proxy.cut();
      for (const path of ['/api/runs', '/', '/api/runs/console_daily-2025-04-01T02:30:00Z', '/runs/console_daily-2025-04-01T02:30:00Z', '/api/runs/x/tasks/echo/attempts']) {
        const res = await page(path, cut.origin);
        assert.equal(res.status, 503, `${path}: ${res.text}`);
        assert.match(JSON.parse(res.text).error as string, /^cannot reach Postgres \(.+\); is it running, and is DATABASE_URL right\?$/, path);
      }
    } finally {
      await new Promise((resolve) => cut.server.close(resolve));
      await db.destroy();
    }
  });

  test('impossible and empty dates are refused for a backfill, as in the CLI', async () => {
    for (const [from, message] of [
      ['2026-02-30', "from: invalid date '2026-02-30': no such day"],
      ['2026-02-30T03:30:00Z', "from: invalid date '2026-02-30': no such day"],
      ['', "from: invalid date '': use YYYY-MM-DD (that day's fire time) or an instant with its zone, such as 2026-11-21T01:00:00Z"],
    ]) {
      const res = await call('POST', '/backfills', { dagId: 'console_daily', from, to: '2026-03-02', dryRun: true });
      assert.deepEqual([res.status, res.json.error], [400, message]);
    }
  });

  test("the unpause preview's next fire is after now, though a paused schedule's own next times go stale", async () => {
    await syncSchedules(live.client, [spec, often]);
    try {
      await call('POST', '/schedules/console_often/pause', { note: 'probe' });
      await sleep(6000);
      const preview = await call('GET', '/schedules/console_often/unpause-preview');
      assert.equal(preview.status, 200);
      const next = Date.parse(preview.json.nextFire as string);
      assert.ok(next > Date.now() - 1000 && next <= Date.now() + 5000, `next fire ${String(preview.json.nextFire)}`);
    } finally {
      await syncSchedules(live.client, [spec]);
      for await (const w of live.client.workflow.list({ query: `DagId = 'console_often'` })) orphans.push(w.workflowId);
    }
  });
});

describe('console run pages of runs that cannot say how they ended', () => {
  test('a wedged run (its workflow task keeps failing) renders from what Temporal and Postgres know; actions are 409s, not 500s', async () => {
    // Temporal refuses activity ids over 1,000 characters, so this run's workflow task fails on
    // every attempt. `dags validate` now refuses such ids, but nothing else can stop such a run.
    const wedged: DagSpec = { ...spec, dagId: 'console_wedged', tasks: spec.tasks.map((t) => ({ ...t, id: 'w'.repeat(1100) })) };
    const run = await startDagRun(live.client, wedged, { logicalDate: new Date('2025-05-01T00:00:00Z'), params: {}, trigger: 'manual' });
    orphans.push(run.runId);
    const shown = await eventually('the run page of the wedged run', async () => {
      const res = await call('GET', `/runs/${run.runId}`);
      return typeof res.json.note === 'string' ? res : undefined;
    });
    assert.equal(shown.status, 200);
    // The state is the DagRunState search attribute, as far as the run got to set it.
    assert.deepEqual([shown.json.dagId, shown.json.temporalStatus], ['console_wedged', 'RUNNING']);
    assert.match(shown.json.state as string, /^(queued|running)$/);
    assert.match(shown.json.note as string, /^the run's state query cannot answer \(Temporal refused: .*Workflow Task in failed state.*\); task states are their last recorded attempts$/);
    const html = await page(`/runs/${run.runId}`);
    assert.equal(html.status, 200);
    assert.match(html.text, /<div><span>state<\/span><span class="badge state-(queued|running)"/);
    assert.match(html.text, /the run&#39;s state query cannot answer/);

    const fail = await call('POST', `/runs/${run.runId}/fail`, { reason: 'wedged' });
    assert.equal(fail.status, 409);
    assert.match(fail.json.error as string, /^Temporal refused: .*Workflow Task in failed state.* The run's workflow task keeps failing/);

    await run.handle.terminate('wedged');
    const closed = await call('GET', `/runs/${run.runId}`);
    assert.deepEqual([closed.status, closed.json.state, closed.json.temporalStatus], [200, 'failed', 'TERMINATED']);
    assert.equal((await page(`/runs/${run.runId}`)).status, 200);
  });

  test('a terminated run awaiting an operator shows as failed, with how it ended, and the Signals it ignored', async () => {
    const run = await startDagRun(live.client, failing, { logicalDate: new Date('2025-05-02T00:00:00Z'), params: {}, trigger: 'manual' });
    orphans.push(run.runId);
    await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator');
    await run.handle.signal(retryTaskSignal, { taskId: 'no_such_task' });
    const warned = await eventually('the ignored Signal on the run page', async () => {
      const res = await page(`/runs/${run.runId}`);
      return res.text.includes('class="warnings"') ? res.text : undefined;
    });
    assert.match(warned, /<div class="warnings"><b>Operator messages the run ignored:<\/b><ul><li>[^<]+: [^<]*no_such_task[^<]*<\/li><\/ul><\/div>/);
    assert.ok(warned.indexOf('class="warnings"') < warned.indexOf('<table id="tasks"'), 'above the task table');

    await run.handle.terminate('an operator gave up in the Temporal UI');
    const closed = await call('GET', `/runs/${run.runId}`);
    assert.deepEqual([closed.status, closed.json.state, closed.json.temporalStatus], [200, 'failed', 'TERMINATED']);
    assert.match(closed.json.note as string, /^Temporal closed this run \(terminated\) at \S+; task states are what the run last recorded$/);
    const html = await page(`/runs/${run.runId}`);
    assert.equal(html.status, 200);
    assert.match(html.text, /<div><span>state<\/span><span class="badge state-failed"/);
    assert.doesNotMatch(html.text, /Waiting for an operator|retry all failed|>mark success</i, 'a closed run offers no operator actions');
  });

  test('a run that timed out in Temporal shows as failed', async () => {
    const handle = await live.client.workflow.start('dagRun', {
      workflowId: 'console_slow-2025-05-03T00:00:00Z',
      taskQueue: TQ,
      args: [{ spec: slow, logicalDate: '2025-05-03T00:00:00Z', params: {}, trigger: 'manual' }],
      workflowExecutionTimeout: '1s',
    });
    await assert.rejects(handle.result());
    const shown = await call('GET', `/runs/${handle.workflowId}`);
    assert.deepEqual([shown.status, shown.json.state, shown.json.temporalStatus], [200, 'failed', 'TIMED_OUT']);
    assert.match(shown.json.note as string, /^Temporal closed this run \(timed out\) at /);
    assert.equal((await page(`/runs/${handle.workflowId}`)).status, 200);
  });
});
