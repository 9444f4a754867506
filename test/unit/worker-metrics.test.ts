/**
 * Sluice's worker metrics (workers/metrics.ts): what a task attempt writes is counted under its
 * DAG and task, taken from the attempt's scope; the same helpers called outside a task (a script,
 * a test) count nothing. The end-to-end path is in test/integration/worker-health.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countBytesWritten, countQuarantined, countRowsProcessed, countTaskAttempt, withTaskScope, workerRegistry } from '../../workers/metrics';

async function sample(name: string, labels: string): Promise<number | undefined> {
  const text = await workerRegistry.metrics();
  const found = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1];
  return found === undefined ? undefined : Number(found);
}

test('rows and bytes are counted under the DAG and task of the attempt that wrote them', async () => {
  countRowsProcessed(5);
  countBytesWritten(5);
  await withTaskScope({ dagId: 'm_dag', taskId: 'load' }, async () => {
    countRowsProcessed(7);
    await Promise.resolve();
    // Still in scope after an await: the scope follows the attempt's async work.
    countBytesWritten(1024);
  });
  await withTaskScope({ dagId: 'm_dag', taskId: 'other' }, async () => countRowsProcessed(1));
  assert.equal(await sample('sluice_worker_rows_processed_total', 'dag_id="m_dag",task_id="load"'), 7);
  assert.equal(await sample('sluice_worker_rows_processed_total', 'dag_id="m_dag",task_id="other"'), 1);
  assert.equal(await sample('sluice_worker_bytes_written_total', 'dag_id="m_dag",task_id="load"'), 1024);
  assert.doesNotMatch(await workerRegistry.metrics(), /rows_processed_total\{[^}]*\} 5$/m, 'outside a task nothing is counted');
});

test('attempts by outcome with their duration, and quarantined records by category', async () => {
  countTaskAttempt('m_dag2', 'succeeded', 0.2);
  countTaskAttempt('m_dag2', 'failed', 3);
  countTaskAttempt('m_dag2', 'failed', 4);
  countQuarantined('m_dag2', 'DUPLICATE_RECORD', 2);
  countQuarantined('m_dag2', 'DATA_FORMAT_ERROR', 0);
  assert.equal(await sample('sluice_worker_task_attempts_total', 'dag_id="m_dag2",outcome="failed"'), 2);
  assert.equal(await sample('sluice_worker_task_duration_seconds_sum', 'dag_id="m_dag2",outcome="failed"'), 7);
  assert.equal(await sample('sluice_worker_task_duration_seconds_bucket', 'le="1",dag_id="m_dag2",outcome="succeeded"'), 1);
  assert.equal(await sample('sluice_worker_records_quarantined_total', 'dag_id="m_dag2",category="DUPLICATE_RECORD"'), 2);
  assert.equal(await sample('sluice_worker_records_quarantined_total', 'dag_id="m_dag2",category="DATA_FORMAT_ERROR"'), undefined);
});
