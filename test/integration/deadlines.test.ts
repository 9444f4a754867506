/**
 * Run deadlines and the `notifyWebhook` alert (issue 11) on the real stack, with a real HTTP
 * server as the webhook: a run still going at its deadline fires its onDeadlineMiss callback
 * exactly once (across a continue-as-new too) and goes on to succeed; a run that ends first fires
 * none; the webhook gets Slack-shaped JSON; a webhook answering 500 fails the attempt.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { deadlineAt } from '../../activities/deadline';
import { notifyWebhook, type SlackMessage } from '../../activities/notify';
import { callback, compileDag, dag } from '../../dags/sdk';
import { startDagRun } from '../../server/client/start-run';
import { formatLogicalDate, runIdFor } from '../../server/client/run-id';
import type { dagRun } from '../../workflows/dag-run';
import { stateQuery } from '../../workflows/messages';
import { runSlotsId } from '../../workflows/run-slots';
import { DagIdKey, LogicalDateKey } from '../../workflows/search-attributes';
import { echo, sleepFor, testTasks } from '../fixtures/tasks';
import { compileOrThrow } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-deadlines';
const DAGS = ['dl_miss', 'dl_in_time', 'dl_warn_only'];
const tasks = [...testTasks, notifyWebhook];

let worker: TestWorker;
let server: Server;
/** What the webhook received, and how to answer the next call. */
const received: Array<{ path: string; body: SlackMessage }> = [];
let answer = 200;
const started: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (chunk) => (data += chunk));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body: JSON.parse(data) as SlackMessage });
      res.writeHead(answer).end(answer === 200 ? 'ok' : 'no');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // The task reads these when it runs, in this process (the test worker is in-process).
  process.env.SLUICE_ALERT_WEBHOOK_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T000/B000/secret`;
  process.env.SLUICE_CONSOLE_URL = 'https://sluice.example.com/';
  worker = await startTestWorker(tasks, TQ);
});

after(async () => {
  for (const id of [...started, ...DAGS.map((d) => runSlotsId(d, TQ))]) await worker.client.workflow.getHandle(id).terminate('end of test').catch(() => undefined);
  const db = worker.resources.warehouse;
  await db.withSchema('sluice').table('task_attempts').whereIn('dag_id', DAGS).delete();
  await db.withSchema('sluice').table('dag_runs').whereIn('dag_id', DAGS).delete();
  await worker?.stop();
  await new Promise((resolve) => server.close(resolve));
  delete process.env.SLUICE_ALERT_WEBHOOK_URL;
  delete process.env.SLUICE_CONSOLE_URL;
});

/** Now, to the second: a logical date whose `after` deadline falls that long after the run starts. */
const now = () => new Date(Math.floor(Date.now() / 1000) * 1000);

test('a run still going at its deadline fires onDeadlineMiss exactly once, across a continue-as-new, and goes on to succeed', { timeout: 60_000 }, async () => {
  const spec = compileOrThrow(
    dag('dl_miss', { taskQueue: TQ, deadline: { after: '3s' }, onDeadlineMiss: callback(notifyWebhook, { text: 'dl_miss is late' }) }, ({ task }) => {
      task(sleepFor, { ms: 8_000 });
    }),
    tasks,
  );
  const logicalDate = now();
  const runId = runIdFor('dl_miss', logicalDate);
  // A short history limit: the run continues as new while its task runs, after the miss.
  const handle = await worker.client.workflow.start<typeof dagRun>('dagRun', {
    workflowId: runId,
    taskQueue: TQ,
    args: [{ spec, logicalDate: formatLogicalDate(logicalDate), params: {}, trigger: 'manual', continueAsNewAfterEvents: 20 }],
    typedSearchAttributes: [
      { key: DagIdKey, value: spec.dagId },
      { key: LogicalDateKey, value: logicalDate },
    ],
  });
  started.push(runId);
  assert.equal((await handle.result()).state, 'success');
  assert.notEqual((await handle.describe()).runId, handle.firstExecutionRunId, 'the run continued as new');
  await sleep(1_000);

  const mine = received.filter((r) => r.body.text.includes(runId));
  assert.equal(mine.length, 1, 'one alert');
  const [alert] = mine as [(typeof mine)[number]];
  assert.equal(alert.path, '/hooks/T000/B000/secret');
  const deadline = new Date(logicalDate.getTime() + 3_000).toISOString();
  assert.equal(
    alert.body.text,
    [
      'dl_miss is late',
      `:alarm_clock: *dl_miss* run \`${runId}\` missed its deadline (${deadline}) and is still running.`,
      `Logical date: ${formatLogicalDate(logicalDate)}`,
      `<https://sluice.example.com/runs/${encodeURIComponent(runId)}|Open the run in the console>`,
    ].join('\n'),
  );
  assert.deepEqual(alert.body.blocks, [{ type: 'section', text: { type: 'mrkdwn', text: alert.body.text } }]);
  const status = await handle.query(stateQuery);
  assert.equal(status.state, 'success');
  assert.deepEqual(status.warnings?.map((w) => w.message), [`missed its deadline of 3s after the logical date (${deadline})`]);
});

test('a run that finishes before its deadline fires nothing; a deadline without callback only records a warning', { timeout: 60_000 }, async () => {
  const inTime = compileOrThrow(
    dag('dl_in_time', { taskQueue: TQ, deadline: { after: '1h' }, onDeadlineMiss: callback(notifyWebhook) }, ({ task }) => {
      task(echo, { label: 'quick' });
    }),
    tasks,
  );
  const warnOnly = compileOrThrow(
    dag('dl_warn_only', { taskQueue: TQ, deadline: { after: '1s' } }, ({ task }) => {
      task(sleepFor, { ms: 3_000 });
    }),
    tasks,
  );
  const [a, b] = await Promise.all([
    startDagRun(worker.client, inTime, { logicalDate: now(), params: {}, trigger: 'manual' }),
    startDagRun(worker.client, warnOnly, { logicalDate: now(), params: {}, trigger: 'manual' }),
  ]);
  started.push(a.runId, b.runId);
  assert.equal((await a.handle.result()).state, 'success');
  assert.equal((await b.handle.result()).state, 'success');
  await sleep(1_000);
  assert.deepEqual(received.filter((r) => r.body.text.includes(a.runId) || r.body.text.includes(b.runId)), []);
  assert.equal((await a.handle.query(stateQuery)).warnings, undefined);
  assert.match((await b.handle.query(stateQuery)).warnings?.[0]?.message ?? '', /^missed its deadline of 1s after the logical date/);
});

test('notifyWebhook: a failed run names its failed tasks; a 500 fails the attempt; without a URL it only warns', async () => {
  const warnings: string[] = [];
  const log = { debug() {}, info() {}, warn: (_obj: object, msg?: string) => void warnings.push(msg ?? ''), error() {} };
  const ctx = {
    dagId: 'dl_direct',
    runId: 'dl_direct-2026-11-21T06:00:00Z',
    logicalDate: '2026-11-21T06:00:00Z',
    log,
    outcome: { state: 'failed' as const, failedTasks: ['load', 'report'], reason: 'tasks failed' },
  } as unknown as Parameters<typeof notifyWebhook.run>[1];

  answer = 500;
  await assert.rejects(notifyWebhook.run(undefined, ctx), /^Error: alert webhook answered 500 Internal Server Error: no$/);
  answer = 200;
  assert.deepEqual(await notifyWebhook.run(undefined, ctx), { sent: true });
  const last = received.at(-1)?.body.text ?? '';
  assert.match(last, /^:red_circle: \*dl_direct\* run `dl_direct-2026-11-21T06:00:00Z` failed\.\nLogical date: 2026-11-21T06:00:00Z\nFailed tasks: load, report\nReason: tasks failed\n/);

  const url = process.env.SLUICE_ALERT_WEBHOOK_URL;
  delete process.env.SLUICE_ALERT_WEBHOOK_URL;
  try {
    const before = received.length;
    assert.deepEqual(await notifyWebhook.run(undefined, ctx), { sent: false });
    assert.equal(received.length, before);
    assert.deepEqual(warnings, ['SLUICE_ALERT_WEBHOOK_URL is not set: alert not sent']);
  } finally {
    process.env.SLUICE_ALERT_WEBHOOK_URL = url;
  }
});

test('deadline options: at is the first such wall time after the logical date, in the DAG time zone; bad values do not compile', () => {
  assert.equal(deadlineAt(new Date('2026-11-21T02:00:00Z'), '06:00', 'UTC').toISOString(), '2026-11-21T06:00:00.000Z');
  assert.equal(deadlineAt(new Date('2026-11-21T06:00:00Z'), '06:00', 'UTC').toISOString(), '2026-11-22T06:00:00.000Z', 'strictly after');
  // 23:00 UTC is already 00:00 on the 22nd in Berlin (CET): its next 06:00 is that morning.
  assert.equal(deadlineAt(new Date('2026-11-21T23:00:00Z'), '06:00', 'Europe/Berlin').toISOString(), '2026-11-22T05:00:00.000Z');
  // 02:30 does not exist in Berlin on 29 March 2026: it moves forward with the clocks, to 03:30 CEST.
  assert.equal(deadlineAt(new Date('2026-03-29T00:00:00Z'), '02:30', 'Europe/Berlin').toISOString(), '2026-03-29T01:30:00.000Z');

  const problems = (options: Record<string, unknown>) =>
    compileDag(dag('dl_bad', options as never, ({ task }) => void task(echo, { label: 'x' })), { file: 'dags/dl_bad.ts' }).errors.map((e) => e.message);
  assert.match(problems({ deadline: { at: '6am' } }).join('\n'), /deadline\.at must be a 24-hour time 'HH:MM'.*got "6am"/);
  assert.match(problems({ deadline: { at: '24:00' } }).join('\n'), /deadline\.at must be/);
  assert.match(problems({ deadline: { after: -5 } }).join('\n'), /deadline\.after: invalid duration -5/);
  assert.match(problems({ deadline: { at: '06:00', after: '1h' } }).join('\n'), /deadline takes exactly one of at/);
  assert.match(problems({ deadline: { when: '06:00' } }).join('\n'), /unknown deadline option 'when'/);
  assert.match(problems({ onDeadlineMiss: callback(notifyWebhook) }).join('\n'), /onDeadlineMiss needs a deadline/);
  assert.match(problems({ dependsOnPast: 'yes' }).join('\n'), /dependsOnPast must be true or false/);
  assert.deepEqual(problems({ deadline: { at: '06:00' } }), [], 'a deadline without a callback is allowed');
  assert.deepEqual(compileDag(dag('dl_ok', { deadline: { after: '2h' } }, ({ task }) => void task(echo, { label: 'x' }))).spec.deadline, { afterMs: 7_200_000 });
});
