import { aggregateHourlySales, aggregateHourlyTraffic } from '../activities/gold/hourly-aggregation';
import { dag } from 'sluice/sdk';

/**
 * Hourly sales and traffic in `gold`, straight from the source database between nightly loads.
 * Each run replaces its hour and the three before it, so late events land and reruns are harmless.
 */
export default dag(
  'hourly_aggregation',
  {
    schedule: '0 * * * *',
    timezone: 'UTC',
    retries: 3,
    retryDelay: '1m',
    // Runs rewrite overlapping hours; one at a time keeps their transactions from waiting on each other.
    maxActiveRuns: 1,
    tags: ['gold'],
    description: 'Revenue, orders, units and AOV by hour, region and category, and hourly traffic, upserted into gold (the last 3 hours are recomputed for late events).',
  },
  ({ task }) => {
    task(aggregateHourlySales, {});
    task(aggregateHourlyTraffic, {});
  },
);
