/**
 * The worker's HTTP endpoint (SLUICE_WORKER_HTTP), for Kubernetes probes and Prometheus:
 * - `GET /healthz`: 200 while the process serves its event loop (liveness).
 * - `GET /readyz`: 200 once every Temporal worker of the process polls; 503 while starting and
 *   once draining after SIGTERM, so a rollout waits for a new worker to poll and stops counting an
 *   old one as soon as it stops.
 * - `GET /metrics`: Sluice's own metrics (./metrics.ts) and the Temporal SDK's, in one scrape. The
 *   SDK serves its Prometheus metrics only on an address of its own (its Rust core binds it), so
 *   they are fetched from there and appended: one port to scrape and to open in a NetworkPolicy.
 * node:http rather than Express: three read-only routes do not need a framework.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../infra/logger';
import { workerRegistry } from './metrics';

export interface HealthServerOptions {
  /** host:port to listen on. */
  address: string;
  /** Whether the process is ready for work (every worker polling, not draining). */
  ready: () => boolean;
  /** host:port of the SDK's Prometheus exporter, once known; undefined, `/metrics` has Sluice's metrics only. */
  sdkMetricsAddress: () => string | undefined;
  log: Logger;
}

export interface HealthServer {
  /** The port it listens on (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/** How long `/metrics` waits for the SDK's exporter, well inside Prometheus' 10 s scrape timeout. */
const SDK_SCRAPE_TIMEOUT_MS = 3_000;

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const { host, port } = splitHostPort(options.address);
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'method not allowed\n');
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return reply(200, 'ok\n');
    if (path === '/readyz') return options.ready() ? reply(200, 'ready\n') : reply(503, 'not ready\n');
    if (path === '/metrics') {
      metricsText(options)
        .then((text) => reply(200, text, workerRegistry.contentType))
        .catch((err: unknown) => {
          options.log.warn({ err }, 'metrics: rendering failed');
          reply(500, 'metrics unavailable\n');
        });
      return;
    }
    reply(404, 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`SLUICE_WORKER_HTTP: cannot listen on ${options.address} (${err.code ?? err.message})`)));
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  // A probe's keep-alive connection must not hold the process open after the worker stops.
  server.keepAliveTimeout = 1_000;
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function metricsText(options: HealthServerOptions): Promise<string> {
  const own = await workerRegistry.metrics();
  const sdk = options.sdkMetricsAddress();
  if (!sdk) return own;
  try {
    const res = await fetch(`http://${sdk}/metrics`, { signal: AbortSignal.timeout(SDK_SCRAPE_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return `${own}\n${await res.text()}`;
  } catch (err) {
    // Sluice's own numbers still answer; the missing temporal_* series show the gap in Prometheus.
    options.log.warn({ err }, `metrics: the Temporal SDK's exporter at ${sdk} did not answer`);
    return own;
  }
}

function splitHostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) };
}
