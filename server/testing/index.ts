/**
 * `sluice/testing`: run a DAG end to end from a test file, against the stack in the environment
 * (`sluice up`'s servers, or the stack `npm test` starts).
 * @example
 * import { runDag } from 'sluice/testing';
 * import dailyOrders from '../dags/daily_orders';
 * test('daily_orders loads a day', async () => {
 *   const result = await runDag(dailyOrders, { date: '2026-11-21' });
 *   assert.equal(result.state, 'success');
 *   assert.equal(result.tasks.load?.output, 42);
 * });
 */
export { runDag, DagTestInputError, type DagTestEvent, type DagTestResult, type RunDagOptions } from './run-dag';
