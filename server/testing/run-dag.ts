/**
 * One DAG run, end to end, against the configured stack (Temporal, Postgres, S3), with a worker
 * of its own on a private task queue, like `airflow dags test`. `sluice dags test` prints its
 * events as they happen; DAG authors call `runDag` (exported as `sluice/testing`) from their own
 * tests. The run is real: its tasks write what they write, and it is recorded under the run id
 * `<dagId>-<logical date>-test` with trigger `test`, so it never takes the id of the scheduled run.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { Writable } from 'node:stream';
import type { Resources } from '../../activities/resources';
import { createOutputStore } from '../../activities/runtime/outputs';
import { ATTEMPT_STARTED } from '../../activities/runtime/task-activity';
import { compileDag, validateParams, type DagDefinition } from '../../dags/sdk';
import { loadConfig, type Config } from '../../infra/config';
import { bundleWorkflows } from '../../workers/bundle';
import { createWorker } from '../../workers/create-worker';
import { closeResources, openResources } from '../../workers/resources';
import { installRuntime } from '../../workers/runtime';
import type { dagRun } from '../../workflows/dag-run';
import { stateQuery, type DagRunInput, type DagRunStatus, type TaskStatus } from '../../workflows/messages';
import { DagIdKey, LogicalDateKey } from '../../workflows/search-attributes';
import type { DagSpec, TaskState } from '../../workflows/spec';
import { parseDateArg, triggerDate } from '../client/logical-dates';
import { formatLogicalDate } from '../client/run-id';
import { temporalConnectionOptions } from '../../infra/temporal-connection';

export interface RunDagOptions {
  /** Logical date: `YYYY-MM-DD` (the schedule's fire that day), an instant, or a Date. Default: now. */
  date?: string | Date;
  /** Params, checked against the DAG's schema; defaults apply. */
  params?: Record<string, unknown>;
  /** The stack to run against. Default: the environment's (`sluice up`'s servers, or the test stack). */
  config?: Config;
  /** Called as the run progresses: task state changes and each task's log lines. */
  onEvent?: (event: DagTestEvent) => void;
  /** Give up (and fail the run) after this long. Default 10 minutes. */
  timeoutMs?: number;
}

export type DagTestEvent =
  | { kind: 'task'; at: string; taskId: string; state: TaskState; attempts: number; error?: string }
  | { kind: 'log'; at: string; taskId: string; mapIndex?: number; attempt: number; level: string; msg: string; data?: Record<string, unknown> };

export interface DagTestResult {
  runId: string;
  logicalDate: string;
  state: 'success' | 'failed';
  /** Every task's final state, attempts, error and output (large outputs are loaded from S3). */
  tasks: Record<string, { state: TaskState; attempts: number; error?: string; output?: unknown }>;
  /** Why the run failed, when it did. */
  error?: string;
}

/** The DAG does not compile, or its params or date are wrong: nothing was started. */
export class DagTestInputError extends Error {}

/**
 * Runs `definition` once and resolves with every task's outcome; never throws for a failed run
 * (look at `state`), only for bad input or an unreachable server. Failed tasks are not retried by
 * an operator: the run fails as soon as nothing more can run, as a backfill run does.
 * @example
 * const result = await runDag(dailyOrders, { date: '2026-11-21', params: { region: 'eu' } });
 * assert.equal(result.state, 'success');
 */
export async function runDag(definition: DagDefinition, options: RunDagOptions = {}): Promise<DagTestResult> {
  const config = options.config ?? loadConfig();
  const { spec, errors, tasks } = compileDag(definition);
  if (errors.length > 0) throw new DagTestInputError(`DAG '${definition.dagId}' is invalid:\n${errors.map((e) => `  - ${e.message}`).join('\n')}`);
  const params = validateParams(definition, options.params ?? {});
  if (!params.ok) throw new DagTestInputError(`invalid params for ${spec.dagId}: ${params.error}`);
  const logicalDate = resolveDate(spec, options.date);
  const taskQueue = `sluice-test-${randomUUID().slice(0, 8)}`;
  // Every task on the private queue; no operator window, so a failure ends the run.
  const testSpec: DagSpec = { ...spec, taskQueue, operatorWindowMs: 0, tasks: spec.tasks.map(({ taskQueue: _own, ...t }) => t) };

  const emit = onceEach(options.onEvent ?? (() => undefined));
  const logger = pino({ level: 'debug' }, taskLogStream(emit));
  installRuntime(logger);
  const resources = openResources(config);
  const native = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const connection = await Connection.connect(temporalConnectionOptions(config.temporal));
  const client = new Client({ connection, namespace: config.temporal.namespace });
  try {
    const worker = await createWorker({
      connection: native,
      namespace: config.temporal.namespace,
      taskQueue,
      resources,
      tasks,
      logger,
      workflowBundle: await workflowBundle(logger),
    });
    const running = worker.run();
    try {
      return await execute(client, resources, testSpec, { logicalDate, params: params.params, emit, timeoutMs: options.timeoutMs ?? 600_000 });
    } finally {
      worker.shutdown();
      await running;
    }
  } finally {
    await native.close();
    await connection.close();
    await closeResources(resources);
  }
}

async function execute(
  client: Client,
  resources: Resources,
  spec: DagSpec,
  run: { logicalDate: Date; params: Record<string, unknown>; emit: (e: DagTestEvent) => void; timeoutMs: number },
): Promise<DagTestResult> {
  const runId = `${spec.dagId}-${formatLogicalDate(run.logicalDate)}-test`;
  const input = { spec, logicalDate: formatLogicalDate(run.logicalDate), params: run.params, trigger: 'test' } satisfies DagRunInput;
  const handle = await client.workflow.start<typeof dagRun>('dagRun', {
    workflowId: runId,
    taskQueue: spec.taskQueue,
    args: [input],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    workflowExecutionTimeout: run.timeoutMs,
    typedSearchAttributes: [
      { key: DagIdKey, value: spec.dagId },
      { key: LogicalDateKey, value: run.logicalDate },
    ],
    staticSummary: `${spec.dagId} ${input.logicalDate} (dags test, version ${spec.version})`,
  });
  const closed = handle.result().then(
    () => undefined,
    (err: Error) => (err.cause instanceof Error ? err.cause.message : err.message),
  );
  let done = false;
  void closed.then(() => (done = true));
  const report = (status: DagRunStatus) => {
    for (const t of status.tasks) {
      if (t.state === 'pending') continue;
      run.emit({ kind: 'task', at: new Date().toISOString(), taskId: t.id, state: t.state, attempts: t.attempts, ...(t.error ? { error: t.error } : {}) });
    }
  };
  while (!done) {
    const status = await handle.query(stateQuery).catch(() => undefined);
    if (status) report(status);
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 200))]);
  }
  const error = await closed;
  const final = await handle.query(stateQuery);
  report(final);
  const outputs = createOutputStore(resources.s3, resources.bucket);
  const tasks = Object.fromEntries(
    await Promise.all(
      final.tasks.map(async (t: TaskStatus) => [
        t.id,
        { state: t.state, attempts: t.attempts, ...(t.error ? { error: t.error } : {}), ...(t.output === undefined ? {} : { output: await outputs.hydrate(t.output) }) },
      ]),
    ),
  );
  return { runId, logicalDate: final.logicalDate, state: error === undefined ? 'success' : 'failed', tasks, ...(error === undefined ? {} : { error }) };
}

/**
 * Task states come from polling the run and, for starts, from the worker's log as they happen;
 * each state of each attempt is passed on once, however often it is seen.
 */
function onceEach(emit: (event: DagTestEvent) => void): (event: DagTestEvent) => void {
  const seen = new Map<string, string>();
  return (event) => {
    if (event.kind === 'task') {
      const key = `${event.state}#${event.attempts}`;
      if (seen.get(event.taskId) === key) return;
      seen.set(event.taskId, key);
    }
    emit(event);
  };
}

function resolveDate(spec: DagSpec, date: string | Date | undefined): Date {
  if (date instanceof Date) return date;
  try {
    return triggerDate(spec, date === undefined ? undefined : parseDateArg(date)).logicalDate;
  } catch (err) {
    throw new DagTestInputError((err as Error).message);
  }
}

let bundle: Promise<{ code: string }> | undefined;

/** The test runner's pre-built bundle when there is one; otherwise bundled once per process. */
async function workflowBundle(logger: pino.Logger): Promise<{ codePath: string } | { code: string }> {
  const prebuilt = process.env.SLUICE_WORKFLOW_BUNDLE;
  if (prebuilt) return { codePath: prebuilt };
  bundle ??= bundleWorkflows(logger).then((code) => ({ code }));
  return bundle;
}

/**
 * The worker's log, read line by line: a task's log lines (they carry runId, taskId and attempt)
 * become events; the rest (the SDK's own warnings) go to stderr as usual.
 */
function taskLogStream(emit: (e: DagTestEvent) => void): Writable {
  const levels: Record<number, string> = { 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        const { level, time, msg, taskId, attempt, mapIndex, runId: _r, pid: _p, hostname: _h, ...data } = entry;
        if (typeof taskId !== 'string') {
          // The SDK warns about every failed task and run, which the events already show.
          if (Number(level) >= 50) process.stderr.write(`${line}\n`);
          continue;
        }
        const at = new Date(Number(time)).toISOString();
        if (msg === ATTEMPT_STARTED) {
          emit({ kind: 'task', at, taskId, state: 'running', attempts: Number(attempt) });
          continue;
        }
        if (Number(level) < 30) continue;
        emit({
          kind: 'log',
          at,
          taskId,
          attempt: Number(attempt),
          ...(typeof mapIndex === 'number' ? { mapIndex } : {}),
          level: levels[Number(level)] ?? String(level),
          msg: String(msg ?? ''),
          ...(Object.keys(data).length > 0 ? { data } : {}),
        });
      }
      callback();
    },
  });
}
