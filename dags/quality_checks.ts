import { checkTableQuality, logQualityFailure, qualityGate } from '../activities/quality-checks';
import { QUALITY_SUITES } from '../activities/quality/suites';
import { dagRunSensor } from 'sluice/sensors';
import { callback, dag } from 'sluice/sdk';

/**
 * The day's data quality, once the same logical date's daily_etl has succeeded: scheduled on the
 * tables daily_etl writes, so its run for 2026-11-22T00:00Z starts this DAG's for that date,
 * which checks 2026-11-21, the day daily_etl loaded. The sensor makes a run started by hand
 * wait for daily_etl too. One task per table suite
 * (`activities/quality/suites.ts`), then a gate that fails the run on any failed blocking check.
 */
export default dag(
  'quality_checks',
  {
    // Runs when daily_etl has loaded a day's star schema (its outlets), for that day's logical date.
    schedule: { assets: ['warehouse.dim_date', 'warehouse.dim_customer', 'warehouse.dim_product', 'warehouse.fact_sales'] },
    retries: 2,
    retryDelay: '1m',
    tags: ['quality'],
    description: 'Declarative quality suites per warehouse table after daily_etl, into ops.quality_results and ops.quality_scores; failed blocking checks fail the run.',
    onFailure: callback(logQualityFailure, {}),
  },
  ({ task, sensor, ctx }) => {
    const loaded = sensor(dagRunSensor, { dagId: 'daily_etl', logicalDate: ctx.logicalDate }, { id: 'waitForDailyEtl', pokeInterval: '1m', timeout: '12h' });
    const tables = QUALITY_SUITES.map((suite) => task(checkTableQuality, { suite }, { id: `check_${suite.table.slice(suite.table.indexOf('.') + 1)}` }).after(loaded));
    task(qualityGate, { tables });
  },
);
