/**
 * Run bookkeeping off the critical path (issue 8, items 1-3 and 11), on the test stack's Postgres
 * and Temporal: the worker's attempt journal (bounded, retried, flushed on close), the run's own
 * `recordAttempts` filling gaps in `sluice.task_attempts`, and the bookkeeper that records runs
 * closed outside Sluice. The outage itself, under running DAGs, is postgres-outage.test.ts.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { Knex } from 'knex';
import pino from 'pino';
import { writeAttempts, type AttemptKey } from '../../activities/runtime/attempt-history';
import { AttemptJournal } from '../../activities/runtime/attempt-journal';
import { createOutputStore } from '../../activities/runtime/outputs';
import { createSystemActivities, RECORDED_BY_RUN } from '../../activities/system';
import { dag } from '../../dags/sdk';
import { createKnex } from '../../infra/db/knex';
import { findFreePorts } from '../../infra/dev-stack/ports';
import { startBookkeeper, type BookkeeperOptions } from '../../workers/bookkeeper';
import { sleepFor, testTasks } from '../fixtures/tasks';
import { compileOrThrow, startRun } from '../support/dag-runs';
import { testConfig, testS3Client } from '../support/env';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-run-bookkeeping';
let db: Knex;

before(() => {
  db = createKnex(testConfig().postgres.databaseUrl, { maxConnections: 4 });
});
after(async () => {
  await db.destroy();
});

/** A logger that keeps its lines, to assert on what was said (and how often). */
function capturingLogger() {
  const lines: Array<{ level: number; msg: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), count: (text: string) => lines.filter((l) => l.msg.includes(text)).length };
}

const attemptsOf = (temporalRunId: string) =>
  db.withSchema('sluice').table('task_attempts').where('temporal_run_id', temporalRunId).orderBy(['task_id', 'map_index', 'attempt']);

/** A port nothing listens on: a server that is down. */
async function unusedPort(): Promise<number> {
  const [port] = await findFreePorts(1);
  assert.ok(port);
  return port;
}

async function until<T>(probe: () => Promise<T | undefined | false>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(200);
  }
}

describe('recordAttempts', () => {
  test('fills in missing rows and closes rows left running, never touching a closed row, keeping logs', async () => {
    const temporalRunId = `record-${randomUUID()}`;
    const base = { temporal_run_id: temporalRunId, run_id: 'record_attempts-run', dag_id: 'record_attempts', map_index: -1, attempt: 1 };
    await db.withSchema('sluice').table('task_attempts').insert([
      { ...base, task_id: 'left_running', state: 'running', started_at: '2026-01-01T00:00:01Z', worker: 'w1', logs: JSON.stringify([{ msg: 'half way' }]) },
      {
        ...base, task_id: 'closed', state: 'failed', started_at: '2026-01-01T00:00:01Z', ended_at: '2026-01-01T00:00:03Z',
        error: "the worker's verdict", worker: 'w1', logs: JSON.stringify([{ msg: 'done' }]),
      },
    ]);
    const s3 = testS3Client();
    const system = createSystemActivities({ db, outputs: createOutputStore(s3, testConfig().s3.bucket) });
    s3.destroy(); // recordAttempts never reads outputs
    const seen = (taskId: string, extra: object = {}) =>
      ({ taskId, attempt: 1, state: 'success', startedAt: '2026-01-01T00:00:01Z', endedAt: '2026-01-01T00:00:05Z', ...extra }) as const;
    const batch = {
      temporalRunId,
      runId: base.run_id,
      dagId: base.dag_id,
      attempts: [
        seen('missing'),
        seen('left_running'),
        seen('closed'),
        seen('mapped', { mapIndex: 2, state: 'failed', error: 'instance failed\u0000' }),
      ],
    };
    await system.recordAttempts(batch);
    await system.recordAttempts(batch); // the workflow retries until a call succeeds: twice is once

    const rows = await attemptsOf(temporalRunId);
    const view = rows.map((r) => [r.task_id, r.map_index, r.state, r.error, r.worker, r.logs, new Date(r.ended_at).toISOString()]);
    assert.deepEqual(view, [
      ['closed', -1, 'failed', "the worker's verdict", 'w1', [{ msg: 'done' }], '2026-01-01T00:00:03.000Z'],
      ['left_running', -1, 'success', null, 'w1', [{ msg: 'half way' }], '2026-01-01T00:00:05.000Z'],
      ['mapped', 2, 'failed', 'instance failed', RECORDED_BY_RUN, [], '2026-01-01T00:00:05.000Z'],
      ['missing', -1, 'success', null, RECORDED_BY_RUN, [], '2026-01-01T00:00:05.000Z'],
    ]);

    // The worker's own record, arriving late: the run's verdict stays, its log lines and name go in.
    const key: AttemptKey = { temporalRunId, runId: base.run_id, dagId: base.dag_id, taskId: 'missing', mapIndex: -1, attempt: 1 };
    const logs = [{ at: '2026-01-01T00:00:02Z', level: 'info' as const, msg: 'late but kept' }];
    await writeAttempts(db, 'w2', [{ key, startedAt: new Date('2026-01-01T00:00:01.5Z'), end: { state: 'failed', endedAt: new Date('2026-01-01T00:00:09Z'), logs } }]);
    const [late] = (await attemptsOf(temporalRunId)).filter((r) => r.task_id === 'missing');
    assert.deepEqual([late.state, late.worker, late.logs, new Date(late.ended_at).toISOString()], ['success', 'w2', logs, '2026-01-01T00:00:05.000Z']);
  });
});

describe('the attempt journal', () => {
  test('keeps at most its bound while the database is down, says so once, and writes the rest when it is back', async () => {
    const closedPort = await unusedPort();
    const down = createKnex(`postgres://postgres:postgres@127.0.0.1:${closedPort}/sluice`, { maxConnections: 1 });
    let target = down;
    const { logger, count } = capturingLogger();
    const journal = new AttemptJournal({ write: (records) => writeAttempts(target, 'journal-test', records), logger, maxRecords: 3, firstRetryMs: 50, maxRetryMs: 200 });
    const temporalRunId = `journal-${randomUUID()}`;
    const key = (taskId: string): AttemptKey => ({ temporalRunId, runId: 'journal-run', dagId: 'journal', taskId, mapIndex: -1, attempt: 1 });
    const startedAt = new Date();
    try {
      for (const id of ['t1', 't2', 't3', 't4', 't5']) journal.started(key(id), startedAt);
      // t5's start and end are one record; the bound drops the oldest starts, t1 and t2.
      journal.finished(key('t5'), startedAt, { state: 'success', logs: [{ at: startedAt.toISOString(), level: 'info', msg: 'with a NUL \u0000 in it' }] });
      journal.finished(key('t4'), startedAt, { state: 'failed', error: 'broke', logs: [] });
      assert.equal(journal.size, 3);
      await sleep(1_000); // several failed writes
      assert.equal(count('cannot write to the database'), 1, 'the outage is logged once');
      assert.equal(count('dropping the oldest'), 1, 'the overflow is logged once');

      target = db;
      await journal.close(10_000);
      assert.equal(journal.size, 0);
      assert.equal(count('the database is back'), 1);
      const rows = await attemptsOf(temporalRunId);
      assert.deepEqual(
        rows.map((r) => [r.task_id, r.state, r.error, r.logs.map((l: { msg: string }) => l.msg)]),
        [
          ['t3', 'running', null, []],
          ['t4', 'failed', 'broke', []],
          ['t5', 'success', null, ['with a NUL  in it']],
        ],
      );
    } finally {
      await down.destroy();
    }
  });
});

describe('the bookkeeper', () => {
  let w: TestWorker;
  before(async () => {
    w = await startTestWorker(testTasks, TQ);
  });
  after(async () => {
    await w?.stop();
  });

  test('records a run terminated outside Sluice as failed, and rides out Postgres and Temporal being down', { timeout: 90_000 }, async () => {
    const spec = compileOrThrow(dag('terminated_outside', { taskQueue: TQ }, ({ task }) => void task(sleepFor, { ms: 5_000 })), testTasks);
    const run = await startRun(w.client, spec);
    const { run_id: runId, temporal_run_id: temporalRunId } = await until(
      () => db.withSchema('sluice').table('dag_runs').where({ run_id: run.runId, state: 'running' }).first(),
      'the run to be recorded as running',
      30_000,
    );
    await run.handle.terminate('terminated by hand, as with `temporal workflow terminate`');
    const closeTime = (await run.handle.describe()).closeTime;
    const row = () => db.withSchema('sluice').table('dag_runs').where({ temporal_run_id: temporalRunId }).first();

    const closedPort = await unusedPort();
    const fast: Omit<BookkeeperOptions, 'log'> = { databaseUrl: testConfig().postgres.databaseUrl, temporal: testConfig().temporal, intervalMs: 300, staleAfterMs: 500 };

    // Temporal unreachable: the row stays as it is, and that is said once, however many rounds.
    const noTemporal = capturingLogger();
    const withoutTemporal = startBookkeeper({ ...fast, temporal: { ...fast.temporal, address: `127.0.0.1:${closedPort}` }, log: noTemporal.logger });
    await sleep(12_000); // each round gives up connecting after 5 s: two or three rounds
    await withoutTemporal.stop();
    assert.equal(noTemporal.count('cannot reach Temporal'), 1);
    assert.equal((await row()).state, 'running');

    // Postgres unreachable: the same.
    const noPostgres = capturingLogger();
    const withoutPostgres = startBookkeeper({ ...fast, databaseUrl: `postgres://postgres:postgres@127.0.0.1:${closedPort}/sluice`, log: noPostgres.logger });
    await sleep(2_000);
    await withoutPostgres.stop();
    assert.equal(noPostgres.count('cannot reach Postgres'), 1);

    // Both there: the run is recorded as failed, when and why Temporal closed it.
    const { logger } = capturingLogger();
    const bookkeeper = startBookkeeper({ ...fast, log: logger });
    const started = Date.now();
    try {
      const closed = await until(async () => ((await row()).state === 'failed' ? row() : undefined), 'the run to be recorded as failed', 40_000);
      assert.equal(closed.reason, 'terminated');
      assert.equal(closed.run_id, runId);
      assert.equal(new Date(closed.ended_at).toISOString(), closeTime?.toISOString());
      assert.ok(Date.now() - started < 40_000);
    } finally {
      await bookkeeper.stop();
    }
  });
});
