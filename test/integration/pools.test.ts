/**
 * Slot pools (issue 11), on the real stack: three DAGs sharing a pool of 2 never run more than two
 * of its tasks at once, also while a worker is SIGKILLed in the middle of one (its slot comes back
 * within the heartbeat timeout); waiters go in by priorityWeight, then in the order they asked;
 * `sluice pools set` resizes a running pool and lets more in; a task asking more slots than its
 * pool has, or naming no pool that exists, fails saying so; `sluice pools list|set` and the
 * console's `GET /api/pools` and `PUT /api/pools/:name`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, test } from 'node:test';
import pino from 'pino';
import { dag } from '../../dags/sdk';
import { declarePools, listPools, setPool } from '../../server/client/pools';
import { startDagRun, type StartedRun } from '../../server/client/start-run';
import { createConsoleApp } from '../../server/console/app';
import { whyNotRunning } from '../../server/console/why-waiting';
import { stateQuery, type DagRunInput } from '../../workflows/messages';
import { poolGateId, poolQuery, type PoolUsage } from '../../workflows/pools';
import type { DagSpec } from '../../workflows/spec';
import { double, echo, hangsOnce, range, sleepFor, testTasks } from '../fixtures/tasks';
import { runCli } from '../support/cli';
import { compileOrThrow, uniqueLogicalDate, waitForStatus } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

// The gates this file's worker starts check for ended holders every 2 s (30 s by default).
process.env.SLUICE_GATE_CHECK_INTERVAL_MS = '2000';
const TQ = 'test-pools';
const CHILD_TQ = 'test-pools-child';
const TOKEN = 'pools-test-token';
/** Pool names of this file only: a run of the file never meets another's gate or rows. */
const suffix = Date.now().toString(36);
const POOL = { shared: `t-shared-${suffix}`, prio: `t-prio-${suffix}`, resize: `t-resize-${suffix}`, small: `t-small-${suffix}`, api: `t-api-${suffix}`, ended: `t-ended-${suffix}`, moved: `t-moved-${suffix}` };

let worker: TestWorker;
let server: Server;
let origin: string;
const started: string[] = [];

before(async () => {
  worker = await startTestWorker(testTasks, TQ);
  const app = createConsoleApp({ temporal: worker.client, db: worker.resources.warehouse, token: TOKEN, logger: pino({ level: 'silent' }), dags: () => [] });
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  await new Promise((resolve) => server?.close(resolve));
  const ids = [...started, ...Object.values(POOL).map(poolGateId)];
  for (const id of ids) await worker.client.workflow.getHandle(id).terminate('end of test').catch(() => undefined);
  await worker.resources.warehouse('sluice.pools').whereIn('name', Object.values(POOL)).delete();
  await worker?.stop();
});

function compile(definition: Parameters<typeof compileOrThrow>[0]): DagSpec {
  return compileOrThrow(definition, testTasks);
}

async function start(spec: DagSpec): Promise<StartedRun> {
  const run = await startDagRun(worker.client, spec, { logicalDate: uniqueLogicalDate(), params: {}, trigger: 'manual' });
  started.push(run.runId);
  return run;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
  }
  throw new Error(`timed out waiting for ${what}`);
}

const gate = (pool: string) => worker.client.workflow.getHandle(poolGateId(pool)).query(poolQuery);
const until = (pool: string, check: (g: PoolUsage) => boolean, what: string) => eventually(what, async () => ((g) => (check(g) ? g : undefined))(await gate(pool)));

/** A worker in a process of its own on `taskQueue`, which a test can SIGKILL; resolves once it polls. */
async function workerChild(taskQueue: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../support/worker-child.ts'), taskQueue], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve()));
  return child;
}

/** The most attempts running at one moment, from their [start, end] times. */
function mostAtOnce(intervals: Array<[number, number]>): number {
  const edges = intervals.flatMap(([s, e]): Array<[number, number]> => [[s, 1], [e, -1]]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  let most = 0;
  for (const [, step] of edges) most = Math.max(most, (running += step));
  return most;
}

test('three DAGs sharing a pool of 2 never run more than two of its tasks at once, and a killed worker\'s slot comes back', { timeout: 90_000 }, async () => {
  await setPool(worker.resources.warehouse, worker.client, { name: POOL.shared, slots: 2 });
  const child = await workerChild(CHILD_TQ);
  let replacement: TestWorker | undefined;
  try {
    // The hanging task runs on the child's queue; the pool spans both queues.
    const hangs = compile(
      dag('pool_hangs', { taskQueue: TQ, heartbeatTimeout: '3s', retries: 0 }, ({ task }) => void task(hangsOnce, { ms: 600_000 }, { pool: POOL.shared, taskQueue: CHILD_TQ })),
    );
    const busy = (id: string) =>
      compile(
        dag(id, { taskQueue: TQ, pool: POOL.shared }, ({ task }) => {
          for (const n of [1, 2, 3]) task(sleepFor, { ms: 800 }, { id: `sleep${n}` });
        }),
      );
    const first = await start(hangs);
    await until(POOL.shared, (g) => g.holders.length === 1, 'the hanging task to hold a slot');
    const lostKey = (await gate(POOL.shared)).holders[0]?.key as string;
    await eventually('the hanging attempt on record', async () => ((await worker.resources.warehouse('sluice.task_attempts').where({ run_id: first.runId }).first()) ? true : undefined));
    const others = [await start(busy('pool_busy_a')), await start(busy('pool_busy_b'))];
    const waiting = await until(POOL.shared, (g) => g.waiting.length === 5, 'five tasks to wait for the second slot to free up');
    assert.equal(waiting.inUse, 2);
    const queued = await waitForStatus(others[1]?.handle as StartedRun['handle'], (s) => s.tasks.some((t) => t.waitingFor !== undefined));
    const task = queued.tasks.find((t) => t.waitingFor);
    assert.equal(task?.state, 'queued', 'a task waiting for its pool is queued');
    assert.deepEqual({ pool: task?.waitingFor?.pool, slots: task?.waitingFor?.slots }, { pool: POOL.shared, slots: 1 });

    child.kill('SIGKILL');
    await once(child, 'exit');
    const killedAt = Date.now();
    await until(POOL.shared, (g) => !g.holders.some((h) => h.key === lostKey), 'the killed attempt\'s slot to come back');
    const back = Date.now() - killedAt;
    assert.ok(back < 15_000, `the slot came back ${back} ms after the kill (heartbeat timeout 3 s)`);
    replacement = await startTestWorker(testTasks, CHILD_TQ);

    const results = await Promise.all([first, ...others].map((r) => r.handle.result()));
    assert.deepEqual(results.map((r) => r.state), ['success', 'success', 'success']);
    const rows: Array<{ started_at: Date; ended_at: Date; error: string | null }> = await eventually('every attempt on record', async () => {
      const found = await worker.resources.warehouse('sluice.task_attempts').whereIn('run_id', started.slice(-3)).whereNotNull('ended_at').select('started_at', 'ended_at', 'error');
      return found.length === 8 ? found : undefined;
    });
    // The lost attempt ran until its worker died.
    const intervals = rows.map((r): [number, number] => [r.started_at.getTime(), r.error?.startsWith('attempt lost') ? killedAt : r.ended_at.getTime()]);
    assert.equal(mostAtOnce(intervals), 2, 'never more than the pool\'s 2 slots at once');
    await until(POOL.shared, (g) => g.inUse === 0 && g.waiting.length === 0, 'the pool to empty');
  } finally {
    child.kill('SIGKILL');
    await replacement?.stop();
  }
});

test('pools declared in SLUICE_POOLS are created when missing; a size set at runtime is kept', async () => {
  const db = worker.resources.warehouse;
  const name = `${TQ}-declared`;
  await db('sluice.pools').where({ name }).delete();
  await declarePools(db, [{ name, slots: 3 }]);
  assert.equal((await listPools(db, worker.client)).find((p) => p.name === name)?.slots, 3);
  await setPool(db, worker.client, { name, slots: 7 });
  await declarePools(db, [{ name, slots: 3 }]);
  const pool = (await listPools(db, worker.client)).find((p) => p.name === name);
  assert.equal(pool?.slots, 7, 'the runtime size wins over the declaration');
  await db('sluice.pools').where({ name }).delete();
});

test('waiters go in by priorityWeight, higher first, then in the order they asked', { timeout: 60_000 }, async () => {
  await setPool(worker.resources.warehouse, worker.client, { name: POOL.prio, slots: 1 });
  const blocker = compile(dag('pool_blocker', { taskQueue: TQ }, ({ task }) => void task(sleepFor, { ms: 1_500 }, { pool: POOL.prio })));
  const weighted = compile(
    dag('pool_weighted', { taskQueue: TQ, pool: POOL.prio }, ({ task }) => {
      task(echo, { label: 'low' }, { id: 'low_early', priorityWeight: 1 });
      task(echo, { label: 'high' }, { id: 'high', priorityWeight: 5 });
      task(echo, { label: 'mid' }, { id: 'mid', priorityWeight: 3 });
    }),
  );
  const late = compile(dag('pool_late', { taskQueue: TQ }, ({ task }) => void task(echo, { label: 'late' }, { id: 'low_late', pool: POOL.prio })));
  const runs = [await start(blocker)];
  await until(POOL.prio, (g) => g.holders.length === 1, 'the blocker to hold the slot');
  runs.push(await start(weighted));
  await until(POOL.prio, (g) => g.waiting.length === 3, 'three weighted asks');
  runs.push(await start(late));
  const line = await until(POOL.prio, (g) => g.waiting.length === 4, 'the late ask');
  const taskOf = (key: string) => /\/([a-z_]+)#/.exec(key)?.[1];
  assert.deepEqual(line.waiting.map((w) => taskOf(w.key)), ['high', 'mid', 'low_early', 'low_late'], 'the line as the gate keeps it');

  await Promise.all(runs.map((r) => r.handle.result()));
  const rows: Array<{ task_id: string }> = await worker.resources.warehouse('sluice.task_attempts').whereIn('run_id', runs.slice(1).map((r) => r.runId)).orderBy('started_at').select('task_id');
  assert.deepEqual(rows.map((r) => r.task_id), ['high', 'mid', 'low_early', 'low_late'], 'the order they ran in');
});

test('`sluice pools set` resizes a running pool: more tasks go in; the state and "why" say what they wait for', { timeout: 60_000 }, async () => {
  const set = await runCli(['pools', 'set', POOL.resize, '1', '--description', 'resize test', '--json']);
  assert.equal(set.code, 0, set.stderr);
  assert.deepEqual(JSON.parse(set.stdout), { name: POOL.resize, slots: 1, description: 'resize test', updatedAt: JSON.parse(set.stdout).updatedAt, inUse: 0, waiting: 0, live: true });
  const spec = compile(
    dag('pool_resize', { taskQueue: TQ, pool: POOL.resize }, ({ task }) => {
      for (const n of [1, 2, 3]) task(sleepFor, { ms: 8_000 }, { id: `sleep${n}` });
    }),
  );
  const run = await start(spec);
  const gateNow = await until(POOL.resize, (g) => g.holders.length === 1 && g.waiting.length === 2, 'one holder and two waiting');
  const status = await waitForStatus(run.handle, (s) => s.tasks.filter((t) => t.state === 'queued' && t.waitingFor).length === 2);
  const why = whyNotRunning({ spec, runId: run.runId, pools: { [POOL.resize]: gateNow }, run: status, attempts: [], now: new Date() });
  const first = why.tasks.find((t) => t.state === 'queued');
  assert.match(first?.reason ?? '', new RegExp(`waits for pool ${POOL.resize} \\(1 of 1 slots in use, position [12] of 2; asks 1 slot, since `));

  const listed = await runCli(['pools', 'list', '--json']);
  assert.equal(listed.code, 0, listed.stderr);
  const row = (JSON.parse(listed.stdout) as { pools: Array<{ name: string; slots: number; inUse: number; waiting: number }> }).pools.find((p) => p.name === POOL.resize);
  assert.deepEqual({ slots: row?.slots, inUse: row?.inUse, waiting: row?.waiting }, { slots: 1, inUse: 1, waiting: 2 });
  assert.ok((JSON.parse(listed.stdout) as { pools: Array<{ name: string }> }).pools.some((p) => p.name === 'default_pool'), 'default_pool is always listed');

  const resized = await runCli(['pools', 'set', POOL.resize, '3']);
  assert.equal(resized.code, 0, resized.stderr);
  assert.match(resized.stdout, new RegExp(`pool ${POOL.resize}: 3 slots`));
  // The first task may have ended meanwhile: whatever is left now runs at once.
  const resizedAt = Date.now();
  const admitted = await until(POOL.resize, (g) => g.waiting.length === 0 && g.holders.length >= 2, 'the waiting tasks to go in');
  assert.ok(Date.now() - resizedAt < 5_000, `let in ${Date.now() - resizedAt} ms after the resize`);
  assert.equal(admitted.size, 3);
  const kept = await worker.resources.warehouse('sluice.pools').where({ name: POOL.resize }).first('description');
  assert.equal(kept?.description, 'resize test', 'a resize without --description keeps it');

  for (const [args, why] of [
    [['pools', 'set', 'no spaces', '3'], /pool name 'no spaces' must be 1 to 100 letters/],
    [['pools', 'set', POOL.resize, '10001'], /slots must be a whole number from 0 to 10000, got '10001'/],
    [['pools', 'set', POOL.resize, '2.5'], /slots must be a whole number/],
  ] as const) {
    const bad = await runCli([...args]);
    assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, why);
  }
  assert.equal((await run.handle.result()).state, 'success');
});

test('a run that continues as new while tasks wait for their pool asks again from the new execution, and leaves nothing behind', { timeout: 60_000 }, async () => {
  await setPool(worker.resources.warehouse, worker.client, { name: POOL.moved, slots: 1 });
  const blocker = await start(compile(dag('pool_moved_blocker', { taskQueue: TQ }, ({ task }) => void task(sleepFor, { ms: 4_000 }, { pool: POOL.moved }))));
  await until(POOL.moved, (g) => g.holders.length === 1, 'the blocker to hold the slot');
  const spec = compile(
    dag('pool_moved', { taskQueue: TQ }, ({ task, map }) => {
      // Unpooled instances fill the history while the pooled task and instances wait.
      map(double, { over: task(range, { n: 40 }, { id: 'many' }), input: (n) => ({ value: n }) }, { id: 'busy' });
      map(double, { over: task(range, { n: 3 }, { id: 'few' }), input: (n) => ({ value: n }) }, { id: 'pooled_map', pool: POOL.moved });
      task(echo, { label: 'pooled' }, { id: 'pooled', pool: POOL.moved });
    }),
  );
  const handle = await worker.client.workflow.start('dagRun', {
    workflowId: `pool_moved-${uniqueLogicalDate().toISOString()}`,
    taskQueue: TQ,
    args: [{ spec, logicalDate: uniqueLogicalDate().toISOString(), params: {}, trigger: 'manual', continueAsNewAfterEvents: 60 } satisfies DagRunInput],
  });
  started.push(handle.workflowId);
  const first = (await handle.describe()).runId;
  const result = await worker.client.workflow.getHandle(handle.workflowId).result();
  assert.deepEqual(result.tasks, { many: 'success', few: 'success', busy: 'success', pooled_map: 'success', pooled: 'success' });
  assert.notEqual((await worker.client.workflow.getHandle(handle.workflowId).describe()).runId, first, 'the run continued as new');
  assert.equal((await blocker.handle.result()).state, 'success');
  const rows: Array<{ task_id: string }> = await worker.resources.warehouse('sluice.task_attempts').where({ run_id: handle.workflowId }).whereIn('task_id', ['pooled', 'pooled_map']).select('task_id');
  assert.deepEqual(rows.map((r) => r.task_id).sort(), ['pooled', 'pooled_map', 'pooled_map', 'pooled_map'], 'each pooled task and instance ran once');
  await until(POOL.moved, (g) => g.holders.length === 0 && g.waiting.length === 0, 'the pool to be empty: no ask of an earlier execution is left');
});

test('a task asking more slots than its pool has, or naming a pool that does not exist, fails saying so', { timeout: 60_000 }, async () => {
  await setPool(worker.resources.warehouse, worker.client, { name: POOL.small, slots: 2 });
  const spec = compile(
    dag('pool_too_big', { taskQueue: TQ, operatorWindow: '0s' }, ({ task }) => {
      task(echo, { label: 'big' }, { id: 'big', pool: POOL.small, poolSlots: 3 });
      task(echo, { label: 'nowhere' }, { id: 'nowhere', pool: `t-missing-${suffix}` });
      task(echo, { label: 'fits' }, { id: 'fits', pool: POOL.small, poolSlots: 2 });
    }),
  );
  const run = await start(spec);
  await assert.rejects(run.handle.result());
  const status = await run.handle.query(stateQuery);
  const byId = Object.fromEntries(status.tasks.map((t) => [t.id, t]));
  assert.equal(byId.fits?.state, 'success');
  assert.equal(byId.big?.state, 'failed');
  assert.equal(byId.big?.error, `the task asks for 3 slots of pool '${POOL.small}', which has 2: lower its poolSlots or \`sluice pools set ${POOL.small} 3\``);
  assert.equal(byId.nowhere?.state, 'failed');
  assert.equal(byId.nowhere?.error, `pool 't-missing-${suffix}' does not exist: create it with \`sluice pools set t-missing-${suffix} <slots>\``);
  await worker.client.workflow.getHandle(poolGateId(`t-missing-${suffix}`)).terminate('end of test').catch(() => undefined);
});

test('a run terminated while holding the only slot gives it back within the gate\'s check, and the waiting task starts', { timeout: 90_000 }, async () => {
  await setPool(worker.resources.warehouse, worker.client, { name: POOL.ended, slots: 1 });
  // The long tasks run in a worker process of their own, killed at the end: a terminated run
  // does not stop its task, and this file's worker would wait for it as it stops.
  const child = await workerChild(`${TQ}-ended`);
  try {
    const spec = compile(dag('pool_ended', { taskQueue: TQ, pool: POOL.ended }, ({ task }) => void task(sleepFor, { ms: 120_000 }, { taskQueue: `${TQ}-ended` })));
    const holder = await start(spec);
    await until(POOL.ended, (g) => g.holders.length === 1, 'the first run to hold the slot');
    const waiter = await start(spec);
    await until(POOL.ended, (g) => g.waiting.length === 1, 'the second run to wait');
    // Terminated from outside: the run cannot give its slot back; the gate finds out by itself.
    await holder.handle.terminate('an operator gave up');
    const terminatedAt = Date.now();
    await waitForStatus(waiter.handle, (s) => s.tasks[0]?.state === 'running', 60_000);
    const took = Date.now() - terminatedAt;
    assert.ok(took < 10_000, `the slot came back after ${took} ms`);
    await waiter.handle.terminate('end of test');
  } finally {
    child.kill('SIGKILL');
  }
});

test('the console: GET /api/pools and PUT /api/pools/:name, with 400s that name the field and a 401 without a token; the /pools page', { timeout: 30_000 }, async () => {
  const call = (method: string, url: string, body?: unknown, token = true) =>
    fetch(`${origin}${url}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${TOKEN}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const put = await call('PUT', `/api/pools/${POOL.api}`, { slots: 5, description: 'api test' });
  assert.equal(put.status, 200);
  const saved = (await put.json()) as { name: string; slots: number; description: string };
  assert.deepEqual([saved.name, saved.slots, saved.description], [POOL.api, 5, 'api test']);
  const list = (await (await call('GET', '/api/pools')).json()) as { pools: Array<{ name: string; slots: number; inUse: number; waiting: number }> };
  assert.deepEqual(list.pools.find((p) => p.name === POOL.api), { name: POOL.api, slots: 5, description: 'api test', updatedAt: (list.pools.find((p) => p.name === POOL.api) as { updatedAt?: string }).updatedAt, inUse: 0, waiting: 0, live: true });

  const badSlots = await call('PUT', `/api/pools/${POOL.api}`, { slots: -1 });
  assert.equal(badSlots.status, 400);
  assert.ok(((await badSlots.json()) as { fields: Record<string, string> }).fields.slots);
  const badName = await call('PUT', '/api/pools/no%20spaces', { slots: 1 });
  assert.equal(badName.status, 400);
  assert.ok(((await badName.json()) as { fields: Record<string, string> }).fields.name);
  const unknownKey = await call('PUT', `/api/pools/${POOL.api}`, { slots: 1, size: 2 });
  assert.equal(unknownKey.status, 400);
  assert.equal((await call('GET', '/api/pools', undefined, false)).status, 401);
  assert.equal((await call('PUT', `/api/pools/${POOL.api}`, { slots: 1 }, false)).status, 401);
  assert.equal((await worker.resources.warehouse('sluice.pools').where({ name: POOL.api }).first('slots'))?.slots, 5, 'refused requests changed nothing');

  // The /pools page's form posts the name in the body; an empty description keeps the old one.
  const formPost = await call('POST', '/api/pools', { name: POOL.api, slots: 6, description: '' });
  assert.equal(formPost.status, 200);
  assert.deepEqual(((await formPost.json()) as { slots: number; description: string; location: string }).location, '/pools');
  assert.equal((await worker.resources.warehouse('sluice.pools').where({ name: POOL.api }).first('description'))?.description, 'api test');
  const badPost = await call('POST', '/api/pools', { name: 'no spaces', slots: 'many' });
  assert.equal(badPost.status, 400);
  assert.deepEqual(Object.keys(((await badPost.json()) as { fields: Record<string, string> }).fields).sort(), ['name', 'slots']);
  assert.equal((await call('POST', '/api/pools', { name: POOL.api, slots: 1 }, false)).status, 401);
  await call('PUT', `/api/pools/${POOL.api}`, { slots: 5 });

  const html = await fetch(`${origin}/pools`, { headers: { authorization: `Bearer ${TOKEN}`, accept: 'text/html' } });
  assert.equal(html.status, 200);
  const text = await html.text();
  assert.match(text, new RegExp(`<tr data-pool="${POOL.api}"><td data-label="pool"><code>${POOL.api}</code></td><td data-label="slots">5</td>`));
  assert.ok(!/<script>|style=/.test(text), 'no inline script or style');
  assert.match(text, /<form id="set-pool" class="stack" novalidate data-api="\/api\/pools">/);
});
