/**
 * Quarantine: every rejected record goes to `ops.exceptions` with its category, the stage that
 * rejected it, the reason, where it came from (table and key, or file and line) and the raw
 * record as received. A rerun of the day replaces that day's entries for the source, so they are
 * never doubled and never deleted otherwise.
 */
import type { TaskContext } from 'sluice/sdk';
import { quoteQualified, replacePartition } from '../lib';
import { countQuarantined } from '../../workers/metrics';
import { etlDay } from './day';

interface SourceLocation {
  /** SQL over the checked row `c`: the record's key in its source. */
  id: string;
  file: string;
  line: string;
  /** Columns of the checked table that are Sluice's own, not part of the raw record. */
  internal: readonly string[];
}

const CHECK_COLUMNS = ['_category', '_stage', '_reason'];

const LOCATIONS: Record<string, SourceLocation> = {
  partner_sales: { id: `nullif(trim(c.order_id), '')`, file: 'c._source_file', line: 'c._source_line', internal: ['product_key', '_run_id', '_ingested_at', '_source', '_source_file', '_source_line', '_error', '_unreadable'] },
  'shop.orders': { id: 'c.order_id::text', file: 'null', line: 'null', internal: ['customer_key', 'region'] },
  'shop.order_items': { id: 'c.order_item_id::text', file: 'null', line: 'null', internal: ['product_key'] },
};

/** Replaces the day's exceptions for `source` with the rejected rows of `checked`; returns how many. */
export async function quarantine(ctx: TaskContext, spec: { source: string; checked: string }): Promise<number> {
  const location = LOCATIONS[spec.source];
  if (!location) throw new Error(`no quarantine location for source ${spec.source}`);
  const { day } = etlDay(ctx);
  const dropped = [...CHECK_COLUMNS, ...location.internal].map((c) => `'${c}'`).join(', ');
  let byCategory: Array<{ category: string; n: number }> = [];
  const { rows } = await replacePartition(ctx.resources.warehouse, {
    table: 'ops.exceptions',
    where: { dag_id: ctx.dagId, logical_date: day, source: spec.source },
    load: async (trx) => {
      // Counted by category as inserted, for the worker's sluice_worker_records_quarantined_total.
      const result = await trx.raw<{ rows: Array<{ category: string; n: number }> }>(
        `with quarantined as (
           insert into ops.exceptions (dag_id, run_id, task_id, logical_date, source, source_file, source_line, source_id, category, stage, reason, raw)
           select ?, ?, ?, ?, ?, ${location.file}, ${location.line}, ${location.id}, c._category, c._stage, c._reason,
                  to_jsonb(c) - array[${dropped}]
           from ${quoteQualified(spec.checked)} c where c._category is not null
           returning category)
         select category, count(*)::int as n from quarantined group by category`,
        [ctx.dagId, ctx.runId, ctx.taskId, day, spec.source],
      );
      byCategory = result.rows;
      return { rows: byCategory.reduce((sum, r) => sum + r.n, 0) };
    },
  });
  // After the commit: a load that rolled back quarantined nothing.
  for (const { category, n } of byCategory) countQuarantined(ctx.dagId, category, n);
  return rows;
}
