/**
 * The embedded Temporal server: `temporal server start-dev` with SQLite persistence under
 * SLUICE_HOME, so runs, schedules and history survive restarts.
 */
import path from 'node:path';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
// The SDK's own test environment registers search attributes with this encoder too.
import { encodeSearchAttributeIndexedValueType } from '@temporalio/common/lib/search-attributes';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { assertPortFree } from './ports';
import { startProcess, type ServerProcess } from './process';
import { ensureTool } from './tools';

/** The custom search attributes of a `dagRun` (see CONTRACTS.md). */
export const SEARCH_ATTRIBUTES = {
  DagId: SearchAttributeType.KEYWORD,
  LogicalDate: SearchAttributeType.DATETIME,
  DagRunState: SearchAttributeType.KEYWORD,
  FailedTasks: SearchAttributeType.KEYWORD_LIST,
} as const;

const CLI_SEARCH_ATTRIBUTE_TYPES: Record<SearchAttributeType, string> = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

// Dynamic config for CLI 1.9.1 (server 1.32). The server ignores unknown keys silently, so each
// key was checked against the binary; `frontend.activityAPIsEnabled` no longer exists there
// (activity pause/reset are always on).
const DYNAMIC_CONFIG = [
  // Activities start on the worker that completed the workflow task, saving a matching round trip.
  'system.enableActivityEagerExecution=true',
  // The transfer queue (which dispatches workflow and activity tasks) reads persistence at most
  // 20 times a second per shard by default, and the dev server has one shard: measured here, a
  // chain of activity hops slowed from 18 ms to 52 ms per hop once a few hundred tasks had run.
  // With these limits it stays at 16-19 ms.
  'history.transferProcessorMaxPollRPS=1000',
  'history.transferProcessorMaxPollHostRPS=5000',
  // The same throttle on timers (retry backoff, sleeps) and on visibility updates (run lists).
  'history.timerProcessorMaxPollRPS=1000',
  'history.timerProcessorMaxPollHostRPS=5000',
  'history.visibilityProcessorMaxPollRPS=1000',
  'history.visibilityProcessorMaxPollHostRPS=5000',
];

const READY_TIMEOUT_MS = 60_000;
const GRACEFUL_STOP_MS = 10_000;

export interface TemporalServerOptions {
  headless: boolean;
  log: Logger;
  /** Aborting gives up waiting for the server to be ready, and stops it (the stack is stopping). */
  signal?: AbortSignal;
}

/** Starts the dev server on 127.0.0.1 and waits until the namespace and search attributes answer. */
export async function startTemporalServer(config: Config, options: TemporalServerOptions): Promise<ServerProcess> {
  const { port, uiPort, namespace } = config.temporal;
  const cli = await ensureTool('temporal', config, options.log);
  await assertPortFree(port, 'the Temporal dev server', 'set TEMPORAL_PORT, or TEMPORAL_ADDRESS for an external server');
  if (!options.headless) {
    await assertPortFree(uiPort, 'the Temporal Web UI', 'set TEMPORAL_UI_PORT');
  }
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    path.join(config.home, 'temporal.db'),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    ...(options.headless ? ['--headless'] : ['--ui-port', String(uiPort)]),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    '--sqlite-pragma',
    'journal_mode=WAL',
    ...DYNAMIC_CONFIG.flatMap((kv) => ['--dynamic-config-value', kv]),
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => [
      '--search-attribute',
      `${name}=${CLI_SEARCH_ATTRIBUTE_TYPES[type]}`,
    ]),
  ];
  const server = await startProcess({
    name: 'temporal',
    command: cli,
    args,
    home: config.home,
    stopTimeoutMs: GRACEFUL_STOP_MS,
  });
  try {
    await server.waitUntil(() => checkTemporal(config.temporal.address, namespace), {
      what: 'Temporal dev server',
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 200,
      signal: options.signal,
    });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

/** Ready means: the namespace exists and all of Sluice's search attributes are registered. */
async function checkTemporal(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 2_000 });
  try {
    await connection.withDeadline(Date.now() + 2_000, async () => {
      await connection.workflowService.describeNamespace({ namespace });
      const missing = await missingSearchAttributes(connection, namespace);
      if (missing.length > 0) throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
    });
  } finally {
    await connection.close();
  }
}

const GRPC_ALREADY_EXISTS = 6;

/**
 * Registers Sluice's search attributes on `namespace` where missing (an external server).
 * Idempotent and safe against a concurrent caller; fails if a name exists with another type.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const missing = await missingSearchAttributes(connection, namespace);
  if (missing.length === 0) return;
  try {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        // The encoder returns undefined only for a null input.
        missing.map((name) => [name, encodeSearchAttributeIndexedValueType(SEARCH_ATTRIBUTES[name])!]),
      ),
    });
  } catch (err) {
    if (!(isGrpcServiceError(err) && err.code === GRPC_ALREADY_EXISTS)) throw err;
  }
  const stillMissing = await missingSearchAttributes(connection, namespace);
  if (stillMissing.length > 0) {
    throw new Error(`Search attributes ${stillMissing.join(', ')} are still missing on namespace ${namespace}`);
  }
}

/** Sluice attributes not registered on `namespace`; throws if one exists with the wrong type. */
async function missingSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<Array<keyof typeof SEARCH_ATTRIBUTES>> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing: Array<keyof typeof SEARCH_ATTRIBUTES> = [];
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES) as Array<[keyof typeof SEARCH_ATTRIBUTES, SearchAttributeType]>) {
    const registered = customAttributes?.[name];
    if (registered === undefined || registered === null) {
      missing.push(name);
    } else if (registered !== encodeSearchAttributeIndexedValueType(type)) {
      throw new Error(
        `Search attribute ${name} exists on namespace ${namespace} with another type; Sluice needs ${type}`,
      );
    }
  }
  return missing;
}
