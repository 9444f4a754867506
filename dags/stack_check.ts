import { probeWarehouse, readProbe, writeProbe } from '../activities/stack-check';
import { dag } from 'sluice/sdk';

/** Reads a row from the warehouse, writes it to the lake and reads it back: every part, end to end. */
export default dag('stack_check', { description: 'Warehouse → lake → back: proves Temporal, Postgres and S3 work together.', tags: ['ops'], retries: 2, retryDelay: '2s' }, ({ task, ctx }) => {
  const probe = task(probeWarehouse, {});
  const object = task(writeProbe, { probe, day: ctx.logicalDate });
  task(readProbe, { object, expected: probe });
});
