/**
 * `sluice worker`'s HTTP endpoint (SLUICE_WORKER_HTTP) against the test stack: liveness at once,
 * readiness once its queue polls, `/metrics` with Sluice's counters for the DAG it ran (attempts,
 * duration, rows, lake bytes) beside the Temporal SDK's own, and on SIGTERM not ready any more,
 * then exit 0. The queue and the stop grace come from the environment, not flags.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { test } from 'node:test';
import { findFreePorts } from '../../infra/dev-stack/ports';
import { runCli } from '../support/cli';
import { testConfig, testPgPool, testS3Client } from '../support/env';

const SLUICE = path.resolve(__dirname, '../../server/cli/sluice.js');
const SDK = JSON.stringify(path.resolve(__dirname, '../../dags/sdk'));
const PIPELINE = JSON.stringify(path.resolve(__dirname, '../../activities/lib'));
const DAG_ID = 'worker_health';
const QUEUE = 'worker-health-test';
const LAKE_KEY = `test/worker-health/${process.pid}.csv`;
const BODY = 'id,name\n1,a\n2,b\n3,c\n';

test('sluice worker: /healthz, /readyz through start and SIGTERM, /metrics with Sluice and SDK metrics', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sluice-worker-health-'));
  mkdirSync(path.join(dir, 'tasks'));
  // One pipeline-style task: it writes to the lake and states its rows in lineage, as shipped tasks do.
  writeFileSync(path.join(dir, 'tasks/publish.ts'), `import { defineTask } from ${SDK};
import { lakeDataset, putLakeObject, recordLineage } from ${PIPELINE};
export const publish = defineTask('health_publish', async (_input: unknown, ctx) => {
  await putLakeObject(ctx, ${JSON.stringify(LAKE_KEY)}, ${JSON.stringify(BODY)}, 'text/csv');
  await recordLineage(ctx, { inputs: [], outputs: [lakeDataset('test/worker-health/', { rows: 3 })] });
  return { rows: 3 };
});
`);
  writeFileSync(path.join(dir, 'health.ts'), `import { dag } from ${SDK};
import { publish } from './tasks/publish';
export default dag(${JSON.stringify(DAG_ID)}, { taskQueue: ${JSON.stringify(QUEUE)} }, ({ task }) => void task(publish, {}));
`);
  const [port] = await findFreePorts(1);
  const base = `http://127.0.0.1:${String(port)}`;
  const env = {
    ...process.env,
    SLUICE_DAGS_DIR: dir,
    LOG_LEVEL: 'info',
    SLUICE_WORKER_HTTP: `127.0.0.1:${String(port)}`,
    SLUICE_WORKER_QUEUES: QUEUE,
    SLUICE_WORKER_SHUTDOWN_GRACE: '30',
    SLUICE_WORKER_METRICS: '',
  };
  const worker = spawn(process.execPath, [SLUICE, 'worker'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  worker.stdout.on('data', (d) => (output += d));
  worker.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => worker.on('close', resolve));
  const db = testPgPool();
  let runId: string | undefined;
  try {
    await until(async () => (await status(`${base}/healthz`)) === 200, () => output);
    // A deadline, not a speed check: start-up takes seconds, more on a busy machine.
    await until(async () => (await status(`${base}/readyz`)) === 200, () => output, 45_000);
    assert.match(output, new RegExp(`serving ${QUEUE} with 1 task: health_publish`));

    const trigger = await runCli(['trigger', DAG_ID, '--wait', '--json'], env);
    assert.equal(trigger.code, 0, `${trigger.stderr}\n${output}`);
    runId = (JSON.parse(trigger.stdout) as { runId: string }).runId;

    const res = await fetch(`${base}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const metrics = await res.text();
    const sample = (name: string, labels: string) => new RegExp(`^${name}\\{${labels}\\} (\\d+(?:\\.\\d+)?(?:e[+-]?\\d+)?)$`, 'm').exec(metrics)?.[1];
    const context = metrics.split('\n').filter((line) => line.startsWith('sluice_worker_')).join('\n');
    assert.equal(sample('sluice_worker_task_attempts_total', `dag_id="${DAG_ID}",outcome="succeeded"`), '1', context);
    assert.equal(sample('sluice_worker_task_duration_seconds_count', `dag_id="${DAG_ID}",outcome="succeeded"`), '1', context);
    assert.equal(sample('sluice_worker_rows_processed_total', `dag_id="${DAG_ID}",task_id="health_publish"`), '3', context);
    assert.equal(sample('sluice_worker_bytes_written_total', `dag_id="${DAG_ID}",task_id="health_publish"`), String(Buffer.byteLength(BODY)), context);
    // The Temporal SDK's own, relayed from its exporter on the same scrape.
    assert.match(metrics, new RegExp(`^temporal_worker_task_slots_available\\{[^}]*task_queue="${QUEUE}"[^}]*\\} \\d+`, 'm'), context);
    assert.match(metrics, /^process_resident_memory_bytes \d+/m);

    worker.kill('SIGTERM');
    // Draining or gone: either way Kubernetes stops routing to it.
    await until(async () => (await status(`${base}/readyz`)) !== 200, () => output);
    assert.equal(await exited, 0, output);
    assert.match(output, /SIGTERM: stopped polling/);
  } finally {
    worker.kill('SIGKILL');
    if (runId) {
      for (const table of ['ops.lineage', 'sluice.task_attempts', 'sluice.dag_runs']) await db.query(`delete from ${table} where run_id = $1`, [runId]);
    }
    await db.end();
    const s3 = testS3Client();
    await s3.send(new DeleteObjectCommand({ Bucket: testConfig().s3.bucket, Key: LAKE_KEY })).catch(() => undefined);
    s3.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sluice worker refuses a SLUICE_WORKFLOW_BUNDLE that does not exist, saying how to build one', async () => {
  const missing = path.join(os.tmpdir(), `no-such-bundle-${process.pid}.js`);
  const result = await runCli(['worker'], { ...process.env, SLUICE_WORKFLOW_BUNDLE: missing });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /SLUICE_WORKFLOW_BUNDLE: .*no-such-bundle-\d+\.js does not exist; build it with `npm run build`/);
});

/** The HTTP status of a GET, or 0 when nothing answers. */
async function status(url: string): Promise<number> {
  try {
    const res = await fetch(url);
    await res.body?.cancel();
    return res.status;
  } catch {
    return 0;
  }
}

async function until(probe: () => Promise<boolean>, context: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out; output so far:\n${context()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
