/**
 * `sluice up` runs its workers in a child process, `sluice worker`, for two reasons: a reload
 * must replace the task code, which a process cannot do to the activities it has registered; and
 * a worker that crashes must not take the console and the schedules down with it.
 *
 * The supervisor keeps one such process serving. It restarts one that exits unexpectedly after
 * a backoff (1 s, 2 s, 4 s, … up to 30 s; back to 1 s once one has stayed up for 30 s). On
 * `restart()` (a reload) the current process stops polling first, so no task ever reaches old
 * code after the reload, and then drains in the background: tasks it is running finish there.
 *
 * Each child runs in its own process group, so a terminal's Ctrl-C reaches only `sluice up`,
 * which stops the worker before the servers it uses. If `sluice up` dies without stopping it,
 * the child sees its IPC channel close and stops by itself (workers/worker-process.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../infra/logger';
import type { WorkerMessage } from '../../workers/worker-process';

const SLUICE_CLI = path.resolve(__dirname, '../cli/sluice.js');
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
/** A worker up this long is healthy: the next crash is restarted after the first backoff again. */
const STABLE_MS = 30_000;
/** Stopping to poll takes milliseconds; a worker silent this long is restarted over regardless. */
const DRAIN_NOTICE_TIMEOUT_MS = 5_000;

export interface WorkerSupervisor {
  /** Resolves once a worker process is ready (at once if one is). */
  ready(): Promise<void>;
  /** Replaces the worker process with a new one; resolves with its pid once it is ready. */
  restart(): Promise<number>;
  /** Stops every worker process, letting running tasks finish. */
  stop(): Promise<void>;
}

export interface SupervisorOptions {
  /** The pre-built workflow bundle each worker process loads (SLUICE_WORKFLOW_BUNDLE). */
  workflowBundlePath: string;
  log: Logger;
}

interface WorkerChild {
  process: ChildProcess;
  pid: number;
  startedAt: number;
  /** Rejects if the process exits first. */
  ready: Promise<void>;
  /** Resolves when the process has stopped polling (or has exited). */
  draining: Promise<void>;
  exited: Promise<void>;
}

/** Starts the first worker process and keeps one running until `stop()`. */
export function superviseWorker(options: SupervisorOptions): WorkerSupervisor {
  const { log } = options;
  let current: WorkerChild | undefined;
  const retiring = new Set<WorkerChild>();
  let crashes = 0;
  let respawnTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  let readyLatch = latch();

  const start = (): WorkerChild => {
    const child = spawnWorker(options.workflowBundlePath);
    const pid = child.pid ?? 0;
    const exited = new Promise<string>((resolve) => {
      child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${String(code)}`));
      // Without a pid the process never ran, and no 'exit' follows.
      child.once('error', (err) => (child.pid === undefined ? resolve(`not started: ${err.message}`) : log.error({ err }, `worker (pid ${pid}) failed`)));
    });
    const message = (type: WorkerMessage['type']) =>
      new Promise<void>((resolve) => child.on('message', (m: WorkerMessage) => m.type === type && resolve()));
    const ready = Promise.race([
      message('ready'),
      exited.then((how) => Promise.reject(new Error(`worker (pid ${pid}) exited (${how}) before it was ready`))),
    ]);
    ready.catch(() => undefined); // awaited by restart() or by no one; the exit itself is logged below
    const worker: WorkerChild = {
      process: child,
      pid,
      startedAt: Date.now(),
      ready,
      draining: Promise.race([message('draining'), exited.then(() => undefined)]),
      exited: exited.then(() => undefined),
    };
    void ready.then(() => {
      if (worker !== current) return;
      log.info({ workerPid: pid }, `worker ready (pid ${pid})`);
      readyLatch.open();
    }, () => undefined);
    void exited.then((how) => {
      if (worker === current) {
        current = undefined;
        respawnAfterCrash(worker, how);
      } else {
        retiring.delete(worker);
        log.info({ workerPid: pid }, `worker (pid ${pid}) stopped (${how})`);
      }
    });
    log.info({ workerPid: pid }, `worker process started (pid ${pid})`);
    return worker;
  };

  const respawnAfterCrash = (worker: WorkerChild, how: string) => {
    if (stopped) return;
    if (Date.now() - worker.startedAt >= STABLE_MS) crashes = 0;
    const delay = Math.min(FIRST_BACKOFF_MS * 2 ** crashes, MAX_BACKOFF_MS);
    crashes += 1;
    readyLatch = readyLatch.isOpen ? latch() : readyLatch;
    log.warn({ workerPid: worker.pid, delayMs: delay }, `worker (pid ${worker.pid}) exited unexpectedly (${how}); restarting it in ${delay / 1000} s`);
    respawnTimer = setTimeout(() => {
      respawnTimer = undefined;
      if (!stopped && !current) current = start();
    }, delay);
  };

  /** Asks a worker to stop polling and drain; resolves once it no longer polls. */
  const retire = async (worker: WorkerChild) => {
    retiring.add(worker);
    worker.process.kill('SIGTERM');
    const timer = new AbortController();
    const noticed = await Promise.race([
      worker.draining.then(() => true),
      sleep(DRAIN_NOTICE_TIMEOUT_MS, false, { signal: timer.signal }),
    ]).finally(() => timer.abort());
    if (!noticed) log.warn({ workerPid: worker.pid }, `worker (pid ${worker.pid}) did not confirm it stopped polling; starting the new one anyway`);
  };

  current = start();
  return {
    ready: () => readyLatch.promise,
    async restart() {
      clearTimeout(respawnTimer);
      const old = current;
      current = undefined;
      readyLatch = readyLatch.isOpen ? latch() : readyLatch;
      if (old) await retire(old);
      if (stopped) throw new Error('sluice is stopping');
      const next = (current = start());
      await next.ready;
      return next.pid;
    },
    async stop() {
      stopped = true;
      clearTimeout(respawnTimer);
      const all = [...(current ? [current] : []), ...retiring];
      current = undefined;
      for (const worker of all) worker.process.kill('SIGTERM');
      await Promise.all(all.map((w) => w.exited));
    },
  };
}

function spawnWorker(workflowBundlePath: string): ChildProcess {
  return spawn(process.execPath, [SLUICE_CLI, 'worker'], {
    // No health or metrics port: a reload runs the new worker beside the draining one, and both
    // cannot listen on one port (empty means unset). They are for `sluice worker` in a deployment.
    env: { ...process.env, SLUICE_WORKFLOW_BUNDLE: workflowBundlePath, SLUICE_WORKER_HTTP: '', SLUICE_WORKER_METRICS: '' },
    // Its logs join ours on stderr; stdout stays `sluice up`'s own (`--json`).
    stdio: ['ignore', 2, 2, 'ipc'],
    detached: true,
  });
}

/** A promise that can be opened once, and replaced by a closed one when the worker goes away. */
function latch(): { promise: Promise<void>; isOpen: boolean; open(): void } {
  let resolve = () => undefined as void;
  const state = {
    promise: new Promise<void>((r) => (resolve = r)),
    isOpen: false,
    open() {
      state.isOpen = true;
      resolve();
    },
  };
  return state;
}
