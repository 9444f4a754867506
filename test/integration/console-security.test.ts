/**
 * The console's token and the writes it allows, over HTTP against the real stack: the token never
 * reaches the request log; every wrong token, whatever its bytes, is a 401; writes from another
 * origin, cookie sessions without the CSRF token and non-JSON bodies are refused before they touch
 * a run; and the console's own buttons still send what these checks ask for (test/browser clicks
 * them in a real browser).
 */
import assert from 'node:assert/strict';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { dag } from '../../dags/sdk';
import { runStatus } from '../../server/client/operator';
import { startDagRun, type StartedRun } from '../../server/client/start-run';
import { createConsoleApp } from '../../server/console/app';
import { alwaysFail, testTasks } from '../fixtures/tasks';
import { compileOrThrow, waitForStatus } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-console-security';
const TOKEN = 'sec-7f3a9c2e41d8b6a0-console';
const failing = compileOrThrow(
  dag('security_failing', { taskQueue: TQ }, ({ task }) => {
    task(alwaysFail, { message: 'bad partner file' });
  }),
  testTasks,
);
/** Every line the console logged, as written. */
const logged: string[] = [];
let worker: TestWorker;
let server: Server;
let origin: string;
const runs: StartedRun[] = [];

before(async () => {
  worker = await startTestWorker(testTasks, TQ);
  const logger = pino({ level: 'trace' }, { write: (line: string) => void logged.push(line) });
  const app = createConsoleApp({ temporal: worker.client, db: worker.resources.warehouse, token: TOKEN, logger, dags: () => [failing] });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((resolve) => server?.close(resolve));
  for (const run of runs) await run.handle.terminate('end of test').catch(() => undefined);
  await worker?.stop();
});

/** A request with exactly these headers: node:http sends header bytes fetch would refuse (latin1). */
function raw(path: string, headers: Record<string, string> = {}, method = 'GET', body?: string): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${origin}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Logs in as a browser does, with the URL `sluice up` prints: the cookie it gets back. */
async function login(): Promise<string> {
  const res = await raw(`/?token=${TOKEN}`);
  assert.equal(res.status, 302);
  assert.equal(res.headers.location, '/');
  const cookie = res.headers['set-cookie']?.[0]?.split(';')[0];
  assert.ok(cookie, 'the login sets a cookie');
  return cookie;
}

/** The CSRF token a page carries for its scripts. */
function csrfOf(html: string): string {
  const token = /<meta name="csrf-token" content="([^"]+)">/.exec(html)?.[1];
  assert.ok(token, 'the page carries a CSRF token');
  return token;
}

async function awaitingRun(day: number): Promise<StartedRun> {
  const run = await startDagRun(worker.client, failing, { logicalDate: new Date(Date.UTC(2025, 0, day)), params: {}, trigger: 'manual' });
  runs.push(run);
  await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator');
  return run;
}

const UNAUTHORIZED = 'missing or wrong console token: see .sluice/console-token or SLUICE_CONSOLE_TOKEN';

describe('console token', () => {
  test('no log line holds the token: not the login URL, its cookie, a Bearer header, a wrong token or the CSRF token', async () => {
    const near = `${TOKEN.slice(0, -1)}X`;
    const cookie = await login();
    const pageHtml = await raw('/', { cookie });
    assert.equal(pageHtml.status, 200);
    assert.equal((await raw('/api/runs', { authorization: `Bearer ${TOKEN}` })).status, 200);
    assert.equal((await raw(`/?%74oken=${TOKEN}`)).status, 302, 'a percent-encoded name is still the login parameter, as Express reads it');
    assert.equal((await raw(`/runs/x?token=${near}`)).status, 401);
    assert.equal((await raw('/api/runs', { authorization: `Bearer ${near}` })).status, 401);
    await sleep(200); // pino-http writes its line when the response has finished
    const leaks = (secret: string) => logged.filter((l) => l.includes(secret));
    assert.deepEqual(leaks(TOKEN), [], 'no log line holds the token');
    assert.deepEqual(leaks(near), [], 'no log line holds a wrong guess at it');

    const csrf = csrfOf(pageHtml.body);
    assert.equal((await raw('/api/runs/x-2025-01-01T00:00:00Z/retry', { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' }, 'POST', '{}')).status, 404);
    await sleep(200);
    assert.deepEqual(leaks(csrf), [], 'no log line holds the CSRF token');
    assert.deepEqual(leaks(TOKEN), []);

    const entries = logged
      .filter((l) => l.includes('"req"'))
      .map((l) => JSON.parse(l) as { req: { url: string; headers: Record<string, string> }; res: { headers: Record<string, string> } });
    assert.equal(entries.length, 7, 'one line per request');
    assert.deepEqual(
      entries.map((e) => e.req.url),
      ['/?token=[redacted]', '/', '/api/runs', '/?%74oken=[redacted]', '/runs/x?token=[redacted]', '/api/runs', '/api/runs/x-2025-01-01T00:00:00Z/retry'],
    );
    assert.equal(entries[0]?.res.headers['set-cookie'], '[redacted]', "the login's cookie");
    assert.equal(entries[2]?.req.headers.authorization, '[redacted]');
    assert.deepEqual([entries[6]?.req.headers.cookie, entries[6]?.req.headers['x-csrf-token']], ['[redacted]', '[redacted]']);
  });

  test('every wrong token is a 401, whatever its length, characters or encoding', async () => {
    const sameLength = 'é'.repeat(TOKEN.length);
    const cases: Array<[string, string, Record<string, string>]> = [
      ['no token', '/', {}],
      ['an empty query token', '/?token=', {}],
      ['a non-ASCII query token of the same length', `/?token=${encodeURIComponent(sameLength)}`, {}],
      ['invalid UTF-8 in the query token', '/?token=%ff%fe%fd', {}],
      ['bad percent-encoding in the query token', '/?token=%E0%A4%A', {}],
      ['the query token twice', `/?token=${TOKEN}&token=${TOKEN}`, {}],
      ['a non-ASCII Bearer token of the same length', '/api/runs', { authorization: `Bearer ${sameLength}` }],
      ['Bearer and no token', '/api/runs', { authorization: 'Bearer' }],
      ['Bearer and spaces', '/api/runs', { authorization: 'Bearer    ' }],
      ['Basic credentials', '/api/runs', { authorization: `Basic ${Buffer.from(`sluice:${TOKEN}`).toString('base64')}` }],
      ['the token and one more character', '/api/runs', { authorization: `Bearer ${TOKEN}x` }],
      ['the token less its last character', '/api/runs', { authorization: `Bearer ${TOKEN.slice(0, -1)}` }],
      ['a cookie with bad percent-encoding', '/', { cookie: 'sluice_token=%E0%A4%A' }],
      ['a cookie that is a lone %', '/', { cookie: 'sluice_token=%' }],
      ['a percent-encoded non-ASCII cookie of the same length', '/', { cookie: `sluice_token=${encodeURIComponent(sameLength)}` }],
      ['a raw non-ASCII cookie of the same length', '/', { cookie: `sluice_token=${sameLength}` }],
      ['an empty cookie', '/', { cookie: 'sluice_token=' }],
      ['the token in a cookie of another name', '/', { cookie: `session=${TOKEN}` }],
    ];
    // And random strings of every length up to twice the token's, from ASCII, Latin-1 and broken escapes.
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pieces = ['a', 'Z', '0', '-', '_', '~', ' ', 'é', 'ÿ', '%', '%zz', '%ff', '%C3', '%00', '=', ';'];
    for (let i = 0; i < 40; i++) {
      const text = Array.from({ length: random(TOKEN.length * 2 + 1) }, () => pieces[random(pieces.length)]).join('');
      const where = i % 3;
      if (where === 0) cases.push([`random query ${JSON.stringify(text)}`, `/?token=${text.replace(/[ é ÿ;=]/g, (c) => encodeURIComponent(c))}`, {}]);
      else if (where === 1) cases.push([`random Bearer ${JSON.stringify(text)}`, '/api/runs', { authorization: `Bearer ${text}` }]);
      else cases.push([`random cookie ${JSON.stringify(text)}`, '/', { cookie: `sluice_token=${text}` }]);
    }
    for (const [what, path, headers] of cases) {
      const res = await raw(path, headers);
      assert.equal(res.status, 401, `${what}: ${res.status} ${res.body}`);
      assert.deepEqual(JSON.parse(res.body), { error: UNAUTHORIZED }, what);
    }
    assert.equal((await raw('/api/runs', { authorization: `bearer ${TOKEN}` })).status, 200, 'the right token still works');
  });
});

describe('console writes', () => {
  test('writes from another origin, cookie writes without the CSRF token and non-JSON bodies are refused, and change nothing', async () => {
    const run = await awaitingRun(1);
    const cookie = await login();
    const csrf = csrfOf((await raw(`/runs/${run.runId}`, { cookie })).body);
    const fail = `/api/runs/${run.runId}/fail`;
    const json = { 'content-type': 'application/json' };
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const body = JSON.stringify({ reason: 'should never apply' });
    const csrfMessage =
      'missing or wrong X-CSRF-Token header: a request signed in by the console\'s cookie must send the token in the page\'s <meta name="csrf-token"> (scripts send Authorization: Bearer instead)';
    const cases: Array<[string, Record<string, string>, number, string]> = [
      ['a cookie and no CSRF token', { cookie, ...json }, 403, csrfMessage],
      ['a cookie and a wrong CSRF token', { cookie, ...json, 'x-csrf-token': `${csrf.slice(0, -1)}A` }, 403, csrfMessage],
      ['a cookie and the console token as CSRF token', { cookie, ...json, 'x-csrf-token': TOKEN }, 403, csrfMessage],
      ['another port of localhost', { ...bearer, ...json, origin: 'http://localhost:9999' }, 403, 'cross-origin request refused (Origin http://localhost:9999 is not this console)'],
      ['another port, with the cookie and CSRF token', { cookie, 'x-csrf-token': csrf, ...json, origin: 'http://127.0.0.1:1' }, 403, 'cross-origin request refused (Origin http://127.0.0.1:1 is not this console)'],
      ['an opaque origin', { ...bearer, ...json, origin: 'null' }, 403, 'cross-origin request refused (Origin null is not this console)'],
      ['Sec-Fetch-Site same-site', { ...bearer, ...json, 'sec-fetch-site': 'same-site' }, 403, 'cross-origin request refused (Sec-Fetch-Site: same-site)'],
      ['Sec-Fetch-Site cross-site', { ...bearer, ...json, 'sec-fetch-site': 'cross-site' }, 403, 'cross-origin request refused (Sec-Fetch-Site: cross-site)'],
      ['a text/plain body', { ...bearer, 'content-type': 'text/plain' }, 415, 'send the request body as JSON, with Content-Type: application/json'],
      ['a form body', { ...bearer, 'content-type': 'application/x-www-form-urlencoded' }, 415, 'send the request body as JSON, with Content-Type: application/json'],
      ['no Content-Type', bearer, 415, 'send the request body as JSON, with Content-Type: application/json'],
    ];
    for (const [what, headers, status, error] of cases) {
      const res = await raw(fail, headers, 'POST', body);
      assert.deepEqual([res.status, JSON.parse(res.body)], [status, { error }], what);
    }
    assert.equal((await runStatus(worker.client, run.runId)).state, 'awaiting_operator', 'no refused write reached the run');

    // A script with the Bearer token needs no CSRF token; the console's own origin is no other origin.
    const retried = await raw(`/api/runs/${run.runId}/retry`, { ...bearer, ...json, origin, 'sec-fetch-site': 'same-origin' }, 'POST', JSON.stringify({ taskId: 'alwaysFail' }));
    assert.equal(retried.status, 200, retried.body);
    assert.deepEqual((JSON.parse(retried.body) as { tasks: string[] }).tasks, ['alwaysFail']);
  });

  test("the console's own buttons work: they send the page's CSRF token with the cookie session, as console.js does", async () => {
    const run = await awaitingRun(2);
    const cookie = await login();
    const html = (await raw(`/runs/${run.runId}`, { cookie })).body;
    const csrf = csrfOf(html);
    // The fail button, as the page renders it: where it posts and what.
    const button = /<button[^>]*data-post="([^"]*\/fail)" data-body="([^"]*)"[^>]*>Fail run<\/button>/.exec(html);
    assert.ok(button, 'the page has the fail button');
    const unescape = (text: string) => text.replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)));
    const [url, body] = [unescape(button[1] as string), unescape(button[2] as string)];
    assert.equal(url, `/api/runs/${encodeURIComponent(run.runId)}/fail`);
    // console.js reads the token from the page's meta tag and sends it in this header.
    const script = (await raw('/assets/console.js')).body;
    assert.match(script, /'x-csrf-token': csrf\(\)/);
    assert.match(script, /meta\[name=csrf-token\]/);
    const res = await raw(url, { cookie, 'content-type': 'application/json', 'x-csrf-token': csrf, origin, 'sec-fetch-site': 'same-origin' }, 'POST', body);
    assert.equal(res.status, 200, res.body);
    await assert.rejects(run.handle.result(), 'the run failed as the button asked');
  });
});
