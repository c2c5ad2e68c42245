import type { FacepipeMetrics, Logger, ReadyReport } from '@facepipe/core';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import { openApiDocument } from '../contract/openapi.js';
import { probes } from '../contract/operations.js';
import { route } from '../contract/request-input.js';
import type { ServiceMetrics } from '../service-metrics.js';

export interface ProbesPluginOptions {
  log: Logger;
  metrics: FacepipeMetrics;
  serviceMetrics: ServiceMetrics;
  /** Readiness of Redis, S3 and the models (cached briefly). */
  ready: () => Promise<ReadyReport>;
}

/**
 * /healthz, /readyz, /metrics and /openapi.json (open to anyone), and the request metrics and
 * request log of every route.
 */
const probesPluginImpl: FastifyPluginAsync<ProbesPluginOptions> = async (app, options) => {
  const { log, metrics, serviceMetrics, ready } = options;

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    serviceMetrics.requests.observe({ method: request.method, route, status: String(reply.statusCode) }, seconds);
    if (route === '/metrics' || route === '/healthz' || route === '/readyz') return;
    const quiet = request.method === 'GET' && reply.statusCode < 400;
    // Paths carry ids, never secrets; headers (Authorization, Cookie) are never logged.
    log[quiet ? 'debug' : 'info']('request', { method: request.method, route, path: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 });
  });

  route(app, probes.healthz, async () => ({ status: 'ok' as const }));
  route(app, probes.readyz, async (_input, _request, reply) => {
    const report = await ready();
    return reply.code(report.ready ? 200 : 503).send(report);
  });
  route(app, probes.metrics, async (_input, _request, reply) => {
    const { contentType, body } = await metrics.scrape();
    return reply.type(contentType).header('cache-control', 'no-store').send(body);
  });
  route(app, probes.openapi, async () => openApiDocument);
  app.get('/', async (_request, reply) => reply.redirect('/dashboard', 302));
};

export const probesPlugin = fp(probesPluginImpl, { name: 'facepipe-probes', fastify: '5.x' });
