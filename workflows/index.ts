/** Every workflow type the Sluice worker registers; this file is the bundler's entry point. */
export { dagRun } from './dag-run';
export { backfill } from './backfill';
export { runSlots } from './run-slots';
export { poolGate } from './pools';
export { mapBatch } from './map-batch';
