/**
 * The `sluice` CLI as scripts use it: `--json` output and exit codes (0 ok, 1 failed, 2 bad
 * input, 3 unreachable), against the test stack. DAGs come from test/fixtures/dags through
 * SLUICE_DAGS_DIR, so schedule and backfill commands have a scheduled DAG to work on; the tests
 * of logical dates, workers and reruns use DAGs written to a folder of their own (dagFolder):
 * `nobody_*` on a task queue no worker polls, `cli_*` on one this file's worker serves. Failures
 * are one line on stderr (and, with --json, one JSON document on stdout), never a stack.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { dag } from '../../dags/sdk';
import { startDagRun } from '../../server/client/start-run';
import { serverFailure } from '../../server/client/server-failures';
import { backfillQueue } from '../../workflows/backfill';
import { stateQuery } from '../../workflows/messages';
import { echo, testTasks } from '../fixtures/tasks';
import { runCli } from '../support/cli';
import { compileOrThrow } from '../support/dag-runs';
import { testConfig, testTemporal } from '../support/env';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const env = { ...process.env, SLUICE_DAGS_DIR: path.resolve(__dirname, '../fixtures/dags') };
const cli = (...args: string[]) => runCli(args, env);
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

const NO_WORKER_QUEUE = 'cli-nobody';
const WORKER_QUEUE = 'test-cli';
const ECHO_DATE = 'task(echo, { label: ctx.logicalDate })';
const DAGS: Record<string, { queue: string; options: string; body?: string }> = {
  nobody_daily: { queue: NO_WORKER_QUEUE, options: `schedule: '0 6 * * *', timezone: 'Europe/Berlin'` },
  nobody_hourly: { queue: NO_WORKER_QUEUE, options: `schedule: '0 * * * *'` },
  nobody_weekly: { queue: NO_WORKER_QUEUE, options: `schedule: '0 6 * * 1', timezone: 'Europe/Berlin'` },
  nobody_manual: { queue: NO_WORKER_QUEUE, options: '' },
  cli_echo: { queue: WORKER_QUEUE, options: '' },
  cli_daily: { queue: WORKER_QUEUE, options: `schedule: '0 6 * * *', timezone: 'Europe/Berlin'` },
  cli_fails: { queue: WORKER_QUEUE, options: '', body: "task(alwaysFail, { message: 'partner file is broken' })" },
  cli_params: { queue: WORKER_QUEUE, options: `schedule: '0 6 * * *', params: z.object({ region: z.string().default('eu') })`, body: "task(echo, { label: params.field('region') })" },
};
let dagFolder: string;
const tcli = (...args: string[]) => runCli(args, { ...env, SLUICE_DAGS_DIR: dagFolder });
let workers: TestWorker[] = [];
/** Workflows started on the queue no worker polls, terminated at the end. */
const orphans: string[] = [];

before(async () => {
  dagFolder = await mkdtemp(path.join(os.tmpdir(), 'cli-dags-'));
  const sdk = path.resolve(__dirname, '../../dags/sdk');
  const tasks = path.resolve(__dirname, '../fixtures/tasks');
  for (const [dagId, { queue, options, body }] of Object.entries(DAGS)) {
    await writeFile(
      path.join(dagFolder, `${dagId}.ts`),
      `import { dag, z } from '${sdk}';\nimport { alwaysFail, echo } from '${tasks}';\n` +
        `export default dag('${dagId}', { taskQueue: '${queue}', ${options} }, ({ task, ctx, params }) => { ${body ?? ECHO_DATE}; });\n`,
    );
  }
  workers = await Promise.all([startTestWorker(testTasks, WORKER_QUEUE), startTestWorker(testTasks, backfillQueue(WORKER_QUEUE))]);
});

after(async () => {
  await runCli(['schedules', 'sync'], { ...env, SLUICE_DAGS_DIR: await mkdtemp(path.join(os.tmpdir(), 'no-dags-')) });
  const { client, connection } = await testTemporal();
  try {
    for (const id of orphans) await client.workflow.getHandle(id).terminate('end of test').catch(() => undefined);
  } finally {
    await connection.close();
  }
  await Promise.all(workers.map((w) => w.stop()));
  await rm(dagFolder, { recursive: true, force: true });
});

describe('sluice CLI', () => {
  test('dags list and validate succeed on a good folder', async () => {
    const listed = await cli('dags', 'list', '--json');
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((json(listed.stdout).dags as Array<{ dagId: string }>).map((d) => d.dagId), ['scheduled_check']);
    assert.equal((await cli('dags', 'validate')).code, 0);
  });

  test('dags validate names the file and task of each problem and exits 1', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'bad-dags-'));
    const sdk = path.resolve(__dirname, '../../dags/sdk');
    const tasks = path.resolve(__dirname, '../../activities/stack-check');
    await writeFile(
      path.join(dir, 'twice.ts'),
      `import { dag } from '${sdk}';\nimport { probeWarehouse } from '${tasks}';\nexport default dag('twice', { schedule: '61 * * * *' }, ({ task }) => { task(probeWarehouse, {}); task(probeWarehouse, {}); });\n`,
    );
    const result = await runCli(['dags', 'validate', '--json'], { ...env, SLUICE_DAGS_DIR: dir });
    assert.equal(result.code, 1);
    const report = json(result.stdout);
    assert.deepEqual([report.valid, report.error, report.exitCode], [false, 'DAG validation failed with 2 problem(s)', 1], 'one JSON document, with the failure');
    const errors = (report.errors ?? []) as string[];
    assert.ok(errors.some((e) => e.includes('twice.ts') && e.includes("task 'probeWarehouse'") && /duplicate/i.test(e)), errors.join('\n'));
    assert.ok(errors.some((e) => e.includes('twice.ts') && /cron/i.test(e)), errors.join('\n'));
  });

  test('bad input exits 2 with a message naming the problem; nothing starts', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['trigger', 'no_such_dag'], /unknown DAG 'no_such_dag'/],
      [['trigger', 'scheduled_check', '--date', 'yesterday'], /invalid date 'yesterday'/],
      [['trigger', 'scheduled_check', '--conf', '{"region":"eu"}'], /param 'region': unknown param/],
      [['trigger', 'scheduled_check', '--conf', '{oops'], /--conf is not valid JSON/],
      [['backfill', 'scheduled_check', '--from', '2025-02-01', '--to', '2025-01-01'], /from 2025-02-01 is after to 2025-01-01/],
      [['backfill', 'scheduled_check', '--from', '2020-01-01', '--to', '2025-01-01'], /raise --max-dates/],
      [['runs', 'scheduled_check', '--state', 'exploded'], /--state must be one of/],
      // Impossible and empty dates, wherever a date is typed; an empty --date is not "now".
      [['trigger', 'scheduled_check', '--date', ''], /--date: invalid date '': use YYYY-MM-DD/],
      [['trigger', 'scheduled_check', '--date', '2026-02-30'], /--date: invalid date '2026-02-30': no such day/],
      [['trigger', 'scheduled_check', '--date', '2026-02-30T03:00:00Z'], /--date: invalid date '2026-02-30': no such day/],
      [['backfill', 'scheduled_check', '--from', '2026-02-30', '--to', '2026-03-02'], /--from: invalid date '2026-02-30': no such day/],
      [['backfill', 'scheduled_check', '--from', '2026-02-01', '--to', ''], /--to: invalid date '': use YYYY-MM-DD/],
      [['dags', 'test', 'scheduled_check', '--date', '2026-02-30'], /invalid date '2026-02-30': no such day/],
      [['dags', 'test', 'scheduled_check', '--date', ''], /invalid date '': use YYYY-MM-DD/],
    ];
    for (const [args, message] of cases) {
      const result = await cli(...args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });

  test('an unreachable Temporal exits 3', async () => {
    const result = await runCli(['retry', 'x-2026-01-01T00:00:00Z'], { ...env, TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /cannot reach Temporal at 127.0.0.1:1/);
  });

  test('backfill --dry-run lists every date and what would happen, and starts nothing', async () => {
    const result = await cli('backfill', 'scheduled_check', '--from', '2025-01-01', '--to', '2025-01-30', '--dry-run', '--json');
    assert.equal(result.code, 0, result.stderr);
    const plan = json(result.stdout).dates as Array<{ logicalDate: string; action: string }>;
    assert.equal(plan.length, 30);
    assert.equal(plan[0]?.logicalDate, '2025-01-01T03:00:00Z');
    assert.ok(plan.every((p) => p.action === 'run'));
    const { client, connection } = await testTemporal();
    try {
      const started: string[] = [];
      for await (const w of client.workflow.list({ query: `DagId = 'scheduled_check'` })) started.push(w.workflowId);
      assert.deepEqual(started, []);
    } finally {
      await connection.close();
    }
  });

  test('schedules sync, list, pause with a note, and unpause with a preview', async () => {
    const synced = await cli('schedules', 'sync', '--json');
    assert.equal(synced.code, 0, synced.stderr);
    assert.ok((json(synced.stdout).created as string[]).includes('scheduled_check') || (json(synced.stdout).unchanged as string[]).includes('scheduled_check'));
    assert.equal((await cli('schedules', 'pause', 'scheduled_check', '--note', 'maintenance')).code, 0);
    const listed = json((await cli('schedules', 'list', '--json')).stdout).schedules as Array<Record<string, unknown>>;
    assert.deepEqual(
      { paused: listed[0]?.paused, note: listed[0]?.note, cron: listed[0]?.cron, timezone: listed[0]?.timezone },
      { paused: true, note: 'maintenance', cron: '0 3 * * *', timezone: 'UTC' },
    );
    const unpaused = await cli('schedules', 'unpause', 'scheduled_check', '--json');
    assert.equal(unpaused.code, 0, unpaused.stderr);
    assert.equal(json(unpaused.stdout).runsStartedNow, 0);
    const after = json((await cli('schedules', 'list', '--json')).stdout).schedules as Array<Record<string, unknown>>;
    assert.equal(after[0]?.paused, false);
  });

  test('config --json prints the settings with secrets redacted', async () => {
    const result = await cli('config', '--json');
    assert.equal(result.code, 0, result.stderr);
    const config = json(result.stdout) as { s3: { secretAccessKey: string; endpoint: string } };
    assert.equal(config.s3.secretAccessKey, '***');
    assert.equal(config.s3.endpoint, process.env.S3_ENDPOINT);
  });

  test('a bare --date is the fire time of that day in the DAG\'s zone, the date backfill and the schedule use', async () => {
    const winter = await tcli('trigger', 'nobody_daily', '--date', '1995-03-01', '--json');
    assert.equal(winter.code, 0, winter.stderr);
    assert.deepEqual(json(winter.stdout), { runId: 'nobody_daily-1995-03-01T05:00:00Z', started: true, logicalDate: '1995-03-01T05:00:00Z', offSchedule: false });
    orphans.push('nobody_daily-1995-03-01T05:00:00Z');
    const plan = await tcli('backfill', 'nobody_daily', '--from', '1995-03-01', '--to', '1995-03-01', '--dry-run', '--json');
    assert.equal(plan.code, 0, plan.stderr);
    assert.deepEqual((json(plan.stdout).dates as Array<{ runId: string }>).map((d) => d.runId), ['nobody_daily-1995-03-01T05:00:00Z']);
    const exact = await tcli('trigger', 'nobody_daily', '--date', '1995-03-01T06:00:00+01:00', '--json');
    assert.deepEqual([exact.code, json(exact.stdout).runId, json(exact.stdout).started], [0, 'nobody_daily-1995-03-01T05:00:00Z', false], 'the same fire, given as an instant');

    const summer = await tcli('trigger', 'nobody_daily', '--date', '1995-07-01', '--json');
    assert.equal(json(summer.stdout).runId, 'nobody_daily-1995-07-01T04:00:00Z', '06:00 CEST');
    orphans.push('nobody_daily-1995-07-01T04:00:00Z');

    const manual = await tcli('trigger', 'nobody_manual', '--date', '1995-03-01', '--json');
    assert.equal(json(manual.stdout).runId, 'nobody_manual-1995-03-01T00:00:00Z', 'an unscheduled DAG: midnight UTC');
    const anyInstant = await tcli('trigger', 'nobody_manual', '--date', '1995-03-01T12:34:56+02:00', '--json');
    assert.equal(json(anyInstant.stdout).runId, 'nobody_manual-1995-03-01T10:34:56Z', 'an unscheduled DAG takes any instant');
    orphans.push('nobody_manual-1995-03-01T00:00:00Z', 'nobody_manual-1995-03-01T10:34:56Z');

    const now = await tcli('trigger', 'nobody_daily');
    assert.equal(now.code, 0, now.stderr);
    const [, nowId] = /^started (\S+) \(off-schedule: an ad-hoc run for now/.exec(now.stdout) ?? [];
    assert.ok(nowId, now.stdout);
    orphans.push(nowId);
  });

  test('a --date that is no fire time, or that fires never or several times that day, is bad input naming the fire times', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['trigger', 'nobody_daily', '--date', '1995-03-01T00:00:00Z'],
        /--date: 1995-03-01T00:00:00Z is not a fire time of nobody_daily \('0 6 \* \* \*' in Europe\/Berlin\); the nearest are 1995-02-28T05:00:00Z and 1995-03-01T05:00:00Z\. Give one of those, or --date YYYY-MM-DD to select that day's fire/,
      ],
      [['trigger', 'nobody_weekly', '--date', '1995-03-01'], /does not fire on 1995-03-01; its next fire time after that day is 1995-03-06T05:00:00Z/],
      [
        ['trigger', 'nobody_hourly', '--date', '1995-03-01'],
        /fires 24 times on 1995-03-01 \(1995-03-01T00:00:00Z, 1995-03-01T01:00:00Z, 1995-03-01T02:00:00Z, …\); give the one you mean as an instant/,
      ],
      [['trigger', 'nobody_daily', '--date', '1995-03-01T06:00:00'], /needs its zone/],
      [['trigger', 'nobody_daily', '--date', '1995-02-30'], /invalid date '1995-02-30': no such day/],
    ];
    for (const [args, message] of cases) {
      const result = await tcli(...args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });

  test('commands that need a worker say that none polls the queue and exit 3 within seconds', async () => {
    const run = await tcli('trigger', 'nobody_daily', '--date', '1995-05-01', '--json');
    const runId = json(run.stdout).runId as string;
    orphans.push(runId);
    const started = await tcli('backfill', 'nobody_daily', '--from', '1995-05-01', '--to', '1995-05-02', '--json');
    assert.equal(started.code, 0, started.stderr);
    const backfillId = json(started.stdout).backfillId as string;
    orphans.push(backfillId);
    assert.equal(backfillId, 'backfill-nobody_daily-1995-05-01T04:00:00Z-1995-05-02T04:00:00Z-1');
    const copy = await tcli('backfill', 'nobody_daily', '--from', '1995-05-01', '--to', '1995-05-02');
    assert.equal(copy.code, 1, 'a running backfill of the same range is not copied');
    assert.match(copy.stderr, new RegExp(`already running: ${backfillId}`));

    const needWorker = [
      ['backfills', 'status', backfillId],
      ['trigger', 'nobody_daily', '--date', '1995-06-01', '--wait'],
      ['backfill', 'nobody_daily', '--from', '1995-06-01', '--to', '1995-06-02', '--wait'],
      ['retry', runId],
      ['mark-success', runId, 'echo'],
      ['fail', runId],
    ];
    for (const args of needWorker) {
      const t0 = Date.now();
      const result = await tcli(...args);
      assert.equal(result.code, 3, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /no worker is polling task queue 'cli-nobody': start `sluice up` \(or `sluice worker`\)/);
      assert.ok(Date.now() - t0 < 8000, `${args.join(' ')} took ${Date.now() - t0} ms`);
    }
    const { client, connection } = await testTemporal();
    try {
      for (const id of ['nobody_daily-1995-06-01T04:00:00Z', 'backfill-nobody_daily-1995-06-01T04:00:00Z-1995-06-02T04:00:00Z-1']) {
        await assert.rejects(client.workflow.getHandle(id).describe(), /not found/i, `${id} was not started`);
      }
    } finally {
      await connection.close();
    }
  });

  test('logs shows the attempts of every execution of a run, oldest first, each under its execution', async () => {
    const first = await tcli('trigger', 'cli_echo', '--date', '2001-01-01', '--wait', '--json');
    assert.equal(first.code, 0, first.stderr);
    const rerun = await tcli('trigger', 'cli_echo', '--date', '2001-01-01', '--rerun', '--wait', '--json');
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.equal(json(rerun.stdout).state, 'success');

    const logs = await tcli('logs', 'cli_echo-2001-01-01T00:00:00Z', 'echo', '--json');
    assert.equal(logs.code, 0, logs.stderr);
    const attempts = json(logs.stdout).attempts as Array<{ execution: { temporalRunId: string; trigger: string; startedAt: string } }>;
    assert.equal(attempts.length, 2, 'one attempt in each execution');
    const [older, newer] = attempts.map((a) => a.execution) as [Execution, Execution];
    assert.notEqual(older.temporalRunId, newer.temporalRunId);
    assert.ok(older.startedAt < newer.startedAt, 'oldest execution first');
    assert.deepEqual([older.trigger, newer.trigger], ['manual', 'manual']);

    const human = await tcli('logs', 'cli_echo-2001-01-01T00:00:00Z', 'echo');
    assert.match(human.stdout, new RegExp(`^execution 1 of 2: ${older.temporalRunId} \\(manual, started ${older.startedAt}\\)\n  attempt 1: success`, 'm'));
    assert.match(human.stdout, new RegExp(`^execution 2 of 2: ${newer.temporalRunId} \\(manual, started ${newer.startedAt}\\)\n  attempt 1: success`, 'm'));
  });

  test('each backfill of a range keeps its own id and status; backfills list finds them; the progress line names each count', async () => {
    const first = await tcli('backfill', 'cli_daily', '--from', '2001-01-01', '--to', '2001-01-03', '--wait');
    assert.equal(first.code, 0, first.stderr);
    const firstId = /^started (\S+)$/m.exec(first.stderr)?.[1] as string;
    assert.equal(firstId, 'backfill-cli_daily-2001-01-01T05:00:00Z-2001-01-03T05:00:00Z-1');
    const bars = first.stderr.split('\n').filter((l) => l.startsWith('cli_daily ['));
    assert.ok(bars.length > 0, first.stderr);
    for (const bar of bars) {
      assert.match(bar, /\] \d\/3 dates done \(\d succeeded, 0 failed, 0 skipped\) · \d runs? in flight · backfill (planning|running|done)$/);
    }
    assert.match(bars.at(-1) as string, /3\/3 dates done \(3 succeeded, 0 failed, 0 skipped\) · 0 runs in flight · backfill done$/);

    const second = await tcli('backfill', 'cli_daily', '--from', '2001-01-01', '--to', '2001-01-03', '--reprocess', 'all', '--wait', '--json');
    assert.equal(second.code, 0, second.stderr);
    const secondId = json(second.stdout).backfillId as string;
    assert.equal(secondId, 'backfill-cli_daily-2001-01-01T05:00:00Z-2001-01-03T05:00:00Z-2');

    const status = await tcli('backfills', 'status', firstId, '--json');
    assert.equal(status.code, 0, status.stderr);
    assert.deepEqual(json(status.stdout).counts, { pending: 0, running: 0, success: 3, failed: 0, skipped: 0 }, "the first backfill's own status");

    let listed: Array<Record<string, unknown>> = [];
    for (const deadline = Date.now() + 20_000; listed.length < 2 && Date.now() < deadline; await sleep(500)) {
      const result = await tcli('backfills', 'list', 'cli_daily', '--json');
      assert.equal(result.code, 0, result.stderr);
      listed = json(result.stdout).backfills as Array<Record<string, unknown>>;
    }
    assert.deepEqual(
      listed.map((b) => [b.backfillId, b.state, b.from, b.to, b.total, b.counts]),
      [secondId, firstId].map((id) => [id, 'done', '2001-01-01T05:00:00Z', '2001-01-03T05:00:00Z', 3, { pending: 0, running: 0, success: 3, failed: 0, skipped: 0 }]),
    );
    const table = await tcli('backfills', 'list', 'cli_daily');
    assert.match(table.stdout, /^BACKFILL +STATE +FROM +TO +DATES +SUCCEEDED +FAILED +SKIPPED +IN FLIGHT +PENDING$/m);
    assert.equal((await tcli('backfills', 'list', 'Not-A-Dag')).code, 2);
  });
});

type Execution = { temporalRunId: string; trigger: string; startedAt: string };

/** The CLI's one line about a failure: `sluice: <message>`, and nothing else on stderr. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${stderr}`);
  assert.match(lines[0] as string, /^sluice: /);
  return (lines[0] as string).slice('sluice: '.length);
}

describe('sluice CLI failures', () => {
  test('operator commands on a wedged run (its workflow task keeps failing) say why in one line and exit 1', async () => {
    const { client, connection } = await testTemporal();
    let runId: string;
    try {
      const spec = compileOrThrow(dag('cli_wedged', { taskQueue: WORKER_QUEUE }, ({ task, ctx }) => { task(echo, { label: ctx.logicalDate }); }), testTasks);
      // Temporal refuses activity ids over 1,000 characters, so the run's workflow task fails on
      // every attempt; `dags validate` refuses such ids now, but runs started before stay wedged.
      const wedged = { ...spec, tasks: spec.tasks.map((t) => ({ ...t, id: 'w'.repeat(1100) })) };
      const run = await startDagRun(client, wedged, { logicalDate: new Date('2001-05-01T00:00:00Z'), params: {}, trigger: 'manual' });
      runId = run.runId;
      orphans.push(runId);
      for (const deadline = Date.now() + 30_000; ; await sleep(250)) {
        assert.ok(Date.now() < deadline, 'the run wedged within 30 s');
        const refused = await run.handle.query(stateQuery).then(
          () => false,
          (err: unknown) => serverFailure(err)?.kind === 'refused',
        );
        if (refused) break;
      }
    } finally {
      await connection.close();
    }
    for (const args of [['fail', runId, '--reason', 'wedged'], ['retry', runId], ['mark-success', runId, 'echo']]) {
      const result = await tcli(...args);
      assert.equal(result.code, 1, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stdout, '');
      assert.match(oneLine(result.stderr), /^Temporal refused: .*Workflow Task in failed state.* The run's workflow task keeps failing \(the worker's log says why\)/);
    }
    const asJson = await tcli('fail', runId, '--json');
    assert.equal(asJson.code, 1);
    const doc = json(asJson.stdout);
    assert.equal(doc.exitCode, 1);
    assert.equal(doc.error, oneLine(asJson.stderr));
  });

  test('trigger --wait --json prints one JSON document when the run fails, saying so, and exits 1', async () => {
    const result = await tcli('trigger', 'cli_fails', '--date', '2001-02-01', '--wait', '--json');
    orphans.push('cli_fails-2001-02-01T00:00:00Z');
    assert.equal(result.code, 1, result.stderr);
    const doc = json(result.stdout);
    assert.deepEqual(
      [doc.runId, doc.state, doc.failedTasks, doc.error, doc.exitCode],
      ['cli_fails-2001-02-01T00:00:00Z', 'awaiting_operator', ['alwaysFail'], 'run cli_fails-2001-02-01T00:00:00Z ended awaiting_operator', 1],
    );
    assert.match(result.stderr, /^sluice: run cli_fails-2001-02-01T00:00:00Z ended awaiting_operator$/m);
  });

  test('an unreachable server or an unexpected error is one line, and with --json one document; the stack only with LOG_LEVEL=debug', async () => {
    const quiet = { ...env, LOG_LEVEL: 'info' };
    const unreachable = await runCli(['runs', 'scheduled_check', '--json'], { ...quiet, DATABASE_URL: 'postgres://sluice:secret@127.0.0.1:1/sluice' });
    assert.equal(unreachable.code, 3, unreachable.stderr);
    const down = json(unreachable.stdout);
    assert.match(down.error as string, /^cannot reach Postgres \(connect ECONNREFUSED 127\.0\.0\.1:1\); is it running, and is DATABASE_URL right\?$/);
    assert.deepEqual([down.exitCode, oneLine(unreachable.stderr)], [3, down.error]);

    // Nothing Sluice knows to name: its message, in one line.
    const url = new URL(testConfig().postgres.databaseUrl);
    url.pathname = '/no_such_database';
    const unexpected = { ...quiet, DATABASE_URL: url.toString() };
    const asJson = await runCli(['runs', 'scheduled_check', '--json'], unexpected);
    assert.equal(asJson.code, 1, asJson.stderr);
    assert.deepEqual(json(asJson.stdout), { error: 'database "no_such_database" does not exist', exitCode: 1 });
    assert.equal(oneLine(asJson.stderr), 'database "no_such_database" does not exist');
    const human = await runCli(['runs', 'scheduled_check'], unexpected);
    assert.deepEqual([human.code, human.stdout, oneLine(human.stderr)], [1, '', 'database "no_such_database" does not exist']);
    const debug = await runCli(['runs', 'scheduled_check'], { ...unexpected, LOG_LEVEL: 'debug' });
    assert.equal(debug.code, 1);
    assert.match(debug.stderr, /^sluice: database "no_such_database" does not exist\n\S*error: database "no_such_database" does not exist\n {4}at /m);
  });

  test('logs of a run Sluice never heard of exits 2; of a known run and an unknown task, 0', async () => {
    const unknown = await tcli('logs', 'cli_echo-1999-01-01T00:00:00Z', 'echo');
    assert.equal(unknown.code, 2, unknown.stderr);
    assert.equal(oneLine(unknown.stderr), 'no such run: cli_echo-1999-01-01T00:00:00Z (sluice.dag_runs has no record of it)');
    assert.equal((await tcli('trigger', 'cli_echo', '--date', '2001-06-01', '--wait')).code, 0);
    const noTask = await tcli('logs', 'cli_echo-2001-06-01T00:00:00Z', 'nope');
    assert.deepEqual([noTask.code, noTask.stdout], [0, 'no attempts of nope recorded\n']);
  });

  test('--conf @file reads params from a file, for trigger, backfill and dags test; a bad file is bad input naming it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cli-conf-'));
    try {
      const files = { good: path.join(dir, 'good.json'), broken: path.join(dir, 'broken.json'), wrong: path.join(dir, 'wrong.json'), missing: path.join(dir, 'missing.json') };
      await writeFile(files.good, '{"region": "us"}\n');
      await writeFile(files.broken, '{"region": ');
      await writeFile(files.wrong, '{"region": 5}');
      for (const command of [
        ['trigger', 'cli_params', '--date', '2001-04-02'],
        ['backfill', 'cli_params', '--from', '2001-04-01', '--to', '2001-04-02', '--dry-run'],
        ['dags', 'test', 'cli_params', '--date', '2001-04-02'],
      ]) {
        const cases: Array<[string, RegExp]> = [
          [files.missing, new RegExp(`^--conf @${files.missing}: cannot read ${files.missing} \\(ENOENT\\)$`)],
          [files.broken, new RegExp(`^--conf @${files.broken}: ${files.broken} is not valid JSON \\(.+\\)$`)],
          [files.wrong, /param 'region': expected string, received number/],
        ];
        for (const [file, message] of cases) {
          const result = await tcli(...command, '--conf', `@${file}`);
          assert.equal(result.code, 2, `${command.join(' ')} @${file}: ${result.stderr}`);
          assert.match(oneLine(result.stderr), message, command.join(' '));
        }
      }

      const triggered = await tcli('trigger', 'cli_params', '--date', '2001-04-01', '--conf', `@${files.good}`, '--wait', '--json');
      assert.equal(triggered.code, 0, triggered.stderr);
      const { client, connection } = await testTemporal();
      try {
        const state = await client.workflow.getHandle(json(triggered.stdout).runId as string).query(stateQuery);
        assert.deepEqual(state.tasks.find((t) => t.id === 'echo')?.output, { label: 'us', task: 'echo', from: null });
      } finally {
        await connection.close();
      }
      const tested = await tcli('dags', 'test', 'cli_params', '--date', '2001-04-03', '--conf', `@${files.good}`, '--json');
      assert.equal(tested.code, 0, tested.stderr);
      assert.deepEqual((json(tested.stdout).tasks as Record<string, { output: unknown }>).echo?.output, { label: 'us', task: 'echo', from: null });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
