import { readyReport, startHealthServer, type HealthServer, type ReadyCheck, type ReadyReport } from '../observability/index.js';
import type { ServiceContext } from './service-context.js';

/**
 * Readiness of a process on this context: Redis answers, S3 answers, and its own part
 * (`models`: the stage's models are loaded, or the service knows the model versions).
 */
export function contextReadiness(ctx: ServiceContext, models: () => ReadyCheck): Promise<ReadyReport> {
  return readyReport({
    redis: async () => {
      if (ctx.redis.status !== 'ready') return { ok: false, detail: `connection ${ctx.redis.status}` };
      await ctx.redis.ping();
      return { ok: true };
    },
    s3: async () => {
      await ctx.store.head('.facepipe-ready-probe');
      return { ok: true };
    },
    models: async () => models(),
  });
}

/**
 * Starts a worker's /metrics, /healthz and /readyz on FACEPIPE_METRICS_HOST:FACEPIPE_METRICS_PORT
 * (port 0 = a free one, -1 = none) and logs where. `/readyz` stays 503 until `started()` is true.
 */
export async function startObservability(ctx: ServiceContext, started: () => boolean): Promise<HealthServer | undefined> {
  const { metricsPort: port, metricsHost: host } = ctx.config;
  if (port < 0) return undefined;
  ctx.metrics.enableProcessMetrics();
  let server: HealthServer;
  try {
    server = await startHealthServer({
      port,
      host,
      metrics: ctx.metrics,
      log: ctx.log,
      ready: () => contextReadiness(ctx, () => (started() ? { ok: true } : { ok: false, detail: 'loading models' })),
    });
  } catch (err) {
    const reason = (err as { code?: string }).code === 'EADDRINUSE' ? 'the port is in use' : (err as Error).message;
    throw new Error(`cannot serve metrics on ${host}:${port}: ${reason} (set FACEPIPE_METRICS_PORT to another port, 0 for a free one, -1 for none)`, { cause: err });
  }
  ctx.log.info('metrics and health endpoints listening', { url: `${server.url}/metrics`, port: server.port });
  return server;
}
