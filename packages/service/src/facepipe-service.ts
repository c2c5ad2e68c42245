import { ErasureCommands } from './erasures.js';
import type { AddressInfo } from 'node:net';
import multipart from '@fastify/multipart';
import Fastify, { type FastifyInstance } from 'fastify';
import { cachedReadiness, contextReadiness, describeDisk, ReindexSchedules, type FacepipeConfig } from '@facepipe/core';
import { Producer } from '@facepipe/producer';
import { ApiKeys } from './api-keys.js';
import { Authenticator } from './auth.js';
import { AuthFailureLimiter } from './auth-failure-limiter.js';
import { BatchCommands } from './commands/batch-commands.js';
import { QueueControl } from './commands/queue-control.js';
import { Credentials } from './credentials.js';
import { DashboardData } from './dashboard-data.js';
import { Enrollments } from './enrollments.js';
import { LibraryAccess } from './library-access.js';
import { checkListenPolicy } from './listen-policy.js';
import { authPlugin, recordFailedSignIn, tooManyAttempts } from './plugins/auth.js';
import { batchesPlugin } from './plugins/batches.js';
import { dashboardPlugin, dashboardPublicPaths } from './plugins/dashboard.js';
import { clientErrorHandler, errorsPlugin, frameworkErrors } from './plugins/errors.js';
import { imagesPlugin } from './plugins/images.js';
import { ImageRenditions } from './image-renditions.js';
import { webhooksPlugin } from './plugins/webhooks.js';
import { WebhookStore } from './webhooks/webhook-store.js';
import { keysPlugin } from './plugins/keys.js';
import { libraryPlugin } from './plugins/library.js';
import { peoplePlugin } from './plugins/people.js';
import { probesPlugin } from './plugins/probes.js';
import { BatchReads } from './read-models/batch-reads.js';
import { GalleryReads } from './read-models/gallery-reads.js';
import { ImageReads } from './read-models/image-reads.js';
import { MemoryBudget } from './memory-budget.js';
import { RouteMethods } from './route-methods.js';
import { ServiceMetrics } from './service-metrics.js';
import { UploadSlots } from './upload-slots.js';
import { Uploads } from './uploads.js';

export interface ServiceOptions {
  config: FacepipeConfig;
  /** A connected producer to use (and leave open); otherwise the service connects its own. */
  producer?: Producer;
  /** Overrides FACEPIPE_HTTP_HOST. */
  host?: string;
  /** Overrides FACEPIPE_HTTP_PORT (0 = a free port). */
  port?: number;
  /** Longest an enrollment goes on (in the background) for its photos and gallery. @defaultValue 600000 */
  enrollTimeoutMs?: number;
  /** Longest an enroll request waits before answering 202 with a status URL. @defaultValue 20000 */
  enrollWaitMs?: number;
  /** Where uploads wait until their request is accepted (one private temp dir per request, always removed). @defaultValue os.tmpdir() */
  uploadSpoolDir?: string;
  /** Bytes of uploads held in memory while their requests are read (all together); the rest waits in the spool dir. @defaultValue 67108864 (64 MiB) */
  uploadSpoolMemoryBytes?: number;
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

/** An unread request body up to this size is read away after an early answer, keeping the connection. */
const unreadBodyReadAwayBytes = 64 * 1024 * 1024;

async function buildApp(producer: Producer, config: FacepipeConfig, options: ServiceOptions): Promise<FastifyInstance> {
  const log = producer.ctx.log.child({ component: 'http' });
  const auth = new Authenticator(config.http.token);
  const keys = new ApiKeys(producer.ctx.redis, config.redis.prefix);
  const credentials = new Credentials(auth, keys);
  const authFailures = new AuthFailureLimiter({ maxFailures: config.http.authMaxFailures, windowMs: config.http.authWindowMs });
  /** Counts a failed authentication; logs when the address reaches the limit. */
  const authFailed = (ip: string) => recordFailedSignIn(authFailures, log, ip, config.http.authWindowMs);
  const metrics = producer.ctx.metrics;
  metrics.enableProcessMetrics();
  metrics.watchQueues(producer.ctx.queues.all);
  metrics.watchAdmission(() => producer.ctx.gate.state());
  const serviceMetrics = new ServiceMetrics(metrics.registry);
  const disk = producer.ctx.disk;
  disk.exportMetrics(metrics.registry);
  const uploads = new Uploads({
    producer,
    slots: new UploadSlots(config.http.uploadConcurrency),
    maxBytes: config.http.uploadMaxBytes,
    log,
    onFile: (file, bytes) => serviceMetrics.recordUpload(file, bytes),
    spoolDir: options.uploadSpoolDir,
    spoolMemory: new MemoryBudget(options.uploadSpoolMemoryBytes ?? 64 * 1024 * 1024),
  });
  // What the routes read and do, built here from the producer's clients: the plugins get these
  // named read models and commands, never the producer or its context.
  const { tracker, store, queues, redis } = producer.ctx;
  const access = new LibraryAccess(config, store);
  const reads = {
    batches: new BatchReads({ tracker, store, access }),
    images: new ImageReads({ queues, tracker, store, pipelineVersion: producer.pipelineVersion }),
    gallery: new GalleryReads(store),
    dashboard: new DashboardData({ queues, tracker, store, redis, disk, bounds: config.queues.bounds, prefix: config.redis.prefix }, config.dashboard),
  };
  const enrollments = new Enrollments(producer, queues, log, options.enrollTimeoutMs);
  const ready = cachedReadiness(async () => {
    const report = await contextReadiness(producer.ctx, () => ({ ok: true }));
    if (disk.watching.length === 0) return report;
    const full = await disk.full();
    const check = full.length === 0 ? { ok: true } : { ok: false, detail: full.map(describeDisk).join('; ') };
    return { ready: report.ready && check.ok, checks: { ...report.checks, disk: check } };
  });
  const maxFiles = config.http.uploadMaxFiles;
  const maxBytes = config.http.uploadMaxBytes;

  const app = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    // The errors plugin answers requests that arrive while closing, in the common error shape.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    trustProxy: config.http.trustProxy,
    frameworkErrors: frameworkErrors(maxFiles),
    clientErrorHandler,
  });
  app.decorate('enrollments', enrollments);
  app.decorate('uploads', uploads);
  const routes: { method: string; url: string }[] = [];
  app.decorate('facepipeRoutes', routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  await app.register(errorsPlugin, { log, uploadMaxFiles: maxFiles, methods: new RouteMethods(routes) });
  await app.register(multipart, { limits: { fileSize: maxBytes, files: maxFiles } });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  await app.register(authPlugin, { credentials, limiter: authFailures, log, windowMs: config.http.authWindowMs, publicPaths });

  // An answer sent before the request body was read (an upload refused while a queue or the
  // disk is full, a bad request): read the rest away, so the client is not left writing into a
  // paused socket. A body of known length up to 64 MiB keeps the connection: closing it while
  // the client still writes makes the client see a broken pipe (EPIPE) instead of the answer,
  // as the disk-full test did under load. A larger or unknown body is not worth reading: close.
  app.addHook('onSend', async (request, reply, payload) => {
    if (!request.raw.complete && request.method !== 'GET' && request.method !== 'HEAD') {
      const length = Number(request.headers['content-length']);
      if (!(Number.isFinite(length) && length <= unreadBodyReadAwayBytes)) reply.header('connection', 'close');
      request.raw.resume();
    }
    return payload;
  });

  await app.register(probesPlugin, { log, metrics, serviceMetrics, ready });
  const renditions = new ImageRenditions({ maxPixels: config.detect.maxPixels });
  const erasures = new ErasureCommands({ store, redis, prefix: config.redis.prefix, queues, access, log: producer.ctx.log, renditions });
  await app.register(imagesPlugin, { reads: reads.images, uploads, erasures, maxFiles, maxBytes, renditions });
  await app.register(batchesPlugin, { reads: reads.batches, commands: new BatchCommands(tracker, log) });
  await app.register(peoplePlugin, { uploads, enrollments, maxFiles, maxBytes, enrollWaitMs: options.enrollWaitMs });
  await app.register(keysPlugin, { keys, log });
  await app.register(webhooksPlugin, { store: new WebhookStore(producer.ctx.redis, config.redis.prefix), log });
  await app.register(libraryPlugin, { access, gallery: reads.gallery, schedules: new ReindexSchedules(queues), erasures, maxBytes });

  const queueControl = new QueueControl({ queues, tracker, redis, log: producer.ctx.log });
  await app.register(dashboardPlugin, { dashboard: reads.dashboard, queueControl, queues: queues.all, auth, credentials, authFailures, authFailed, tooManyAttempts, log });
  return app;
}
