/**
 * The README's on-call runbook works as written. Every command block of "Runbook (on-call)" is
 * marked `<!-- runbook:<name> -->`; this file takes each block's text from the README and runs it
 * verbatim in bash against the test stack, with the shell variables the runbook's setup block
 * names (DAG, RUN, QUEUE, the console's URL and token) pointing at runs made here:
 * `runbook_waits`, whose task `load` fails until an S3 object exists, so the run awaits an
 * operator (it has a yearly schedule, for the schedule check), and `runbook_fails`, which has no
 * operator window, so it closes failed. README and test cannot drift: a command block without a
 * marker, or a marker this file does not know, fails the first test.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import pino from 'pino';
import { startDagRun } from '../../server/client/start-run';
import { createConsoleApp } from '../../server/console/app';
import { loadDags } from '../../server/dag-registry';
import { isScheduled, scheduleCreate } from '../../server/schedules/schedule-options';
import type { DagRunStatus } from '../../workflows/messages';
import { testTasks } from '../fixtures/tasks';
import { runProcess, type CliResult } from '../support/cli';
import { uniqueLogicalDate, waitForStatus } from '../support/dag-runs';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const REPO = path.resolve(__dirname, '../..');
const SDK = JSON.stringify(path.resolve(__dirname, '../../dags/sdk'));
const TASKS = JSON.stringify(path.resolve(__dirname, '../fixtures/tasks'));
const TQ = 'test-runbook';
const TOKEN = 'runbook-console-token';
/** The object whose absence breaks `runbook_waits`'s `load`: the "bad partner file" on-call fixes. */
const FIX_KEY = `runbook/${process.pid}-${Date.now()}/fixed`;
/** The blocks this file runs; `setup` and `ui-query` are checked, not run. */
const BLOCKS = ['setup', 'ui-query', 'list-temporal', 'list-sluice', 'why', 'retry-update', 'retry-signal', 'retry-cli', 'retry-console', 'rerun-failed', 'schedule', 'queue', 'quality'];

interface Block {
  name: string;
  code: string;
}

/** The runbook section's fenced blocks, each with the marker before it (or none). */
async function runbookBlocks(): Promise<Array<Block & { marked: boolean }>> {
  const readme = await readFile(path.join(REPO, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Runbook (on-call)\n');
  assert.ok(start >= 0, 'the README has a "Runbook (on-call)" section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  // Blocks may sit in a list item: the marker, fences and code share the item's indent.
  return [...section.matchAll(/^(?:[ \t]*<!-- runbook:([\w-]+) -->\n)?([ \t]*)```\w*\n([\s\S]*?)^\2```$/gm)].map((m) => ({
    marked: m[1] !== undefined,
    name: m[1] ?? '',
    code: (m[3] as string).replace(new RegExp(`^${m[2] ?? ''}`, 'gm'), ''),
  }));
}

let blocks: Map<string, Block>;
let dagFolder: string;
let worker: TestWorker;
let server: Server;
let shellEnv: NodeJS.ProcessEnv;
const runs = { waits: '', fails: '' };

/** Runs one runbook block verbatim in bash (with `-e`, so any failing command fails it), for `run`. */
function runBlock(name: string, run: string): Promise<CliResult> {
  const block = blocks.get(name);
  assert.ok(block, `the runbook has a block marked runbook:${name}`);
  return runProcess('bash', ['-e', '-c', block.code], { cwd: REPO, env: { ...shellEnv, RUN: run } });
}

async function runBlockOk(name: string, run = runs.waits): Promise<string> {
  const result = await runBlock(name, run);
  assert.equal(result.code, 0, `runbook:${name} failed:\n${blocks.get(name)?.code ?? ''}\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

const load = (status: DagRunStatus) => status.tasks.find((t) => t.id === 'load');

/** Waits until the open run is back awaiting an operator after `attempts` attempts of `load`. */
function awaitingAfter(attempts: number): Promise<DagRunStatus> {
  const handle = worker.client.workflow.getHandle(runs.waits);
  return waitForStatus(handle, (s) => s.state === 'awaiting_operator' && load(s)?.attempts === attempts, 20_000);
}

before(async () => {
  blocks = new Map((await runbookBlocks()).filter((b) => b.marked).map((b) => [b.name, b]));
  dagFolder = await mkdtemp(path.join(os.tmpdir(), 'runbook-dags-'));
  const header = `import { dag } from ${SDK};\nimport { alwaysFail, echo, needsObject } from ${TASKS};\n`;
  await writeFile(
    path.join(dagFolder, 'runbook_waits.ts'),
    `${header}export default dag('runbook_waits', { taskQueue: '${TQ}', retries: 0, schedule: '0 0 1 1 *' }, ({ task }) => {
  const extract = task(echo, { label: 'day' }, { id: 'extract' });
  task(needsObject, { key: '${FIX_KEY}' }, { id: 'load' }).after(extract);
});\n`,
  );
  await writeFile(
    path.join(dagFolder, 'runbook_fails.ts'),
    `${header}export default dag('runbook_fails', { taskQueue: '${TQ}', retries: 0, operatorWindow: 0 }, ({ task }) => {
  task(alwaysFail, { message: 'partner file is broken' }, { id: 'load' });
});\n`,
  );
  const specs = loadDags(dagFolder).dags.map((d) => d.spec);
  worker = await startTestWorker(testTasks, TQ);
  await worker.client.schedule.create(scheduleCreate(specs.filter(isScheduled)[0] ?? assert.fail('runbook_waits has a schedule')));
  const app = createConsoleApp({ temporal: worker.client, db: worker.resources.warehouse, token: TOKEN, logger: pino({ level: 'silent' }), dags: () => specs });
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const temporalBin = path.dirname(process.env.TEMPORAL_CLI_PATH ?? assert.fail('TEMPORAL_CLI_PATH is set by npm test'));
  shellEnv = {
    ...process.env,
    PATH: `${temporalBin}${path.delimiter}${process.env.PATH ?? ''}`,
    SLUICE_DAGS_DIR: dagFolder,
    DAG: 'runbook_waits',
    QUEUE: TQ,
    SLUICE_CONSOLE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    SLUICE_CONSOLE_TOKEN: TOKEN,
  };
  for (const spec of specs) {
    const started = await startDagRun(worker.client, spec, { logicalDate: uniqueLogicalDate(), params: {}, trigger: 'manual' });
    runs[spec.dagId === 'runbook_waits' ? 'waits' : 'fails'] = started.runId;
  }
});

after(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (worker) {
    await worker.client.schedule.getHandle('runbook_waits').delete().catch(() => undefined);
    for (const id of Object.values(runs)) await worker.client.workflow.getHandle(id).terminate('end of test').catch(() => undefined);
    await worker.resources.warehouse.withSchema('sluice').table('task_attempts').whereIn('run_id', Object.values(runs)).delete();
    await worker.resources.warehouse.withSchema('sluice').table('dag_runs').whereIn('run_id', Object.values(runs)).delete();
    await worker.resources.s3.send(new DeleteObjectCommand({ Bucket: worker.resources.bucket, Key: FIX_KEY }));
    await worker.stop();
  }
  await rm(dagFolder, { recursive: true, force: true });
});

test('every command block of the runbook is marked, and the setup block names the variables the commands use', async () => {
  const all = await runbookBlocks();
  assert.deepEqual(all.filter((b) => !b.marked).map((b) => b.code), [], 'a runbook block without a <!-- runbook:<name> --> marker is never run');
  assert.deepEqual([...blocks.keys()].sort(), [...BLOCKS].sort());
  const setupVariables = [...(blocks.get('setup') as Block).code.matchAll(/\b([A-Z_]+)=/g)].map((m) => m[1] as string);
  assert.deepEqual(setupVariables.sort(), ['DAG', 'QUEUE', 'RUN', 'SLUICE_CONSOLE_TOKEN', 'SLUICE_CONSOLE_URL']);
  const used = new Set(all.filter((b) => b.name !== 'setup').flatMap((b) => [...b.code.matchAll(/\$\{?([A-Z_]+)/g)].map((m) => m[1] as string)));
  for (const name of used) assert.ok(setupVariables.includes(name), `$${name} is set in the setup block`);
});

test('the UI query finds the run awaiting an operator and the failed one; the other checks answer', async () => {
  const query = (blocks.get('ui-query') as Block).code.trim();
  assert.ok((blocks.get('list-temporal') as Block).code.includes(`'${query}'`), 'the shell listing uses the UI query word for word');
  await awaitingAfter(1);
  await waitForStatus(worker.client.workflow.getHandle(runs.fails), (s) => s.state === 'failed', 20_000);

  const [listed, mine, why, schedule, queue, quality] = await Promise.all([
    listedByTemporal(),
    runBlockOk('list-sluice'),
    runBlockOk('why'),
    runBlockOk('schedule'),
    runBlockOk('queue'),
    runBlockOk('quality'),
  ]);
  assert.ok(listed.includes(runs.waits) && listed.includes(runs.fails), `both runs listed:\n${listed}`);
  assert.match(mine, new RegExp(`^${runs.waits} .* awaiting_operator .* load$`, 'm'), 'Sluice lists the run with its failed task');
  assert.match(why, /attempt 1: failed .*\n\s+error: .*is missing/, 'logs show the error');
  assert.match(schedule, /ScheduleId\s+runbook_waits\n(.*\n)*\s*ActionCounts\s+\{.*"MissedCatchupWindow":0/, 'the schedule and its missed fires');
  assert.match(queue, /^Pollers:\n(.*\n)*.*activity\s+\S+@/m, "the queue lists its worker's pollers");
  assert.ok(Array.isArray((JSON.parse(quality) as { rows?: unknown }).rows), 'the failed quality checks, as JSON rows');
});

/** The listing block's output once visibility (eventually consistent) shows both runs. */
async function listedByTemporal(): Promise<string> {
  let listed = '';
  for (const deadline = Date.now() + 10_000; !(listed.includes(runs.waits) && listed.includes(runs.fails)) && Date.now() < deadline; await sleep(300)) {
    listed = await runBlockOk('list-temporal');
  }
  return listed;
}

// The two runs are independent: one is retried while the other re-runs, which keeps the file short.
describe('operator actions', { concurrency: 2 }, () => {
  test('each retry of the runbook re-runs only the failed task, and the last one, after the fix, completes the run', async () => {
    await awaitingAfter(1);
    const update = await runBlockOk('retry-update');
    assert.match(update, /Result\s+.*tasks:\[load\]/, 'the Update answers what it retried');
    await awaitingAfter(2);
    await runBlockOk('retry-signal');
    await awaitingAfter(3);
    await runBlockOk('retry-cli');
    await awaitingAfter(4);

    await worker.resources.s3.send(new PutObjectCommand({ Bucket: worker.resources.bucket, Key: FIX_KEY, Body: 'fixed' }));
    const answer = JSON.parse(await runBlockOk('retry-console')) as { tasks: string[] };
    assert.deepEqual(answer.tasks, ['load']);
    const done = await waitForStatus(worker.client.workflow.getHandle(runs.waits), (s) => s.state === 'success', 20_000);
    assert.deepEqual(
      done.tasks.map((t) => [t.id, t.state, t.attempts]),
      [
        ['extract', 'success', 1],
        ['load', 'success', 5],
      ],
    );
  });

  test("a failed run's re-run runs its failed task again in a new execution", async () => {
    const first = await worker.client.workflow.getHandle(runs.fails).describe();
    assert.match(await runBlockOk('rerun-failed', runs.fails), /started a new execution/);
    const again = await waitForStatus(worker.client.workflow.getHandle(runs.fails), (s) => s.state === 'failed' && load(s)?.attempts === 2, 20_000);
    assert.match(again.reason ?? '', /no operator window/);
    assert.notEqual((await worker.client.workflow.getHandle(runs.fails).describe()).runId, first.runId);
  });
});
