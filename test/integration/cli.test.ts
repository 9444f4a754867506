/**
 * The `sluice` CLI as scripts use it: `--json` output and exit codes (0 ok, 1 failed, 2 bad
 * input, 3 unreachable), against the test stack. DAGs come from test/fixtures/dags through
 * SLUICE_DAGS_DIR, so schedule and backfill commands have a scheduled DAG to work on.
 */
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { runCli } from '../support/cli';
import { testTemporal } from '../support/env';

const env = { ...process.env, SLUICE_DAGS_DIR: path.resolve(__dirname, '../fixtures/dags') };
const cli = (...args: string[]) => runCli(args, env);
const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

after(async () => {
  await runCli(['schedules', 'sync'], { ...env, SLUICE_DAGS_DIR: await mkdtemp(path.join(os.tmpdir(), 'no-dags-')) });
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
    const errors = (json(result.stdout.split('\n{"error"')[0] ?? '').errors ?? []) as string[];
    assert.ok(errors.some((e) => e.includes('twice.ts') && e.includes("task 'probeWarehouse'") && /duplicate/i.test(e)), errors.join('\n'));
    assert.ok(errors.some((e) => e.includes('twice.ts') && /cron/i.test(e)), errors.join('\n'));
  });

  test('bad input exits 2 with a message naming the problem; nothing starts', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['trigger', 'no_such_dag'], /unknown DAG 'no_such_dag'/],
      [['trigger', 'scheduled_check', '--date', 'yesterday'], /invalid date 'yesterday'/],
      [['trigger', 'scheduled_check', '--conf', '{"region":"eu"}'], /param 'region': unknown param/],
      [['trigger', 'scheduled_check', '--conf', '{oops'], /--conf is not valid JSON/],
      [['backfill', 'scheduled_check', '--from', '2025-02-01', '--to', '2025-01-01'], /is after --to/],
      [['backfill', 'scheduled_check', '--from', '2020-01-01', '--to', '2025-01-01'], /raise --max-dates/],
      [['runs', 'scheduled_check', '--state', 'exploded'], /--state must be one of/],
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
});
