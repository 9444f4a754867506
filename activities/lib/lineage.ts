/**
 * Table-level lineage as OpenLineage run events (https://openlineage.io), the standard Airflow,
 * Dagster and Marquez speak: each pipeline task says which datasets it read and wrote, and the
 * event is stored in `ops.lineage` (the `event` column is the standard document, so any
 * OpenLineage consumer can read it; the other columns make the console's queries cheap).
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { TaskContext } from '../../dags/sdk';
import { countRowsProcessed } from '../../workers/metrics';

/** A dataset as a task names it; `recordLineage` resolves it to an OpenLineage namespace and name. */
export interface DatasetRef {
  kind: 'warehouse' | 'source' | 'lake';
  /** `schema.table` for databases, a key prefix for the lake. */
  name: string;
  /** Output statistics, when the task knows them. */
  rows?: number;
  bytes?: number;
}

/** A table in the warehouse database, e.g. `warehouseTable('warehouse.fact_sales')`. */
export const warehouseTable = (name: string, stats: Pick<DatasetRef, 'rows' | 'bytes'> = {}): DatasetRef => ({ kind: 'warehouse', name, ...stats });
/** A table in the source database; a bare name means schema `public`: `sourceTable('orders')`. */
export const sourceTable = (name: string, stats: Pick<DatasetRef, 'rows' | 'bytes'> = {}): DatasetRef => ({ kind: 'source', name: name.includes('.') ? name : `public.${name}`, ...stats });
/** A prefix in the lake bucket, e.g. `lakeDataset('bronze/orders/dt=2026-11-21/')`. */
export const lakeDataset = (prefix: string, stats: Pick<DatasetRef, 'rows' | 'bytes'> = {}): DatasetRef => ({ kind: 'lake', name: prefix, ...stats });

export interface Lineage {
  inputs: readonly DatasetRef[];
  outputs: readonly DatasetRef[];
}

const PRODUCER = 'https://github.com/sluice-data/sluice';
const RUN_EVENT_SCHEMA = 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent';
const FACET_SCHEMA = (facet: string) => `https://openlineage.io/spec/facets/1-0-1/${facet}.json#/$defs/${facet}`;
/** The OpenLineage job namespace of every Sluice task. */
export const LINEAGE_NAMESPACE = 'sluice';

type LineageContext = Pick<TaskContext, 'dagId' | 'runId' | 'taskId' | 'attempt' | 'dataIntervalStart' | 'dataIntervalEnd' | 'resources'>;

/** Records that this task attempt read `inputs` and wrote `outputs` (a COMPLETE event). */
export async function recordLineage(ctx: LineageContext, lineage: Lineage): Promise<void> {
  const event = runEvent(ctx, lineage, new Date());
  await ctx.resources.warehouse('ops.lineage').insert({
    event_time: event.eventTime,
    event_type: event.eventType,
    dag_id: ctx.dagId,
    run_id: ctx.runId,
    task_id: ctx.taskId,
    logical_date: ctx.dataIntervalStart.slice(0, 10),
    job_name: event.job.name,
    inputs: JSON.stringify(event.inputs),
    outputs: JSON.stringify(event.outputs),
    event: JSON.stringify(event),
  });
  // Lineage is where every pipeline task states what it wrote: the one place to count rows.
  countRowsProcessed(lineage.outputs.reduce((sum, ref) => sum + (ref.rows ?? 0), 0));
}

/** The OpenLineage RunEvent for a task attempt. Exported for tests and for other sinks. */
export function runEvent(ctx: LineageContext, lineage: Lineage, at: Date) {
  const dataset = (ref: DatasetRef) => ({ ...datasetName(ctx, ref), facets: {} });
  return {
    eventType: 'COMPLETE' as const,
    eventTime: at.toISOString(),
    producer: PRODUCER,
    schemaURL: RUN_EVENT_SCHEMA,
    run: {
      runId: uuidFrom(`${ctx.runId}/${ctx.taskId}/${ctx.attempt}`),
      facets: {
        nominalTime: { _producer: PRODUCER, _schemaURL: FACET_SCHEMA('NominalTimeRunFacet'), nominalStartTime: ctx.dataIntervalStart, nominalEndTime: ctx.dataIntervalEnd },
        // The DAG run is the parent "run" of its tasks, as Airflow's OpenLineage provider reports it.
        parent: {
          _producer: PRODUCER,
          _schemaURL: FACET_SCHEMA('ParentRunFacet'),
          run: { runId: uuidFrom(ctx.runId) },
          job: { namespace: LINEAGE_NAMESPACE, name: ctx.dagId },
        },
      },
    },
    job: {
      namespace: LINEAGE_NAMESPACE,
      name: `${ctx.dagId}.${ctx.taskId}`,
      facets: { jobType: { _producer: PRODUCER, _schemaURL: FACET_SCHEMA('JobTypeJobFacet'), processingType: 'BATCH', integration: 'SLUICE', jobType: 'TASK' } },
    },
    inputs: lineage.inputs.map(dataset),
    outputs: lineage.outputs.map((ref) => {
      const out = dataset(ref);
      if (ref.rows === undefined && ref.bytes === undefined) return out;
      const statistics = { _producer: PRODUCER, _schemaURL: FACET_SCHEMA('OutputStatisticsOutputDatasetFacet'), rowCount: ref.rows, size: ref.bytes };
      return { ...out, outputFacets: { outputStatistics: statistics } };
    }),
  };
}

/** OpenLineage naming: `postgres://host:port` + `database.schema.table`; `s3://bucket` + key prefix. */
function datasetName(ctx: LineageContext, ref: DatasetRef): { namespace: string; name: string } {
  if (ref.kind === 'lake') return { namespace: `s3://${ctx.resources.bucket}`, name: ref.name.replace(/\/$/, '') };
  const db = ref.kind === 'warehouse' ? ctx.resources.warehouse : ctx.resources.source;
  const { host, port, database } = connectionOf(db);
  return { namespace: `postgres://${host}:${port}`, name: `${database}.${ref.name}` };
}

/** Host, port and database of a knex instance, never its credentials. */
function connectionOf(db: Knex): { host: string; port: string; database: string } {
  const connection = (db.client as { config: Knex.Config }).config.connection as string | Knex.PgConnectionConfig;
  if (typeof connection === 'string') {
    const url = new URL(connection);
    return { host: url.hostname, port: url.port || '5432', database: decodeURIComponent(url.pathname.slice(1)) };
  }
  return { host: connection.host ?? 'localhost', port: String(connection.port ?? 5432), database: connection.database ?? '' };
}

/** A stable UUID (version 5 layout) for a name, so one task attempt always gets the same run id. */
function uuidFrom(name: string): string {
  const hex = createHash('sha1').update(`sluice:${name}`).digest('hex').slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
