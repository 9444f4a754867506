import { buildWeeklySales, writeWeeklyReports } from '../activities/gold/weekly-reports';
import { dagRunSensor } from 'sluice/sensors';
import { dag } from 'sluice/sdk';

/**
 * The ISO week's sales report, every Monday: the run at Monday 2026-11-23T00:00Z reports 2026-W47,
 * its data interval.
 */
export default dag(
  'weekly_reports',
  {
    schedule: '0 0 * * 1',
    timezone: 'UTC',
    retries: 3,
    retryDelay: '1m',
    tags: ['gold', 'reports'],
    description: 'Weekly sales KPIs (revenue by region and category, top 10 products, week over week, quality trend) into gold.weekly_sales and CSV reports under gold/reports/week=YYYY-Www/.',
  },
  ({ task, sensor, ctx }) => {
    // The warehouse has the interval's sales once the same logical date's daily_etl succeeded.
    const loaded = sensor(dagRunSensor, { dagId: 'daily_etl', logicalDate: ctx.logicalDate }, { pokeInterval: '1m', timeout: '12h' });
    const week = task(buildWeeklySales, {}).after(loaded);
    task(writeWeeklyReports, week);
  },
);
