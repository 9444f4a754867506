/**
 * The worker's journal of task attempts: tasks hand it their start and end and go on at once;
 * it writes them to `sluice.task_attempts` in the background. Bookkeeping is thereby off the
 * task's critical path: a slow or absent database neither delays a task's result nor changes it
 * (a task that did its work and then failed to record it would run its side effect again).
 *
 * - A start and its end are one record, written once if both are pending.
 * - While the database is down, records stay pending and writes are retried with backoff; the
 *   outage is logged once, and again when it ends.
 * - Memory is bounded (records and bytes of log lines). Past the bound the oldest records are
 *   dropped with one warning: the run itself puts every attempt it saw on record
 *   (`recordAttempts`), so what is lost is only log lines.
 * - `close()` flushes what is pending, up to a deadline, when the worker stops.
 * - Nothing here throws into a task or leaves a promise rejection unhandled.
 */
import type { Logger } from 'pino';
import type { LogLine } from './attempt-log';
import type { AttemptKey, AttemptRecord } from './attempt-history';

export interface AttemptJournalOptions {
  /** Writes a batch of records; rejects if any of it may not have been written. */
  write(records: readonly AttemptRecord[]): Promise<void>;
  logger: Logger;
  /** Most attempts pending at once (default 10,000). */
  maxRecords?: number;
  /** Most bytes of log lines pending at once (default 64 MB). */
  maxLogBytes?: number;
  /** Most records per write (default 500). */
  batchSize?: number;
  /** Retry delays while writes fail: from `firstRetryMs` (250), doubling up to `maxRetryMs` (5,000). */
  firstRetryMs?: number;
  maxRetryMs?: number;
}

/** One attempt's pending record; replaced (not changed) when the attempt ends. */
interface Entry {
  record: AttemptRecord;
  /** Approximate bytes held, for the memory bound. */
  bytes: number;
}

/** SQLSTATE classes of errors in the data itself: writing the same record again cannot help. */
const DATA_ERROR = /^(22|23|54)/;

export class AttemptJournal {
  private readonly pending = new Map<string, Entry>();
  private readonly maxRecords: number;
  private readonly maxLogBytes: number;
  private readonly batchSize: number;
  private readonly firstRetryMs: number;
  private readonly maxRetryMs: number;
  private bytes = 0;
  private loop: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private wakeUp: (() => void) | undefined;
  private failingSince: number | undefined;
  private dropped = 0;
  private stopped = false;
  private readonly drained: Array<() => void> = [];

  constructor(private readonly options: AttemptJournalOptions) {
    this.maxRecords = options.maxRecords ?? 10_000;
    this.maxLogBytes = options.maxLogBytes ?? 64 * 1024 * 1024;
    this.batchSize = options.batchSize ?? 500;
    this.firstRetryMs = options.firstRetryMs ?? 250;
    this.maxRetryMs = options.maxRetryMs ?? 5_000;
  }

  /** An attempt started: its row opens as 'running'. */
  started(key: AttemptKey, startedAt: Date): void {
    this.put({ key, startedAt });
  }

  /** An attempt ended; `startedAt` comes along in case its start record was dropped. */
  finished(key: AttemptKey, startedAt: Date, end: { state: 'success' | 'failed'; error?: string; logs: LogLine[] }): void {
    this.put({ key, startedAt, end: { ...end, endedAt: new Date() } });
  }

  /** Records not yet written. */
  get size(): number {
    return this.pending.size;
  }

  /**
   * Writes what is pending, for at most `deadlineMs`, then stops; what is still pending then is
   * logged (the runs record those attempts themselves, without their log lines).
   */
  async close(deadlineMs: number): Promise<void> {
    if (this.pending.size > 0) {
      // Retry at once rather than after the current backoff.
      this.wake();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.drained.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs))),
      ]);
      clearTimeout(timer);
    }
    // A write still under way settles on its own (the caller's pool closing ends it at the latest).
    this.stopped = true;
    this.wake();
    if (this.pending.size > 0) {
      this.options.logger.warn(
        { pending: this.pending.size },
        `attempt history: ${this.pending.size} attempt records were not written before the worker stopped; their runs record the attempts without their log lines`,
      );
    }
  }

  private put(record: AttemptRecord): void {
    try {
      const id = keyOf(record.key);
      const previous = this.pending.get(id);
      const bytes = 200 + (record.end ? JSON.stringify(record.end.logs).length + (record.end.error?.length ?? 0) : 0);
      this.bytes += bytes - (previous?.bytes ?? 0);
      // `set` on an existing key keeps its place: an attempt stays as old as its start.
      this.pending.set(id, { record, bytes });
      this.enforceBounds();
      this.kick();
    } catch (err) {
      // Bookkeeping never fails a task; the run records the attempt all the same.
      this.options.logger.error({ err }, 'attempt history: could not keep an attempt record');
    }
  }

  private enforceBounds(): void {
    while (this.pending.size > this.maxRecords || (this.bytes > this.maxLogBytes && this.pending.size > 1)) {
      const [oldestId, oldest] = this.pending.entries().next().value as [string, Entry];
      this.pending.delete(oldestId);
      this.bytes -= oldest.bytes;
      if (this.dropped++ === 0) {
        this.options.logger.warn(
          { maxRecords: this.maxRecords, maxLogBytes: this.maxLogBytes },
          'attempt history: too many attempt records waiting for the database; dropping the oldest (their runs record the attempts without their log lines)',
        );
      }
    }
  }

  private kick(): void {
    if (this.loop || this.stopped || this.pending.size === 0) return;
    this.loop = this.drain()
      .catch((err: unknown) => this.options.logger.error({ err }, 'attempt history: the writer failed; it starts again'))
      .then(() => {
        this.loop = undefined;
        this.kick();
      });
  }

  /** Writes batches until nothing is pending; never rejects. */
  private async drain(): Promise<void> {
    let delay = this.firstRetryMs;
    while (this.pending.size > 0 && !this.stopped) {
      const batch: Array<{ id: string; entry: Entry }> = [];
      for (const [id, entry] of this.pending) {
        if (batch.length === this.batchSize) break;
        batch.push({ id, entry });
      }
      try {
        await this.writeBatch(batch);
      } catch (err) {
        if (this.failingSince === undefined) {
          this.failingSince = Date.now();
          this.options.logger.warn(
            { error: messageOf(err), pending: this.pending.size },
            'attempt history: cannot write to the database; tasks go on, and their records are kept and retried',
          );
        }
        await this.sleep(delay);
        delay = Math.min(delay * 2, this.maxRetryMs);
        continue;
      }
      delay = this.firstRetryMs;
      if (this.failingSince !== undefined) {
        this.options.logger.info(
          { downMs: Date.now() - this.failingSince, stillPending: this.pending.size, dropped: this.dropped },
          'attempt history: the database is back; the records kept meanwhile are being written',
        );
        this.failingSince = undefined;
      }
    }
    if (this.pending.size === 0) {
      this.dropped = 0;
      for (const resolve of this.drained.splice(0)) resolve();
    }
  }

  /**
   * One write for the batch. If the data itself is refused, each record is written on its own
   * and the ones still refused are dropped, so one bad record cannot hold up the rest forever.
   */
  private async writeBatch(batch: Array<{ id: string; entry: Entry }>): Promise<void> {
    try {
      await this.options.write(batch.map((b) => b.entry.record));
      for (const b of batch) this.written(b);
      return;
    } catch (err) {
      if (!isDataError(err)) throw err;
    }
    for (const b of batch) {
      try {
        await this.options.write([b.entry.record]);
      } catch (err) {
        if (!isDataError(err)) throw err;
        this.options.logger.error(
          { error: messageOf(err), runId: b.entry.record.key.runId, taskId: b.entry.record.key.taskId, attempt: b.entry.record.key.attempt },
          'attempt history: the database refused this attempt record; it is dropped',
        );
      }
      this.written(b);
    }
  }

  /** Forgets a written record, unless the attempt ended while it was written (then that is written next). */
  private written(b: { id: string; entry: Entry }): void {
    if (this.pending.get(b.id) !== b.entry) return;
    this.pending.delete(b.id);
    this.bytes -= b.entry.bytes;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeUp = resolve;
      this.retryTimer = setTimeout(resolve, ms);
      // Pending records alone do not keep a process alive; `close()` is what waits for them.
      this.retryTimer.unref();
    });
  }

  private wake(): void {
    clearTimeout(this.retryTimer);
    this.wakeUp?.();
    this.wakeUp = undefined;
  }
}

function keyOf(key: AttemptKey): string {
  return JSON.stringify([key.temporalRunId, key.taskId, key.mapIndex, key.attempt]);
}

/** The error's message only: a database error's other fields can quote the rejected data. */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && DATA_ERROR.test(code);
}
