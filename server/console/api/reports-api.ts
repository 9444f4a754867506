/**
 * The sales reports as JSON, mounted under `/api`: daily KPIs over a date range and one ISO
 * week's report. The CSV downloads are on the pages router (`/reports/<name>.csv`).
 */
import { Router } from 'express';
import type { Knex } from 'knex';
import { dailyQuery, dailyReport, weeklyQuery, weeklyReport } from '../queries/reports';

export function reportsApi(db: Knex): Router {
  const router = Router();

  router.get('/reports/daily', async (req, res) => {
    res.json(await dailyReport(db, dailyQuery.parse(req.query)));
  });

  router.get('/reports/weekly', async (req, res) => {
    res.json(await weeklyReport(db, weeklyQuery.parse(req.query)));
  });

  return router;
}
