import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  cachedReadiness,
  contextReadiness,
  FacepipeError,
  isImageId,
  isPersonName,
  objectKeys,
  type EnrollmentReport,
  type FacepipeConfig,
  type ResultDocument,
} from '@facepipe/core';
import { sniffFormat } from '@facepipe/vision';
import { Producer } from '../producer.js';
import { batchResults, toResultLine } from '../results/batch-results.js';
import { ApiError, statusForCode, uploadStatus } from './api-errors.js';
import { Authenticator } from './auth.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { DashboardData } from './dashboard-data.js';
import { Enrollments } from './enrollments.js';
import { imageStatus } from './image-status.js';
import { checkListenPolicy } from './listen-policy.js';
import { openApiDocument } from './openapi.js';
import { batchProgress } from './progress.js';
import { ServiceMetrics } from './service-metrics.js';
import { dashboardPlugin, dashboardPublicPaths } from './plugins/dashboard.js';
import { UploadSlots } from './upload-slots.js';
import { Uploads, type UploadPart } from './uploads.js';

export interface ServiceOptions {
  config: FacepipeConfig;
  /** A connected producer to use (and leave open); otherwise the service connects its own. */
  producer?: Producer;
  /** Overrides FACEPIPE_HTTP_HOST. */
  host?: string;
  /** Overrides FACEPIPE_HTTP_PORT (0 = a free port). */
  port?: number;
  /** Longest an enrollment request waits for its photos and gallery. @defaultValue 600000 */
  enrollTimeoutMs?: number;
}

/** A listening service. */
export interface RunningService {
  /** Where it listens, e.g. http://127.0.0.1:8080 (loopback shown for a wildcard address). */
  readonly url: string;
  readonly port: number;
  readonly app: FastifyInstance;
  readonly producer: Producer;
  /** Stops listening, lets running enrollments finish (briefly), closes what it opened. Idempotent. */
  close(): Promise<void>;
}

/** Paths anyone may call: probes, metrics, the API description, the dashboard shell and its sign-in. */
const publicPaths = new Set(['/', '/healthz', '/readyz', '/metrics', '/openapi.json', ...dashboardPublicPaths]);

const imageTypes: Record<string, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  tiff: 'image/tiff',
  bmp: 'image/bmp',
  ico: 'image/x-icon',
  avif: 'image/avif',
  heic: 'image/heic',
};

/**
 * `facepipe serve`: the upload API (/v1), the operations dashboard (/dashboard, with bull-board
 * under /dashboard/jobs), /metrics, /healthz, /readyz and /openapi.json, on one Fastify server.
 * Refuses to listen on a non-loopback address without FACEPIPE_API_TOKEN.
 */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const { config } = options;
  const host = options.host ?? config.http.host;
  const port = options.port ?? config.http.port;
  checkListenPolicy(host, config.http.token);
  const ownProducer = options.producer === undefined;
  const producer = options.producer ?? (await Producer.connect(config, 'service'));
  let app: FastifyInstance | undefined;
  try {
    app = await buildApp(producer, config, options);
    await app.listen({ host, port });
  } catch (err) {
    await app?.close().catch(() => undefined);
    if (ownProducer) await producer.close();
    const code = (err as { code?: string }).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      throw new Error(`cannot listen on ${host}:${port}: ${code} (set FACEPIPE_HTTP_HOST / FACEPIPE_HTTP_PORT; port 0 picks a free one)`, { cause: err });
    }
    throw err;
  }
  const bound = (app.server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  const url = `http://${shownHost}:${bound}`;
  producer.ctx.log.info('service listening', { url, host, port: bound, auth: config.http.token !== undefined, dashboard: `${url}/dashboard` });
  const { enrollments, uploads } = app;
  let closing: Promise<void> | undefined;
  const running = app;
  return {
    url,
    port: bound,
    app: running,
    producer,
    close() {
      closing ??= (async () => {
        await running.close();
        // A client that went away leaves its upload's bookkeeping running: let it finish.
        await uploads.idle();
        await enrollments.close();
        if (ownProducer) await producer.close();
      })();
      return closing;
    },
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    enrollments: Enrollments;
    uploads: Uploads;
    /** Every route the service registered (method, URL pattern), for the OpenAPI check. */
    facepipeRoutes: { method: string; url: string }[];
  }
}

const tooManyAttempts = (seconds: number) =>
  new ApiError(429, 'TOO_MANY_ATTEMPTS', `too many failed attempts to authenticate from this address; try again in ${seconds} s`, { 'retry-after': String(seconds) });

async function buildApp(producer: Producer, config: FacepipeConfig, options: ServiceOptions): Promise<FastifyInstance> {
  const log = producer.ctx.log.child({ component: 'http' });
  const auth = new Authenticator(config.http.token);
  const authFailures = new AuthFailureLimiter({ maxFailures: config.http.authMaxFailures, windowMs: config.http.authWindowMs });
  /** Counts a failed authentication; logs when the address reaches the limit. */
  const authFailed = (ip: string) => {
    if (authFailures.recordFailure(ip)) log.warn('client refused after repeated failed authentication', { ip, windowS: config.http.authWindowMs / 1000 });
  };
  const metrics = producer.ctx.metrics;
  metrics.enableProcessMetrics();
  metrics.watchQueues(producer.ctx.queues.all);
  const serviceMetrics = new ServiceMetrics(metrics.registry);
  const uploads = new Uploads({
    producer,
    slots: new UploadSlots(config.http.uploadConcurrency),
    maxBytes: config.http.uploadMaxBytes,
    log,
    onFile: (file, bytes) => serviceMetrics.recordUpload(file, bytes),
  });
  const dashboard = new DashboardData(producer);
  const enrollments = new Enrollments(producer, log, options.enrollTimeoutMs);
  const ready = cachedReadiness(() => contextReadiness(producer.ctx, () => ({ ok: true })));

  const app = Fastify({ logger: false, bodyLimit: 64 * 1024, return503OnClosing: true, forceCloseConnections: 'idle', trustProxy: config.http.trustProxy });
  app.decorate('enrollments', enrollments);
  app.decorate('uploads', uploads);
  const routes: { method: string; url: string }[] = [];
  app.decorate('facepipeRoutes', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  await app.register(multipart, { limits: { fileSize: config.http.uploadMaxBytes, files: config.http.uploadMaxFiles } });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    const path = request.url.split('?')[0] ?? '/';
    if (publicPaths.has(path)) return;
    // Answered here rather than thrown: plugins with error handlers of their own (bull-board)
    // would turn a thrown error into a 500.
    const refuse = (message: string) =>
      reply.code(401).header('www-authenticate', 'Bearer realm="facepipe"').send(new ApiError(401, 'UNAUTHORIZED', message).toBody());
    if (!auth.required) return;
    const wait = authFailures.retryAfterSeconds(request.ip);
    if (wait > 0) {
      const refused = tooManyAttempts(wait);
      return reply.code(refused.status).headers(refused.headers).send(refused.toBody());
    }
    const result = auth.check(request.headers, true);
    if (result === 'invalid') authFailed(request.ip);
    if (result !== 'ok') return refuse(result === 'missing' ? 'this route needs Authorization: Bearer <FACEPIPE_API_TOKEN>' : 'the token is not valid');
    // A browser session may change things only from the service's own pages.
    if (request.headers.authorization === undefined && request.method !== 'GET' && request.method !== 'HEAD') {
      const origin = request.headers.origin;
      if (origin !== undefined && origin !== `${request.protocol}://${request.headers.host}`) return refuse('cross-origin request refused');
    }
  });

  // An answer sent before the request body was read (a refused upload): close the connection
  // after it and read the rest away, so the client is not left writing into a paused socket.
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.raw.complete && request.method !== 'GET' && request.method !== 'HEAD') {
      reply.header('connection', 'close');
      request.raw.resume();
    }
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = reply.elapsedTime / 1000;
    serviceMetrics.requests.observe({ method: request.method, route, status: String(reply.statusCode) }, seconds);
    if (route === '/metrics' || route === '/healthz' || route === '/readyz') return;
    const quiet = request.method === 'GET' && reply.statusCode < 400;
    // Paths carry ids, never secrets; headers (Authorization, Cookie) are never logged.
    log[quiet ? 'debug' : 'info']('request', { method: request.method, route, path: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 });
  });

  app.setErrorHandler(async (err: Error & { code?: string; statusCode?: number; validation?: unknown }, request, reply) => {
    let status: number;
    let body: { error: { code: string; message: string } };
    if (err instanceof ApiError) {
      status = err.status;
      reply.headers(err.headers);
      body = err.toBody();
    } else if (err instanceof FacepipeError) {
      status = statusForCode(err.code);
      body = { error: err.toRecord() };
    } else if (err.code === 'FST_FILES_LIMIT') {
      status = 413;
      body = { error: { code: 'TOO_MANY_FILES', message: `at most ${config.http.uploadMaxFiles} files per request (FACEPIPE_UPLOAD_MAX_FILES)` } };
    } else if (err.code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
      status = 415;
      body = { error: { code: 'NOT_MULTIPART', message: 'send multipart/form-data, one part per image' } };
    } else if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      body = { error: { code: status === 413 ? 'TOO_MANY_FILES' : 'BAD_REQUEST', message: err.message } };
    } else {
      status = 500;
      log.error('request failed', { route: request.routeOptions.url, err });
      body = { error: { code: 'INTERNAL', message: 'internal error; see the service log' } };
    }
    if (status >= 500 && status !== 500) log.warn('request failed', { route: request.routeOptions.url, code: body.error.code, err: body.error.message });
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler(async (request) => {
    throw new ApiError(404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
  });

  // ---- probes, metrics, description ----
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const report = await ready();
    return reply.code(report.ready ? 200 : 503).send(report);
  });
  app.get('/metrics', async (_request, reply) => {
    const { contentType, body } = await metrics.scrape();
    return reply.type(contentType).header('cache-control', 'no-store').send(body);
  });
  app.get('/openapi.json', async () => openApiDocument);
  app.get('/', async (_request, reply) => reply.redirect('/dashboard', 302));

  // ---- upload API ----
  const partsOf = (request: FastifyRequest): AsyncIterable<UploadPart> => {
    if (!request.isMultipart()) throw new ApiError(415, 'NOT_MULTIPART', 'send multipart/form-data, one part per image');
    const max = config.http.uploadMaxFiles;
    return request.parts({ limits: { fileSize: config.http.uploadMaxBytes, files: max, fields: max + 2, fieldSize: 4096, parts: 2 * max + 2 }, throwFileSizeLimit: false } as Parameters<FastifyRequest['parts']>[0]) as AsyncIterable<UploadPart>;
  };

  app.post('/v1/images', async (request, reply) => {
    const parts = partsOf(request);
    await uploads.checkRoom();
    const result = await uploads.receive(parts, { purpose: 'ingest' });
    return reply.code(uploadStatus(result.files.map((f) => f.error))).send(result);
  });

  app.get<{ Params: { id: string } }>('/v1/images/:id', async (request) => {
    const id = checkImageId(request.params.id);
    const status = await imageStatus(producer, id);
    if (!status) throw new ApiError(404, 'NOT_FOUND', `nothing is known about image ${id}`);
    return status;
  });

  app.get<{ Params: { id: string } }>('/v1/images/:id/original', async (request, reply) => {
    const id = checkImageId(request.params.id);
    return sendImage(reply, await openObject(producer, objectKeys.original(id)));
  });

  app.get<{ Params: { id: string } }>('/v1/images/:id/crops', async (request, reply) => {
    const id = checkImageId(request.params.id);
    const result = await producer.ctx.store.getJson<ResultDocument>(objectKeys.result(id));
    const cropKey = result?.faces[0]?.cropKey;
    if (!cropKey) throw new ApiError(404, 'NOT_FOUND', `image ${id} has no result with faces`);
    return sendImage(reply, await openObject(producer, cropKey));
  });

  app.get<{ Querystring: { limit?: string } }>('/v1/batches', async (request) => {
    const limit = Math.min(Math.max(Number(request.query.limit ?? 50) || 50, 1), 500);
    const now = Date.now();
    return { batches: (await producer.ctx.tracker.listBatches(limit)).map((b) => batchProgress(b, now)) };
  });

  app.get<{ Params: { id: string } }>('/v1/batches/:id', async (request) => {
    const batch = await producer.getBatch(request.params.id);
    if (!batch) throw new ApiError(404, 'NOT_FOUND', `no batch ${request.params.id}`);
    const enrollment = batch.purpose === 'enroll' ? await producer.ctx.store.getJson<EnrollmentReport>(objectKeys.enrollReport(batch.id)) : undefined;
    return { ...batchProgress(batch), ...(enrollment ? { enrollment } : {}) };
  });

  app.post<{ Params: { id: string } }>('/v1/batches/:id/close', async (request) => {
    const total = await producer.ctx.tracker.closeBatch(request.params.id);
    if (total === undefined) throw new ApiError(404, 'NOT_FOUND', `no batch ${request.params.id}`);
    log.info('batch closed', { batchId: request.params.id, total });
    return batchProgress((await producer.getBatch(request.params.id))!);
  });

  app.get<{ Params: { id: string } }>('/v1/batches/:id/results', async (request, reply) => {
    const batch = await producer.getBatch(request.params.id);
    if (!batch) throw new ApiError(404, 'NOT_FOUND', `no batch ${request.params.id}`);
    const lines = async function* () {
      for await (const { entry, result } of batchResults(producer.ctx.store, batch.id)) yield `${JSON.stringify(toResultLine(entry, result))}\n`;
    };
    return reply.type('application/x-ndjson').send(Readable.from(lines()));
  });

  app.post<{ Params: { name: string }; Querystring: { wait?: string } }>('/v1/people/:name/images', async (request, reply) => {
    const name = request.params.name;
    if (!isPersonName(name)) throw new ApiError(400, 'BAD_REQUEST', `"${name}" is not a valid name (letters, digits, space . _ ' -; at most 100)`);
    const parts = partsOf(request);
    await uploads.checkRoom();
    const result = await uploads.receive(parts, { purpose: 'enroll', person: name });
    if (result.files.every((f) => f.status === 'rejected')) return reply.code(uploadStatus(result.files.map((f) => f.error))).send(result);
    const enrollment = enrollments.start(result.batchId);
    if (request.query.wait === 'false' || request.query.wait === '0') {
      enrollment.catch(() => undefined);
      return reply.code(202).send(result);
    }
    try {
      return { batchId: result.batchId, files: result.files, enrollment: await enrollment };
    } catch (err) {
      throw new ApiError(504, 'TIMEOUT', `${(err as Error).message}; the enrollment goes on in the background (GET /v1/batches/${result.batchId})`);
    }
  });

  app.get('/v1/people', async () => dashboard.people());

  await app.register(dashboardPlugin, { producer, config, auth, authFailures, authFailed, tooManyAttempts, log });
  return app;
}

function checkImageId(id: string): string {
  if (!isImageId(id)) throw new ApiError(400, 'BAD_REQUEST', 'image ids are 64 lowercase hex digits (the sha256 of the bytes)');
  return id;
}

/** Opens a stored object for streaming, with its first bytes read to name its type. */
async function openObject(producer: Producer, key: string): Promise<{ head: Buffer; body: Readable }> {
  let stream: Readable;
  try {
    stream = await producer.ctx.store.getStream(key);
  } catch (err) {
    if (err instanceof FacepipeError && err.code === 'OBJECT_NOT_FOUND') throw new ApiError(404, 'NOT_FOUND', 'no such object');
    throw err;
  }
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  const head = first.done ? Buffer.alloc(0) : Buffer.from(first.value);
  const body = Readable.from(
    (async function* () {
      if (!first.done) yield head;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    })(),
  );
  return { head, body };
}

/** Sends stored image bytes as the image type their signature says (never as HTML: nosniff, no scripts). */
function sendImage(reply: FastifyReply, object: { head: Buffer; body: Readable }) {
  const sniffed = sniffFormat(object.head);
  const type = sniffed.kind === 'supported' ? imageTypes[sniffed.format] : undefined;
  return reply
    .type(type ?? 'application/octet-stream')
    .headers({ 'cache-control': 'private, max-age=86400, immutable', 'content-security-policy': "default-src 'none'; sandbox" })
    .send(object.body);
}

