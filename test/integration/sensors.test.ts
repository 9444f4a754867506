/**
 * The shipped sensors on the real stack: each DAG waits on a sensor poked by a real worker, the
 * awaited object or file appears mid-run, and the task after the sensor then runs. Bad inputs
 * fail at once instead of being poked or retried.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileSensor, s3KeySensor } from '../../activities/sensors';
import { dag, type SensorDef } from '../../dags/sdk';
import { ensureBucket } from '../../infra/s3';
import { failRun } from '../../server/client/operator';
import { echo } from '../fixtures/tasks';
import { compileOrThrow, startRun, taskStates, waitForStatus } from '../support/dag-runs';
import { testS3Client } from '../support/env';
import { startTestWorker, type TestWorker } from '../support/test-worker';

const TQ = 'test-sensors';
const RAW_BUCKET = 'raw-sensors-test';
const catalog = [s3KeySensor, fileSensor, echo];
const s3 = testS3Client();
let w: TestWorker;
let dir: string;

before(async () => {
  await ensureBucket(s3, RAW_BUCKET);
  dir = await mkdtemp(path.join(os.tmpdir(), 'sluice-file-sensor-'));
  // The worker reads named connections when it opens its resources.
  process.env.SLUICE_CONN_RAW = `s3://${RAW_BUCKET}/incoming`;
  w = await startTestWorker(catalog, TQ);
});
after(async () => {
  await w?.stop();
  s3.destroy();
});

let unique = 0;
const id = () => `${Date.now()}-${++unique}`;
const put = (Key: string, Bucket = w.resources.bucket) => s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }));

/**
 * Runs `sensor(def, input)` then `echo`, makes the awaited thing appear once the sensor has been
 * poked (and found nothing) at least twice, and checks that the run then succeeds.
 */
async function sensesMidRun<I>(name: string, def: SensorDef<I>, input: I, appear: () => Promise<unknown>): Promise<void> {
  const spec = compileOrThrow(
    dag(name, { taskQueue: TQ }, ({ sensor, task }) => {
      const ready = sensor(def, input as never, { pokeInterval: '300ms', timeout: '1m' });
      task(echo, { label: 'after' }, { id: 'after' }).after(ready);
    }),
    catalog,
  );
  const run = await startRun(w.client, spec);
  await waitForStatus(run.handle, (s) => (s.tasks.find((t) => t.id === def.name)?.attempts ?? 0) >= 2);
  assert.equal(taskStates(await waitForStatus(run.handle, () => true)).after, 'pending');
  await appear();
  const result = await run.handle.result();
  assert.deepEqual(result.tasks, { [def.name]: 'success', after: 'success' });
}

/** A sensor given `input` fails on its first poke, not retried, with an error matching `message`. */
async function failsAtOnce(name: string, def: SensorDef<never>, input: unknown, message: RegExp): Promise<void> {
  const spec = compileOrThrow(
    dag(name, { taskQueue: TQ }, ({ sensor }) => {
      sensor(def, input as never, { pokeInterval: '300ms', timeout: '1m', retries: 3 });
    }),
    catalog,
  );
  const run = await startRun(w.client, spec);
  const status = await waitForStatus(run.handle, (s) => s.state === 'awaiting_operator');
  assert.equal(status.tasks[0]?.attempts, 1, 'not retried');
  assert.match(status.tasks[0]?.error ?? '', message);
  await failRun(w.client, run.runId, 'test done');
}

describe('s3KeySensor', { concurrency: true }, () => {
  test('glob: waits for a matching key; other keys under the partition do not count', async () => {
    const partition = `landing/partner_sales/dt=${id()}`;
    await put(`${partition}/_README.txt`);
    await sensesMidRun('s3_glob', s3KeySensor, { glob: `${partition}/*.csv` }, () => put(`${partition}/part-0.csv`));
  });

  test('prefix, in a named connection: keys are relative to its bucket and prefix', async () => {
    const partition = `dt=${id()}/`;
    await put(`${partition}in-the-lake-not-raw.csv`);
    await sensesMidRun('s3_prefix_raw', s3KeySensor, { prefix: partition, connection: 'raw' }, () =>
      put(`incoming/${partition}file.csv`, RAW_BUCKET),
    );
  });

  test('a key ending in / still means any object under it', async () => {
    const partition = `landing/legacy/dt=${id()}/`;
    await sensesMidRun('s3_legacy_key', s3KeySensor, { key: partition }, () => put(`${partition}x.csv`));
  });

  test('a bad combination or an unknown connection fails at once', async () => {
    await failsAtOnce('s3_two_targets', s3KeySensor, { key: 'a', glob: 'b/*' }, /s3KeySensor: invalid input: give exactly one of key, prefix or glob/);
    await failsAtOnce('s3_no_target', s3KeySensor, { connection: 'raw' }, /give exactly one of key, prefix or glob/);
    await failsAtOnce('s3_unknown_conn', s3KeySensor, { prefix: 'x/', connection: 'nope' }, /unknown connection 'nope'; connections: lake \(s3\), raw \(s3\)/);
  });
});

describe('fileSensor', { concurrency: true }, () => {
  test('path with minBytes: an empty file is not there yet; once written, it is', async () => {
    const file = path.join(dir, `${id()}.csv`);
    await writeFile(file, '');
    await sensesMidRun('file_min_bytes', fileSensor, { path: file, minBytes: 1 }, () => writeFile(file, 'id\n1\n'));
  });

  test('glob: any matching file in a directory that appears mid-run', async () => {
    const partition = path.join(dir, `dt=${id()}`);
    await sensesMidRun('file_glob', fileSensor, { glob: `${partition}/*.csv` }, async () => {
      await mkdir(partition);
      await writeFile(path.join(partition, 'part-0.csv'), 'x');
    });
  });

  test('a relative path or both path and glob fail at once', async () => {
    await failsAtOnce('file_relative', fileSensor, { path: 'landing/x.csv' }, /fileSensor: invalid input: path: must be absolute/);
    await failsAtOnce('file_both', fileSensor, { path: '/a', glob: '/b/*' }, /give exactly one of path or glob/);
  });
});
