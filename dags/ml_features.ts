import { computeCustomerFeatures, exportCustomerFeatures } from '../activities/gold/ml-features';
import { dagRunSensor } from 'sluice/sensors';
import { dag } from 'sluice/sdk';

/**
 * Point-in-time customer features, as of the day the data interval ends: the run at
 * 2026-11-22T00:00Z computes as_of 2026-11-21 from data before 2026-11-22T00:00Z.
 */
export default dag(
  'ml_features',
  {
    schedule: '0 0 * * *',
    timezone: 'UTC',
    retries: 3,
    retryDelay: '1m',
    tags: ['features'],
    description: 'Customer features (RFM, basket, tenure, category affinity, sessions, 12-month value) into features.customer_features and a Parquet snapshot under features/customer/as_of=YYYY-MM-DD/.',
  },
  ({ task, sensor, ctx }) => {
    // The warehouse has the interval's sales once the same logical date's daily_etl succeeded.
    const loaded = sensor(dagRunSensor, { dagId: 'daily_etl', logicalDate: ctx.logicalDate }, { pokeInterval: '1m', timeout: '12h' });
    const features = task(computeCustomerFeatures, {}).after(loaded);
    task(exportCustomerFeatures, features);
  },
);
