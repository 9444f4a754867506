import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadDagFolder } from '../../dags/sdk';

// Airflow's DAG-bag test: every DAG in dags/ imports cleanly and compiles, and its tasks are found.
test('every DAG in dags/ loads and validates, and every task it uses is discovered', () => {
  const { dags, errors, tasks } = loadDagFolder(path.resolve(__dirname, '../../dags'));
  assert.deepEqual(errors, []);
  assert.ok(dags.length > 0, 'at least one DAG');
  const discovered = new Set(tasks.map((t) => t.name));
  for (const { spec } of dags) for (const t of spec.tasks) assert.ok(discovered.has(t.activity), `${spec.dagId}: ${t.activity} is registered`);
});
