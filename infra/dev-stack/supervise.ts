/**
 * Keeps an embedded server running. A server that exits without being asked to (a crash, the OOM
 * killer, a SIGKILL from outside) is started again the way it was started the first time (same
 * arguments, data directory, port and readiness check), after a backoff of 1 s, 2 s, 4 s, … up
 * to 30 s, back to 1 s once it has stayed up for 30 s. A restart that fails (its port is taken,
 * say) is logged and tried again on the same backoff, for as long as the stack runs: one server
 * going down never takes the others, or the Sluice process, with it.
 *
 * The same policy as the worker process's (server/dev/worker-supervisor.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../logger';
import { describeExit, type ExitInfo, type ServerProcess } from './process';

const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 30_000;
/** A server up this long is healthy: its next crash is restarted after the first backoff again. */
const STABLE_MS = 30_000;

export interface SupervisedServer {
  /** Stops the server, or cancels a pending restart; a deliberate stop is never restarted. */
  stop(): Promise<void>;
}

/**
 * Starts a server with `start` and restarts it whenever it exits unexpectedly, until `stop()`.
 * The first start's failure is thrown (nothing is running yet to keep alive). `start` gets a
 * signal that aborts when the supervisor stops, so a restart in progress does not hold up a stop.
 */
export async function superviseServer(
  name: string,
  start: (signal: AbortSignal) => Promise<ServerProcess>,
  log: Logger,
): Promise<SupervisedServer> {
  const stopping = new AbortController();
  const first = await start(stopping.signal);
  let current: ServerProcess | undefined = first;
  let startedAt = Date.now();
  let failures = 0;
  let restarting: Promise<void> | undefined;

  const nextDelay = () => Math.min(FIRST_BACKOFF_MS * 2 ** failures++, MAX_BACKOFF_MS);

  const watch = (server: ServerProcess) => {
    void server.unexpectedExit.then((exit) => {
      current = undefined;
      restarting = restart(server, exit);
    });
  };

  /** Never rejects: every failure is logged and retried until the supervisor stops. */
  const restart = async (dead: ServerProcess, exit: ExitInfo) => {
    const downSince = Date.now();
    if (downSince - startedAt >= STABLE_MS) failures = 0;
    let delay = nextDelay();
    log.warn(
      { server: name, serverPid: dead.pid, exit: describeExit(exit), delayMs: delay },
      `${name} (pid ${dead.pid}) exited unexpectedly (${describeExit(exit)}); restarting it in ${seconds(delay)}`,
    );
    // Kills what the dead leader left in its process group (Postgres backends) and removes its pid
    // file, so the new server finds its port, data directory and pid file free.
    await dead.stop().catch((err: unknown) => log.warn({ server: name, err }, `could not clean up after ${name} (pid ${dead.pid})`));
    for (;;) {
      try {
        await sleep(delay, undefined, { signal: stopping.signal });
        const server = await start(stopping.signal);
        current = server;
        startedAt = Date.now();
        log.info(
          { server: name, serverPid: server.pid, downMs: startedAt - downSince },
          `${name} is back after ${seconds(startedAt - downSince, 1)} (pid ${server.pid})`,
        );
        watch(server);
        return;
      } catch (err) {
        if (stopping.signal.aborted) return;
        delay = nextDelay();
        const message = err instanceof Error ? err.message : String(err);
        log.error({ server: name, delayMs: delay }, `could not restart ${name}: ${message}; trying again in ${seconds(delay)}`);
      }
    }
  };

  watch(first);
  let stopped: Promise<void> | undefined;
  return {
    stop: () =>
      (stopped ??= (async () => {
        stopping.abort();
        await restarting;
        await current?.stop();
      })()),
  };
}

/** "1 s", "30 s"; with `digits`, "2.3 s". */
function seconds(ms: number, digits = 0): string {
  return `${(ms / 1000).toFixed(digits)} s`;
}
