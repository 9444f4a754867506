import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { taskCatalog } from '../../activities';
import { loadDagFolder } from '../../dags/sdk';

// Airflow's DAG-bag test: every DAG in dags/ imports cleanly and compiles against the activity catalog.
test('every DAG in dags/ loads and validates against the activity catalog', () => {
  const { dags, errors } = loadDagFolder(path.resolve(__dirname, '../../dags'), taskCatalog);
  assert.deepEqual(errors, []);
  assert.ok(dags.length > 0, 'at least one DAG');
});
