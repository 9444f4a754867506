/**
 * The data pages' numbers as JSON, mounted under `/api`: quality scores and failed checks,
 * quarantined records, the audit log with its conservation equation, and the lineage graph. The
 * filters are the pages' own (queries/data.ts), so a bad one is the same 400 with a message per field.
 */
import { Router } from 'express';
import type { Knex } from 'knex';
import { auditLog, auditQuery, exceptionsQuery, failedChecks, lineageGraph, lineageQuery, listExceptions, qualityOverview, qualityQuery } from '../queries/data';

export function dataApi(db: Knex): Router {
  const router = Router();

  router.get('/data/quality', async (req, res) => {
    res.json(await qualityOverview(db, qualityQuery.parse(req.query)));
  });

  router.get('/data/quality/failed', async (req, res) => {
    res.json(await failedChecks(db, qualityQuery.parse(req.query)));
  });

  router.get('/data/exceptions', async (req, res) => {
    res.json(await listExceptions(db, exceptionsQuery.parse(req.query)));
  });

  router.get('/data/audit', async (req, res) => {
    res.json(await auditLog(db, auditQuery.parse(req.query)));
  });

  router.get('/data/lineage', async (req, res) => {
    res.json(await lineageGraph(db, lineageQuery.parse(req.query)));
  });

  return router;
}
