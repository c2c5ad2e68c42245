import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../logging/index.js';
import type { FacepipeMetrics } from './facepipe-metrics.js';

/** One dependency's state in a readiness report. */
export interface ReadyCheck {
  ok: boolean;
  /** Why it is not ready (never a secret: no URLs with credentials). */
  detail?: string;
}

/** What /readyz answers: ready only when every check passes. */
export interface ReadyReport {
  ready: boolean;
  checks: Record<string, ReadyCheck>;
}

export interface HealthServerOptions {
  /** 0 = a free port. */
  port: number;
  /** @defaultValue 0.0.0.0 (Prometheus and orchestrators reach it from outside) */
  host?: string;
  metrics: FacepipeMetrics;
  /** Computes readiness; results are reused for `readyCacheMs`. */
  ready: () => Promise<ReadyReport>;
  log?: Logger;
  /** @defaultValue 1000 */
  readyCacheMs?: number;
}

/** A running /metrics, /healthz, /readyz server. */
export interface HealthServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Readiness from named checks: each runs with a time limit, and a check that throws counts as
 * not ready with its message.
 */
export async function readyReport(checks: Record<string, () => Promise<ReadyCheck>>, timeoutMs = 2000): Promise<ReadyReport> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]): Promise<[string, ReadyCheck]> => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<ReadyCheck>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
      });
      try {
        return [name, await Promise.race([check(), timeout])];
      } catch (err) {
        return [name, { ok: false, detail: err instanceof Error ? err.message : String(err) }];
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const result = Object.fromEntries(entries);
  return { ready: entries.every(([, c]) => c.ok), checks: result };
}

/**
 * Caches a readiness probe for `ttlMs`, sharing one run between concurrent callers, so a
 * tight probe interval does not turn into a stream of Redis/S3 requests.
 */
export function cachedReadiness(probe: () => Promise<ReadyReport>, ttlMs = 1000): () => Promise<ReadyReport> {
  let last: { at: number; report: ReadyReport } | undefined;
  let running: Promise<ReadyReport> | undefined;
  return () => {
    if (last && performance.now() - last.at < ttlMs) return Promise.resolve(last.report);
    running ??= probe()
      .then((report) => {
        last = { at: performance.now(), report };
        return report;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  };
}

/**
 * Serves `/metrics` (Prometheus text), `/healthz` (the process answers: 200) and `/readyz`
 * (200 when Redis and S3 answer and the models are loaded, else 503 with the failing checks)
 * on a plain node:http server. Used by every worker; the HTTP service serves the same paths itself.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const ready = cachedReadiness(options.ready, options.readyCacheMs ?? 1000);
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz') return send(res, 200, 'application/json', '{"status":"ok"}\n');
    if (path === '/readyz') {
      const report = await ready();
      return send(res, report.ready ? 200 : 503, 'application/json', `${JSON.stringify(report)}\n`);
    }
    if (path === '/metrics') {
      const { contentType, body } = await options.metrics.scrape();
      return send(res, 200, contentType, body);
    }
    return send(res, 404, 'text/plain', 'not found: try /metrics, /healthz or /readyz\n');
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.log?.warn('health endpoint failed', { path: req.url, err });
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000;
  const host = options.host ?? '0.0.0.0';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${shownHost}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
