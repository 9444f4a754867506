/**
 * The console's DAG, grid, trigger, run and backfill endpoints over HTTP against the real stack,
 * and the rules every one of them keeps: 401 without the token, 403 for a cookie write without
 * the CSRF token, 400 naming the bad field, 404 for an unknown DAG or run, strict security
 * headers, and data from DAG authors or failing tasks (HTML, quotes) shown as text, never markup.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { z } from 'zod';
import { dag } from '../../dags/sdk';
import { startDagRun } from '../../server/client/start-run';
import { createConsoleApp } from '../../server/console/app';
import { syncSchedules } from '../../server/schedules/sync';
import { backfillQueue } from '../../workflows/backfill';
import { alwaysFail, echo, testTasks } from '../fixtures/tasks';
import { compileOrThrow, waitForStatus } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-console-api';
const TOKEN = 'console-api-test-token';
const HOSTILE = `<script>alert("x")</script><img src=x onerror=alert('y')>`;

const withParams = compileOrThrow(
  dag(
    'api_params',
    {
      taskQueue: TQ,
      schedule: '0 3 * * *',
      description: `Loads orders ${HOSTILE}`,
      params: z.object({
        region: z.enum(['North', 'South']).default('North'),
        limit: z.number().int().min(1).max(10).default(5).describe(`rows ${HOSTILE}`),
      }),
    },
    ({ task, ctx }) => {
      task(echo, { label: ctx.logicalDate });
    },
  ),
  testTasks,
);
const failing = compileOrThrow(
  dag('api_failing', { taskQueue: TQ, retries: 0 }, ({ task }) => {
    const first = task(echo, { label: 'fine' }, { id: 'first' });
    task(alwaysFail, { message: `partner file broke ${HOSTILE}` }, { id: 'breaks' }).after(first);
  }),
  testTasks,
);

let worker: TestWorker;
let backfills: TestWorker;
let server: Server;
let origin: string;
const started: string[] = [];

before(async () => {
  worker = await startTestWorker(testTasks, TQ);
  backfills = await startTestWorker(testTasks, backfillQueue(TQ));
  await syncSchedules(worker.client, [withParams]);
  const app = createConsoleApp({ temporal: worker.client, db: worker.resources.warehouse, token: TOKEN, logger: pino({ level: 'silent' }), dags: () => [withParams, failing] });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => server?.close(resolve));
  for (const id of started) await worker.client.workflow.getHandle(id).terminate('end of test').catch(() => undefined);
  await syncSchedules(worker.client, []);
  await worker?.stop();
  await backfills?.stop();
});

type Answer = { status: number; headers: Headers; text: string; json: () => Record<string, unknown> };

async function request(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string>; token?: boolean } = {}): Promise<Answer> {
  const res = await fetch(`${origin}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.token === false ? {} : { authorization: `Bearer ${TOKEN}` }),
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

/** A browser session: the login cookie and the page's CSRF token. */
async function browserSession(): Promise<{ cookie: string; csrf: string }> {
  const login = await fetch(`${origin}/?token=${TOKEN}`, { redirect: 'manual' });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
  const home = await (await fetch(`${origin}/`, { headers: { cookie, accept: 'text/html' } })).text();
  const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(home)?.[1];
  assert.ok(csrf, 'the page carries a CSRF token');
  return { cookie, csrf };
}

async function failedRun(): Promise<string> {
  const run = await startDagRun(worker.client, failing, { logicalDate: new Date('2025-06-01T00:00:00Z'), params: {}, trigger: 'manual', rerun: true });
  started.push(run.runId);
  await waitForStatus(worker.client.workflow.getHandle(run.runId), (s) => s.state === 'awaiting_operator');
  return run.runId;
}

describe('console: DAGs, grid, trigger, runs and backfills', () => {
  test('the DAG list: every DAG with schedule, version, pause state and recent runs, as JSON and as a page', async () => {
    const listed = await request('/api/dags');
    assert.equal(listed.status, 200, listed.text);
    const dags = listed.json().dags as Array<Record<string, unknown>>;
    assert.deepEqual(dags.map((d) => d.dagId), ['api_params', 'api_failing']);
    const params = dags[0] as Record<string, unknown>;
    assert.deepEqual(params.schedule, { cron: '0 3 * * *', timezone: 'UTC' });
    assert.equal(params.paused, false);
    assert.equal(params.version, withParams.version);
    assert.equal(params.takesParams, true);
    assert.equal(typeof params.nextRun, 'string');

    const html = await request('/', { headers: { accept: 'text/html' } });
    assert.equal(html.status, 200);
    assert.match(html.text, /<table id="dags"/);
    assert.match(html.text, /<tr data-dag="api_params">/);
    assert.match(html.text, /data-post="\/api\/schedules\/api_params\/pause"/);
  });

  test('trigger: a bad param is a 400 naming the field; a good one starts the run, which the grid then shows', async () => {
    const bad = await request('/api/dags/api_params/trigger', { method: 'POST', body: { params: { limit: 50, region: 'Nowhere' } } });
    assert.equal(bad.status, 400);
    const fields = bad.json().fields as Record<string, string>;
    assert.deepEqual(Object.keys(fields).sort(), ['limit', 'region']);
    assert.match(fields.limit as string, /10/);

    const badDate = await request('/api/dags/api_params/trigger', { method: 'POST', body: { logicalDate: '2025-13-45', params: { limit: 1 } } });
    assert.equal(badDate.status, 400);
    assert.ok((badDate.json().fields as Record<string, string>).logicalDate);

    const unknownKey = await request('/api/dags/api_params/trigger', { method: 'POST', body: { params: { limit: 1 }, extra: 1 } });
    assert.equal(unknownKey.status, 400);

    const ok = await request('/api/dags/api_params/trigger', { method: 'POST', body: { logicalDate: '2025-05-04', params: { limit: 3 } } });
    assert.equal(ok.status, 201, ok.text);
    const outcome = ok.json();
    started.push(outcome.runId as string);
    assert.equal(outcome.runId, 'api_params-2025-05-04T03:00:00Z');
    assert.equal(outcome.location, '/dags/api_params/grid');
    await waitForStatus(worker.client.workflow.getHandle(outcome.runId as string), (s) => s.state === 'success');

    // Triggering the same date again starts nothing.
    const again = await request('/api/dags/api_params/trigger', { method: 'POST', body: { logicalDate: '2025-05-04', params: { limit: 3 } } });
    assert.equal(again.status, 200);
    assert.equal(again.json().started, false);

    // The grid: the run as a column, its task as a cell, from recorded history.
    let grid: Record<string, unknown> = {};
    for (let i = 0; i < 40; i++) {
      grid = (await request('/api/dags/api_params/grid')).json();
      const runs = grid.runs as Array<{ runId: string; state: string; cells: Record<string, { state: string }> }>;
      if (runs[0]?.state === 'success' && runs[0].cells.echo?.state === 'success') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const runs = grid.runs as Array<{ runId: string; state: string; cells: Record<string, { state: string; attempts: number }> }>;
    assert.equal(runs[0]?.runId, 'api_params-2025-05-04T03:00:00Z');
    assert.deepEqual(runs[0]?.cells.echo, { ...runs[0]?.cells.echo, state: 'success', attempts: 1 });
    assert.deepEqual(grid.tasks, ['echo']);

    const filtered = (await request('/api/dags/api_params/grid?state=failed')).json();
    assert.deepEqual(filtered.runs, []);
    const ranged = (await request('/api/dags/api_params/grid?from=2025-05-05')).json();
    assert.deepEqual(ranged.runs, []);
    const badFilter = await request('/api/dags/api_params/grid?from=yesterday&state=done');
    assert.equal(badFilter.status, 400);
    assert.deepEqual(Object.keys(badFilter.json().fields as object).sort(), ['from', 'state']);

    const page = await request('/dags/api_params/grid', { headers: { accept: 'text/html' } });
    assert.match(page.text, /<td class="cell" data-run="api_params-2025-05-04T03:00:00Z" data-task="echo" data-state="success">/);
  });

  test('the trigger form is generated from the params schema, and its own endpoint answers per field', async () => {
    const form = await request('/dags/api_params/trigger', { headers: { accept: 'text/html' } });
    assert.equal(form.status, 200);
    assert.match(form.text, /<form id="trigger"/);
    assert.match(form.text, /<select[^>]*name="region"/);
    assert.match(form.text, /<input[^>]*name="limit"[^>]*(min="1"[^>]*max="10"|max="10"[^>]*min="1")/);
    const bad = await request('/dags/api_params/trigger', { method: 'POST', body: { limit: 0 } });
    assert.equal(bad.status, 400);
    assert.ok((bad.json().fields as Record<string, string>).limit);
  });

  test('a run page: graph, timeline, the failed task with its error and the operator buttons; rerun of a closed run', async () => {
    const runId = await failedRun();
    // The home page puts it first, under "Needs attention".
    const home = await request('/', { headers: { accept: 'text/html' } });
    assert.match(home.text, new RegExp(`<section id="attention"[^]*<li data-run="${runId}"><span class="badge state-awaiting_operator"`));
    const page = await request(`/runs/${runId}`, { headers: { accept: 'text/html' } });
    assert.equal(page.status, 200);
    assert.match(page.text, /<figure id="graph" class="wide"><svg/);
    assert.match(page.text, /<g class="node"[^>]*data-task="breaks"[^>]*data-state="failed"/);
    assert.match(page.text, /<figure id="gantt" class="wide"><svg/);
    assert.match(page.text, /<tr id="task-breaks" data-task="breaks" data-state="failed">/);
    assert.match(page.text, /data-post="\/api\/runs\/[^"]+\/retry" data-body="\{&#34;taskId&#34;:&#34;breaks&#34;\}"/);
    assert.match(page.text, /<section id="why"/, 'an open run says why it waits');
    assert.match(page.text, /waiting for an operator/i);

    // Closed: no operator buttons, but "rerun this date".
    const failedNow = await request(`/api/runs/${runId}/fail`, { method: 'POST', body: { reason: 'test' } });
    assert.equal(failedNow.status, 200, failedNow.text);
    await waitForStatus(worker.client.workflow.getHandle(runId), (s) => s.state === 'failed');
    for (let i = 0; i < 40 && !(await request(`/api/runs?dagId=api_failing&state=failed`)).text.includes(runId); i++) await new Promise((r) => setTimeout(r, 250));
    // The run is on record as failed a moment before its workflow has closed: until then, a 409.
    let rerun = await request(`/api/runs/${runId}/rerun`, { method: 'POST', body: {} });
    for (let i = 0; i < 100 && rerun.status === 409; i++) {
      assert.match(rerun.json().error as string, /still finishing/);
      await new Promise((r) => setTimeout(r, 200));
      rerun = await request(`/api/runs/${runId}/rerun`, { method: 'POST', body: {} });
    }
    assert.equal(rerun.status, 202, rerun.text);
    assert.equal(rerun.json().location, `/runs/${encodeURIComponent(runId)}`);
    await waitForStatus(worker.client.workflow.getHandle(runId), (s) => s.state === 'awaiting_operator');
    const openAgain = await request(`/api/runs/${runId}/rerun`, { method: 'POST', body: {} });
    assert.equal(openAgain.status, 409, 'a run in flight is not re-run');
  });

  test('a backfill preview lists every date and what will happen to it; nothing starts', async () => {
    const preview = await request('/backfills/preview', { method: 'POST', body: { dagId: 'api_params', from: '2025-05-03', to: '2025-05-05', dryRun: true } });
    assert.equal(preview.status, 200, preview.text);
    const html = preview.json().html as string;
    assert.equal([...html.matchAll(/<tr data-date="/g)].length, 3);
    assert.match(html, /data-date="2025-05-04T03:00:00Z" data-action="skip_succeeded"/);
    assert.match(html, /data-date="2025-05-03T03:00:00Z" data-action="run"/);
    const bad = await request('/backfills/preview', { method: 'POST', body: { dagId: 'api_params', from: '2025-05-05', to: 'soon' } });
    assert.equal(bad.status, 400);
    assert.ok((bad.json().fields as Record<string, string>).to);
    const form = await request('/backfills/new?dagId=api_params', { headers: { accept: 'text/html' } });
    assert.match(form.text, /<form id="backfill"/);
  });

  test('every page and API answers; unknown DAGs and runs are 404s, as JSON for scripts and as a page for people', async () => {
    for (const path of ['/', '/runs', '/backfills', '/backfills/new', '/schedules', '/dags/api_params/grid', '/dags/api_params/trigger', '/metrics']) {
      const res = await request(path, { headers: { accept: 'text/html' } });
      assert.equal(res.status, 200, `${path}: ${res.text.slice(0, 300)}`);
    }
    for (const path of ['/api/dags/nope', '/api/dags/nope/grid', '/api/runs/nope-2025-01-01T00:00:00Z']) {
      const res = await request(path);
      assert.equal(res.status, 404, path);
      assert.match(res.json().error as string, /nope/);
    }
    const oddFilter = await request(`/backfills?dagId=${encodeURIComponent("x' OR 1=1")}`);
    assert.equal(oddFilter.status, 404, oddFilter.text);
    const trigger = await request('/api/dags/nope/trigger', { method: 'POST', body: {} });
    assert.equal(trigger.status, 404);
    const page = await request('/dags/nope/grid', { headers: { accept: 'text/html' } });
    assert.equal(page.status, 404);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.text, /unknown DAG &#39;nope&#39;/);
    assert.doesNotMatch(page.text, /at .*\.ts:\d+/, 'no stack trace');
  });

  test('every request needs the token; a browser gets a sign-in page, a script a JSON 401', async () => {
    for (const path of ['/', '/api/dags', '/api/dags/api_params/grid', '/dags/api_params/grid', '/runs', '/metrics', '/backfills/new']) {
      const res = await request(path, { token: false });
      assert.equal(res.status, 401, path);
    }
    const browser = await request('/dags/api_params/grid', { token: false, headers: { accept: 'text/html' } });
    assert.match(browser.text, /Sign in/);
    for (const path of ['/api/dags/api_params/trigger', '/dags/api_params/trigger', '/backfills/preview', '/api/runs/x/rerun']) {
      const res = await request(path, { token: false, method: 'POST', body: {} });
      assert.equal(res.status, 401, path);
    }
  });

  test('a cookie session must send the CSRF token with every write', async () => {
    const { cookie, csrf } = await browserSession();
    for (const path of ['/api/dags/api_params/trigger', '/dags/api_params/trigger', '/backfills/preview', '/api/schedules/api_params/pause']) {
      const refused = await request(path, { token: false, method: 'POST', body: { limit: 1 }, headers: { cookie } });
      assert.equal(refused.status, 403, path);
    }
    const allowed = await request('/backfills/preview', { token: false, method: 'POST', body: { dagId: 'api_params', from: '2025-05-03', to: '2025-05-03' }, headers: { cookie, 'x-csrf-token': csrf } });
    assert.equal(allowed.status, 200, allowed.text);
  });

  test('pages carry strict security headers, and text from DAG authors and task errors renders inert', async () => {
    const home = await request('/', { headers: { accept: 'text/html' } });
    const csp = home.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(home.headers.get('x-frame-options'), 'DENY');
    assert.equal(home.headers.get('x-content-type-options'), 'nosniff');

    const runId = await failedRun();
    const pages = [home.text, (await request('/dags/api_params/trigger', { headers: { accept: 'text/html' } })).text, (await request(`/runs/${runId}`, { headers: { accept: 'text/html' } })).text];
    for (const text of pages) {
      const hostile = /.{0,120}(<script>alert|<img src=x).{0,40}/s.exec(text);
      assert.equal(hostile, null, `hostile text is escaped: ${hostile?.[0] ?? ''}`);
      assert.doesNotMatch(text, /<script>(?!<\/script>)/, 'no inline script at all');
      assert.doesNotMatch(text, / on[a-z]+=["']/i, 'no inline event handlers');
      assert.doesNotMatch(text, / style="/, 'no inline styles (the CSP would block them)');
    }
    assert.match(pages[0] as string, /Loads orders &#60;script&#62;alert\(&#34;x&#34;\)/);
    assert.match(pages[2] as string, /partner file broke &#60;script&#62;/);
    await worker.client.workflow.getHandle(runId).terminate('end of test');
  });
});
