/**
 * Every console route, found by walking the Express app itself (so a route added later is fuzzed
 * too), against the real stack: each path parameter, query parameter and body field with hostile
 * values (SQL, traversal, NUL, huge, wrong types, unicode, prototype keys), hostile whole bodies
 * and wrong content types. Every answer is a 4xx or a success, never a 5xx, and no answer shows a
 * stack trace, a file path, SQL error text or a secret. Every write refuses a request without the
 * token, with a wrong one, from a cookie session without the CSRF token or from another origin,
 * and nothing changes. The console's log holds no token, database password or S3 secret.
 *
 * SHORT round by default (a subset of values); SLUICE_CHAOS=full sends every value and a seeded
 * random mix (SLUICE_FUZZ_SEED to replay one).
 */
import assert from 'node:assert/strict';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { Express } from 'express';
import pino from 'pino';
import { z } from 'zod';
import { dag } from '../../dags/sdk';
import { startDagRun, type StartedRun } from '../../server/client/start-run';
import { createConsoleApp } from '../../server/console/app';
import { syncSchedules } from '../../server/schedules/sync';
import { alwaysFail, echo, testTasks } from '../fixtures/tasks';
import { compileOrThrow, waitForStatus } from '../support/dag-runs';
import { testConfig } from '../support/env';
import { startTestWorker, type TestWorker } from '../support/test-worker';
import { baseBody, CONTENT_TYPES, HOSTILE_BODIES, HOSTILE_JSON, HOSTILE_TEXT, prng, queryParams, queryTablePaths } from './support/fuzz-values';

const FULL = process.env.SLUICE_CHAOS === 'full';
const TQ = 'test-chaos-api-fuzz';
const TOKEN = 'fuzz-3b9e1c7a55d04f28-console';
/** The walk must find at least this many routes (the console had 44 when this test was written). */
const MIN_ROUTES = 40;

const manual = compileOrThrow(
  dag('fuzz_manual', { taskQueue: TQ }, ({ task }) => {
    task(echo, { label: 'ok' }, { id: 'first' });
  }),
  testTasks,
);
const failing = compileOrThrow(
  dag('fuzz_failing', { taskQueue: TQ, retries: 0 }, ({ task }) => {
    const first = task(echo, { label: 'fine' }, { id: 'first' });
    task(alwaysFail, { message: 'fuzz failure' }, { id: 'breaks' }).after(first);
  }),
  testTasks,
);
const scheduled = compileOrThrow(
  dag('fuzz_scheduled', { taskQueue: TQ, schedule: '0 3 * * *', params: z.object({ region: z.enum(['North', 'South']).default('North'), label: z.string().max(200).optional() }) }, ({ task }) => {
    task(echo, { label: 'sched' }, { id: 'first' });
  }),
  testTasks,
);

const logged: string[] = [];
let worker: TestWorker;
let app: Express;
let server: Server;
let port: number;
let cookie: string;
let csrf: string;
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const runs: StartedRun[] = [];
let successRun: StartedRun;
/** The pools there were before the fuzz (it may create some: `__proto__` is a valid pool name). */
let poolsBefore: string[] = [];
let awaitingRun: StartedRun;
/** Workflows the fuzz itself started (a trigger, a clear or a re-run that went through). */
const startedByFuzz = new Set<string>();

const SECRETS = (() => {
  const config = testConfig();
  const secrets: Record<string, string> = { 'console token': TOKEN, 'S3 secret key': config.s3.secretAccessKey ?? assert.fail('the test stack has S3 keys') };
  for (const [name, url] of [['warehouse password', config.postgres.databaseUrl], ['source password', config.postgres.sourceDatabaseUrl]] as const) {
    const password = decodeURIComponent(new URL(url).password);
    if (password) secrets[name] = password;
  }
  if (process.env.AWS_SECRET_ACCESS_KEY) secrets['AWS_SECRET_ACCESS_KEY'] = process.env.AWS_SECRET_ACCESS_KEY;
  return secrets;
})();

/** What no answer may show: a stack frame, a source path, SQL error text. */
const LEAKS: Array<[string, RegExp]> = [
  ['stack frame', /^\s*at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m],
  ['source path', /\/work\/|node_modules|\.ts:\d+/],
  ['SQL error', /syntax error at or near|relation "|invalid input syntax for|violates (not-null|check|unique) constraint|SQLSTATE/i],
];

type Answer = { status: number; body: string; headers: http.IncomingHttpHeaders };

function send(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent, timeout: 20_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 20 s')));
    req.on('error', reject);
    req.end(body);
  });
}

type Route = { method: string; path: string };

/** Every route of the app, from its router: nested routers' mount paths are joined to their routes'. */
function walkRoutes(expressApp: Express): Route[] {
  type Layer = { route?: { path: string | string[]; methods: Record<string, boolean> }; handle?: { stack?: Layer[] }; rawPath?: unknown };
  const found: Route[] = [];
  const visit = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
        for (const p of paths) {
          for (const method of Object.keys(layer.route.methods)) {
            if (method !== '_all') found.push({ method: method.toUpperCase(), path: prefix + p });
          }
        }
      } else if (layer.handle?.stack) {
        const mount = typeof layer.rawPath === 'string' && layer.rawPath !== '/' ? layer.rawPath : '';
        visit(layer.handle.stack, prefix + mount);
      }
    }
  };
  const root = (expressApp as unknown as { router: { stack: Layer[] } }).router;
  visit(root.stack, '');
  return found;
}

/** Percent-encodes text for a URL; a lone surrogate, which has no UTF-8, becomes its (invalid) CESU bytes. */
function enc(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return text.split('').map((c) => (/[\uD800-\uDFFF]/.test(c) ? '%ED%A0%80' : encodeURIComponent(c))).join('');
  }
}

function pathParams(path: string): string[] {
  return [...path.matchAll(/:(\w+)/g)].map((m) => m[1] as string);
}

function validParam(route: Route, name: string): string {
  switch (name) {
    case 'dagId':
      return scheduled.dagId;
    case 'runId':
      return route.path.endsWith('/rerun') ? successRun.runId : awaitingRun.runId;
    case 'taskId':
      return 'breaks';
    case 'backfillId':
      return 'fuzz-no-such-backfill';
    case 'name':
      return route.path.startsWith('/reports') ? 'daily' : 'fuzz_pool';
    default:
      return 'x';
  }
}

function fillPath(route: Route, override: Record<string, string> = {}): string {
  return route.path.replace(/:(\w+)/g, (_m, name: string) => override[name] ?? enc(validParam(route, name)));
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Headers of an authorised request: Bearer for the API, the browser's cookie and CSRF token for the pages. */
function authHeaders(route: Route): Record<string, string> {
  if (route.path.startsWith('/api/')) return { authorization: `Bearer ${TOKEN}` };
  const headers: Record<string, string> = { cookie, accept: 'text/html' };
  if (WRITES.has(route.method)) Object.assign(headers, { 'x-csrf-token': csrf, origin: `http://127.0.0.1:${port}` });
  return headers;
}

type Problem = { route: string; what: string; status: number; detail: string };
const problems: Problem[] = [];
let sent = 0;
const statusCounts: Record<string, number> = {};

function check(route: Route, what: string, answer: Answer | Error) {
  sent += 1;
  const label = `${route.method} ${route.path}`;
  if (answer instanceof Error) {
    problems.push({ route: label, what, status: 0, detail: `no answer: ${answer.message}` });
    return;
  }
  statusCounts[`${answer.status}`] = (statusCounts[`${answer.status}`] ?? 0) + 1;
  if (answer.status >= 500) problems.push({ route: label, what, status: answer.status, detail: answer.body.slice(0, 300) });
  for (const [kind, pattern] of LEAKS) {
    const m = pattern.exec(answer.body);
    if (m) problems.push({ route: label, what, status: answer.status, detail: `${kind} in the answer: ${JSON.stringify(m[0].slice(0, 120))}` });
  }
  for (const [name, secret] of Object.entries(SECRETS)) {
    if (answer.body.includes(secret) || JSON.stringify(answer.headers).includes(secret)) problems.push({ route: label, what, status: answer.status, detail: `the ${name} in the answer` });
  }
  const created = /"(?:runId|backfillId)":"([^"]+)"/.exec(answer.body);
  if (created && answer.status >= 200 && answer.status < 300 && WRITES.has(route.method)) startedByFuzz.add(created[1] as string);
}

/** Runs the requests, a few at once (the app is in this process: that is its load too). */
async function pool(jobs: Array<() => Promise<void>>, width = 8): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) await (jobs[next++] as () => Promise<void>)();
    }),
  );
}

function job(route: Route, what: string, path: string, headers: Record<string, string>, body?: string): () => Promise<void> {
  return async () => {
    const answer = await send(route.method, path, headers, body).catch((err: Error) => err);
    // A request line or header over Node's limit may be cut off by the server (a 431) before the
    // client finishes writing: a refusal, not a failure.
    if (answer instanceof Error && path.length > 16 * 1024 && /ECONNRESET|EPIPE|socket hang up/.test(answer.message)) {
      sent += 1;
      return;
    }
    check(route, what, answer);
  };
}

function requestsFor(route: Route, full: boolean): Array<() => Promise<void>> {
  const texts = HOSTILE_TEXT.filter((v) => full || v.short);
  const jsons = HOSTILE_JSON.filter((v) => full || v.short);
  const auth = authHeaders(route);
  const isWrite = WRITES.has(route.method);
  const base = isWrite ? baseBody(route.method, route.path, { scheduledDag: scheduled.dagId, task: 'breaks' }) : undefined;
  const bodyOf = (override?: [string, unknown]) => (base ? JSON.stringify(override ? { ...base, [override[0]]: override[1] } : base) : undefined);
  const jsonHeaders = isWrite ? { ...auth, 'content-type': 'application/json' } : auth;
  const jobs: Array<() => Promise<void>> = [];

  // The valid request itself.
  jobs.push(job(route, 'valid', fillPath(route), jsonHeaders, bodyOf()));
  for (const name of pathParams(route.path)) {
    for (const v of texts) jobs.push(job(route, `path :${name}=${v.name}`, fillPath(route, { [name]: enc(v.value) }), jsonHeaders, bodyOf()));
    // Unencoded: a literal traversal and a literal %2e%2e%2f.
    jobs.push(job(route, `path :${name} raw traversal`, fillPath(route, { [name]: '..%2f..%2fetc%2fpasswd' }), jsonHeaders, bodyOf()));
    jobs.push(job(route, `path :${name} raw %2e`, fillPath(route, { [name]: '%2e%2e%2f%2e%2e%2f' }), jsonHeaders, bodyOf()));
    jobs.push(job(route, `path :${name} bad percent`, fillPath(route, { [name]: '%E0%A4%A' }), jsonHeaders, bodyOf()));
  }
  const path = fillPath(route);
  for (const name of queryParams(route.path)) {
    for (const v of texts) jobs.push(job(route, `query ${name}=${v.name}`, `${path}?${name}=${enc(v.value)}`, jsonHeaders, bodyOf()));
    jobs.push(job(route, `query ${name} twice`, `${path}?${name}=1&${name}=2`, jsonHeaders, bodyOf()));
    jobs.push(job(route, `query ${name}[] bracket`, `${path}?${name}[a]=1&${name}[]=2`, jsonHeaders, bodyOf()));
  }
  jobs.push(job(route, 'query __proto__', `${path}?__proto__[x]=1&constructor[prototype][y]=2`, jsonHeaders, bodyOf()));
  if (!isWrite || !base) return jobs;

  for (const field of Object.keys(base)) {
    for (const v of texts) jobs.push(job(route, `body ${field}=${v.name}`, path, jsonHeaders, bodyOf([field, v.value])));
    for (const v of jsons) jobs.push(job(route, `body ${field}=${v.name}`, path, jsonHeaders, bodyOf([field, v.value])));
    jobs.push(job(route, `body without ${field}`, path, jsonHeaders, JSON.stringify(Object.fromEntries(Object.entries(base).filter(([k]) => k !== field)))));
  }
  jobs.push(job(route, 'body extra __proto__ key', path, jsonHeaders, JSON.stringify(base).replace(/^\{/, '{"__proto__":{"fuzzPolluted":true},')));
  for (const b of HOSTILE_BODIES.filter((v) => full || v.short)) jobs.push(job(route, `whole body ${b.name}`, path, jsonHeaders, b.body));
  for (const ct of CONTENT_TYPES.filter((v) => full || v.short)) {
    const headers: Record<string, string> = { ...auth };
    if (ct.type) headers['content-type'] = ct.type;
    const body = ct.type?.startsWith('application/x-www-form') ? 'a=1&b=2' : ct.type?.startsWith('multipart') ? '--xyz\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--xyz--\r\n' : bodyOf();
    jobs.push(job(route, `content-type ${ct.name}`, path, headers, body));
  }
  jobs.push(job(route, 'bad gzip', path, { ...jsonHeaders, 'content-encoding': 'gzip' }, 'not gzip'));
  jobs.push(job(route, 'unknown encoding', path, { ...jsonHeaders, 'content-encoding': 'br2' }, bodyOf()));
  return jobs;
}

/** A FULL round's random mix: several hostile values at once, in path, query and body. */
function randomRequests(routes: Route[], seed: number, count: number): Array<() => Promise<void>> {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const values: unknown[] = [...HOSTILE_TEXT.filter((v) => v.value.length < 200_000).map((v) => v.value), ...HOSTILE_JSON.map((v) => v.value)];
  const jobs: Array<() => Promise<void>> = [];
  for (let i = 0; i < count; i++) {
    const route = pick(routes);
    const override: Record<string, string> = {};
    for (const name of pathParams(route.path)) if (random() < 0.5) override[name] = enc(String(pick(values)));
    const query = queryParams(route.path)
      .filter(() => random() < 0.5)
      .map((name) => `${name}=${enc(String(pick(values)))}`)
      .join('&');
    const isWrite = WRITES.has(route.method);
    const base = isWrite ? baseBody(route.method, route.path, { scheduledDag: scheduled.dagId, task: 'breaks' }) : {};
    const body = Object.fromEntries(Object.keys(base).map((k) => [k, random() < 0.5 ? pick(values) : base[k]]));
    const headers = isWrite ? { ...authHeaders(route), 'content-type': 'application/json' } : authHeaders(route);
    jobs.push(job(route, `random #${i}`, `${fillPath(route, override)}${query ? `?${query}` : ''}`, headers, isWrite ? JSON.stringify(body) : undefined));
  }
  return jobs;
}

/** What a write that got through would change: the runs, the pools, the schedule. */
async function observable(): Promise<string> {
  const db = worker.resources.warehouse;
  const dagRuns = await db('sluice.dag_runs').whereIn('dag_id', [manual.dagId, failing.dagId, scheduled.dagId]).orderBy('run_id').select('run_id', 'state');
  const pools = await db('sluice.pools').orderBy('name').select('name', 'slots', 'description');
  const schedule = await worker.client.schedule.getHandle(scheduled.dagId).describe();
  const open = [];
  for await (const wf of worker.client.workflow.list({ query: `TaskQueue = '${TQ}' AND ExecutionStatus = 'Running'` })) open.push(wf.workflowId);
  return JSON.stringify({ dagRuns, pools, paused: schedule.state.paused, note: schedule.state.note, open: open.sort() });
}

before(async () => {
  worker = await startTestWorker(testTasks, TQ);
  await syncSchedules(worker.client, [scheduled]);
  poolsBefore = (await worker.resources.warehouse('sluice.pools').select('name')).map((r: { name: string }) => r.name);
  const logger = pino({ level: 'trace' }, { write: (line: string) => void logged.push(line) });
  app = createConsoleApp({ temporal: worker.client, db: worker.resources.warehouse, token: TOKEN, logger, dags: () => [manual, failing, scheduled] });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  port = (server.address() as AddressInfo).port;

  successRun = await startDagRun(worker.client, manual, { logicalDate: new Date(Date.UTC(2025, 1, 1)), params: {}, trigger: 'manual' });
  awaitingRun = await startDagRun(worker.client, failing, { logicalDate: new Date(Date.UTC(2025, 1, 2)), params: {}, trigger: 'manual' });
  runs.push(successRun, awaitingRun);
  await successRun.handle.result();
  await waitForStatus(awaitingRun.handle, (s) => s.state === 'awaiting_operator');

  const login = await send('GET', `/?token=${TOKEN}`, {});
  cookie = login.headers['set-cookie']?.[0]?.split(';')[0] ?? '';
  assert.ok(cookie, 'the login sets a cookie');
  csrf = /<meta name="csrf-token" content="([^"]+)">/.exec((await send('GET', '/', { cookie, accept: 'text/html' })).body)?.[1] ?? '';
  assert.ok(csrf, 'the page carries a CSRF token');
  const created = await send('PUT', '/api/pools/fuzz_pool', { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, JSON.stringify({ slots: 2, description: 'fuzz' }));
  assert.equal(created.status, 200, created.body);
});

after(async () => {
  await new Promise((resolve) => server?.close(resolve));
  agent.destroy();
  for (const run of runs) await run.handle.terminate('end of test').catch(() => undefined);
  for (const id of startedByFuzz) await worker?.client.workflow.getHandle(id).terminate('end of test').catch(() => undefined);
  await worker?.resources.warehouse('sluice.pools').whereNotIn('name', poolsBefore).delete().catch(() => undefined);
  await syncSchedules(worker.client, []).catch(() => undefined);
  await worker?.stop();
});

describe('console API fuzz', () => {
  test('the walk of the app finds every route, and the query table names only routes that exist', () => {
    const routes = walkRoutes(app);
    console.log(`routes: ${routes.length} (${routes.filter((r) => WRITES.has(r.method)).length} writes)`);
    assert.ok(routes.length >= MIN_ROUTES, `the walk found ${routes.length} routes, fewer than ${MIN_ROUTES}: has the router's structure changed?`);
    const paths = new Set(routes.map((r) => r.path));
    for (const p of queryTablePaths()) assert.ok(paths.has(p), `fuzz-values.ts names ${p}, which the app has no more`);
    for (const p of ['/api/runs/:runId/retry', '/api/pools/:name', '/reports/:name.csv', '/healthz']) assert.ok(paths.has(p), `the walk finds ${p}`);
  });

  test('every write refuses a request without the token, a wrong token, a cookie without CSRF token or another origin, and nothing changes', async () => {
    const writes = walkRoutes(app).filter((r) => WRITES.has(r.method));
    assert.ok(writes.length >= 10, `only ${writes.length} writes found`);
    const beforeState = await observable();
    const own = `http://127.0.0.1:${port}`;
    for (const route of writes) {
      // A body that would change something if it got through: start runs, fail a run, resize a pool, pause.
      const base = baseBody(route.method, route.path, { scheduledDag: scheduled.dagId, task: 'breaks' });
      const body = JSON.stringify({ ...base, ...('dryRun' in base ? { dryRun: false } : {}), ...('slots' in base ? { slots: 9 } : {}) });
      const path = fillPath(route);
      const json = { 'content-type': 'application/json' };
      const cases: Array<[string, Record<string, string>, number]> = [
        ['no token', { ...json }, 401],
        ['a wrong Bearer token', { ...json, authorization: `Bearer ${TOKEN}x` }, 401],
        ['a wrong cookie', { ...json, cookie: 'sluice_token=nope', 'x-csrf-token': csrf }, 401],
        ['a cookie without the CSRF token', { ...json, cookie, origin: own }, 403],
        ['a cookie with a wrong CSRF token', { ...json, cookie, origin: own, 'x-csrf-token': `${csrf}x` }, 403],
        ['the token from another origin', { ...json, authorization: `Bearer ${TOKEN}`, origin: 'http://evil.example' }, 403],
        ['a cookie and CSRF token from another origin', { ...json, cookie, 'x-csrf-token': csrf, origin: 'http://127.0.0.1:1' }, 403],
        ['a cross-site fetch', { ...json, cookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' }, 403],
      ];
      for (const [what, headers, status] of cases) {
        const answer = await send(route.method, path, headers, body);
        check(route, `auth: ${what}`, answer);
        assert.equal(answer.status, status, `${route.method} ${route.path} with ${what}: ${answer.body.slice(0, 200)}`);
      }
    }
    await sleep(1000); // a write that got through would show in Temporal and Postgres by now
    assert.equal(await observable(), beforeState, 'no refused write changed a run, a pool or the schedule');
  });

  test(`every route and parameter with hostile values (${FULL ? 'FULL' : 'SHORT'} round): no 5xx, no leak`, async () => {
    const routes = walkRoutes(app);
    const started = Date.now();
    const sentBefore = sent;
    // Reads go a few at once; writes one at a time: eight Updates and Queries at once on one run
    // queue up in its workflow past the console's 5 s Temporal deadline (a 503), which is load, not
    // a fuzz finding.
    const reads = routes.filter((r) => !WRITES.has(r.method));
    const writes = routes.filter((r) => WRITES.has(r.method));
    const readJobs = reads.flatMap((r) => requestsFor(r, FULL));
    const writeJobs = writes.flatMap((r) => requestsFor(r, FULL));
    if (FULL) {
      const seed = Number(process.env.SLUICE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
      console.log(`random mix seed: ${seed} (SLUICE_FUZZ_SEED=${seed} replays it)`);
      readJobs.push(...randomRequests(reads, seed, 2000));
      writeJobs.push(...randomRequests(writes, seed + 1, 1000));
    }
    await pool(readJobs, 8);
    await pool(writeJobs, 1);
    console.log(`${FULL ? 'FULL' : 'SHORT'} round: ${sent - sentBefore} requests over ${routes.length} routes in ${((Date.now() - started) / 1000).toFixed(1)} s; statuses ${JSON.stringify(statusCounts)}`);
    assert.equal(({} as Record<string, unknown>).fuzzPolluted, undefined, 'no body polluted Object.prototype');
    // What the console logged of its 500s: the bug to fix.
    const failures = new Map<string, string>();
    for (const line of logged.filter((l) => l.includes('"request failed"'))) {
      const { err } = JSON.parse(line) as { err?: { type?: string; message?: string } };
      failures.set(`${err?.type ?? '?'}: ${err?.message ?? '?'}`, line);
    }
    for (const line of failures.values()) console.log(line.slice(0, 3000));
    const shown = problems.slice(0, 25).map((p) => `${p.route} [${p.what}] ${p.status}: ${p.detail}`);
    assert.deepEqual(shown, [], `${problems.length} problems`);
  });

  test('the log holds no token, database password or S3 secret', async () => {
    await sleep(300); // pino-http writes its line when the response has finished
    assert.ok(logged.length > sent / 2, `the log has ${logged.length} lines for ${sent} requests`);
    for (const [name, secret] of Object.entries(SECRETS)) {
      const lines = logged.filter((l) => l.includes(secret));
      assert.equal(lines.length, 0, `${lines.length} log lines hold the ${name}: ${lines[0]?.slice(0, 300) ?? ''}`);
    }
    const csrfLines = logged.filter((l) => l.includes(csrf));
    assert.equal(csrfLines.length, 0, 'no log line holds the CSRF token');
  });
});
