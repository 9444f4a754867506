/**
 * Runs closed outside Sluice. A run records its own end in `sluice.dag_runs`, but a run that
 * Temporal closed without it (`temporal workflow terminate`, an execution timeout, a cancel or a
 * failure before the run could record it) would say `running` there forever. Every worker
 * process looks, every 30 s: rows still open that have not changed for a minute are checked
 * against their Temporal executions, and those closed are recorded as such, with the reason.
 *
 * Cheap and safe to run in every worker at once: the query uses a partial index of open rows,
 * a round describes a bounded number of executions (a cursor moves through the open rows, so
 * runs that stay open for days do not hide newer ones), and the update only ever changes a row
 * that is still open. Postgres or Temporal being down is logged once and retried next round.
 */
import { Client, Connection, WorkflowNotFoundError, type WorkflowExecutionDescription } from '@temporalio/client';
import { OPEN_STATES } from '../activities/system';
import type { Config } from '../infra/config';
import { createKnex } from '../infra/db/knex';
import type { Logger } from '../infra/logger';
import { temporalConnectionOptions } from '../infra/temporal-connection';
import type { DagRunState } from '../workflows/spec';

export interface BookkeeperOptions {
  databaseUrl: string;
  temporal: Pick<Config['temporal'], 'address' | 'namespace' | 'tls' | 'apiKey'>;
  log: Logger;
  /** Time between rounds (default 30 s); a round also runs at start. */
  intervalMs?: number;
  /** A row is checked once it has not changed for this long (default 1 minute). */
  staleAfterMs?: number;
  /** Most executions described per round (default 100). */
  batchSize?: number;
}

export interface Bookkeeper {
  /** Stops after the round under way, and closes the connections; never rejects. */
  stop(): Promise<void>;
}

/** How a closed execution is recorded, by its Temporal status. */
const CLOSED: Partial<Record<string, { state: DagRunState; reason: string | null }>> = {
  COMPLETED: { state: 'success', reason: null },
  FAILED: { state: 'failed', reason: 'failed outside Sluice' },
  CANCELLED: { state: 'failed', reason: 'cancelled' },
  TERMINATED: { state: 'failed', reason: 'terminated' },
  TIMED_OUT: { state: 'failed', reason: 'timed out' },
};
/** Describes running at once within a round. */
const PARALLEL_DESCRIBES = 8;
/** A describe that takes longer means Temporal is not answering. */
const DESCRIBE_DEADLINE_MS = 10_000;

interface Temporal {
  connection: Connection;
  client: Client;
}

interface OpenRow {
  temporal_run_id: string;
  run_id: string;
  updated_at: Date;
}

export function startBookkeeper(options: BookkeeperOptions): Bookkeeper {
  const { log } = options;
  const intervalMs = options.intervalMs ?? 30_000;
  const staleAfterMs = options.staleAfterMs ?? 60_000;
  const batchSize = options.batchSize ?? 100;
  const db = createKnex(options.databaseUrl, { maxConnections: 2 });
  let temporal: Temporal | undefined;
  /** Where the next round goes on in the open rows, oldest change first. */
  let cursor: { updatedAt: Date; temporalRunId: string } | undefined;
  const outage = { postgres: false, temporal: false };
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<void> | undefined;
  let stopped = false;

  const openRows = async (): Promise<OpenRow[]> => {
    const query = db
      .withSchema('sluice')
      .table('dag_runs')
      .select<OpenRow[]>('temporal_run_id', 'run_id', 'updated_at')
      .whereIn('state', OPEN_STATES)
      .andWhere('updated_at', '<', new Date(Date.now() - staleAfterMs))
      .orderBy([{ column: 'updated_at' }, { column: 'temporal_run_id' }])
      .limit(batchSize);
    if (cursor) query.andWhereRaw('(updated_at, temporal_run_id) > (?, ?)', [cursor.updatedAt, cursor.temporalRunId]);
    const rows = await query;
    const last = rows.at(-1);
    // A short page is the end of the open rows: the next round starts from the oldest again.
    cursor = rows.length === batchSize && last ? { updatedAt: last.updated_at, temporalRunId: last.temporal_run_id } : undefined;
    return rows;
  };

  /** The row's run as Temporal has it now: its execution, or the one it continued as. */
  const describe = async (server: Temporal, row: OpenRow): Promise<WorkflowExecutionDescription | undefined> => {
    const withDeadline = <T>(fn: () => Promise<T>) => server.connection.withDeadline(Date.now() + DESCRIBE_DEADLINE_MS, fn);
    const { workflow } = server.client;
    try {
      const execution = await withDeadline(() => workflow.getHandle(row.run_id, row.temporal_run_id).describe());
      if (execution.status.name !== 'CONTINUED_AS_NEW') return execution;
      // The row is kept under the first execution of the run; its latest one says how it stands,
      // if it belongs to the same chain (a rerun under the same id is another run, with its own row).
      const latest = await withDeadline(() => workflow.getHandle(row.run_id).describe());
      const chain = (d: WorkflowExecutionDescription) => d.raw.workflowExecutionInfo?.firstRunId || d.runId;
      return chain(latest) === chain(execution) ? latest : undefined;
    } catch (err) {
      // Gone from Temporal (past retention, or another namespace's run): nothing to learn.
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  };

  const record = async (row: OpenRow, execution: WorkflowExecutionDescription): Promise<void> => {
    const closed = CLOSED[execution.status.name];
    if (!closed) return;
    const endedAt = execution.closeTime ?? new Date();
    const changed = await db
      .withSchema('sluice')
      .table('dag_runs')
      .where('temporal_run_id', row.temporal_run_id)
      .whereIn('state', OPEN_STATES)
      .update({ state: closed.state, ended_at: endedAt, reason: closed.reason, updated_at: new Date() });
    if (changed > 0) {
      log.info(
        { runId: row.run_id, temporalRunId: row.temporal_run_id, status: execution.status.name, endedAt: endedAt.toISOString() },
        `run ${row.run_id} was closed outside Sluice (${execution.status.name.toLowerCase()}); recorded it as ${closed.state}`,
      );
    }
  };

  const connect = async (): Promise<Temporal> => {
    if (!temporal) {
      const connection = await Connection.connect({ ...temporalConnectionOptions(options.temporal), connectTimeout: '5s' });
      temporal = { connection, client: new Client({ connection, namespace: options.temporal.namespace }) };
    }
    return temporal;
  };

  const once = async (): Promise<void> => {
    let rows: OpenRow[];
    try {
      rows = await openRows();
      recovered('postgres');
    } catch (err) {
      return down('postgres', err);
    }
    if (rows.length === 0) return;
    const closed: Array<{ row: OpenRow; execution: WorkflowExecutionDescription }> = [];
    try {
      const client = await connect();
      for (let i = 0; i < rows.length && !stopped; i += PARALLEL_DESCRIBES) {
        const chunk = rows.slice(i, i + PARALLEL_DESCRIBES);
        const executions = await Promise.all(chunk.map((row) => describe(client, row)));
        chunk.forEach((row, j) => {
          const execution = executions[j];
          if (execution && CLOSED[execution.status.name]) closed.push({ row, execution });
        });
      }
      recovered('temporal');
    } catch (err) {
      down('temporal', err);
    }
    try {
      for (const { row, execution } of closed) await record(row, execution);
    } catch (err) {
      down('postgres', err);
    }
  };

  const down = (server: 'postgres' | 'temporal', err: unknown): void => {
    if (outage[server]) return;
    outage[server] = true;
    log.warn({ error: err instanceof Error ? err.message : String(err) }, `run bookkeeping: cannot reach ${server === 'postgres' ? 'Postgres' : 'Temporal'}; trying again every ${intervalMs / 1000} s`);
  };
  const recovered = (server: 'postgres' | 'temporal'): void => {
    if (!outage[server]) return;
    outage[server] = false;
    log.info(`run bookkeeping: ${server === 'postgres' ? 'Postgres' : 'Temporal'} is back`);
  };

  const schedule = (delayMs: number): void => {
    timer = setTimeout(() => {
      round = once()
        .catch((err: unknown) => log.error({ err }, 'run bookkeeping: round failed'))
        .finally(() => {
          round = undefined;
          if (!stopped) schedule(intervalMs);
        });
    }, delayMs);
    // The workers keep the process alive; the bookkeeper alone must not.
    timer.unref();
  };
  schedule(0);

  let stopping: Promise<void> | undefined;
  return {
    stop: () =>
      (stopping ??= (async () => {
        stopped = true;
        clearTimeout(timer);
        await round;
        await temporal?.connection.close().catch(() => undefined);
        await db.destroy().catch(() => undefined);
      })()),
  };
}
