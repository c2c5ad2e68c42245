import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  FacepipeError,
  JobName,
  loadConfig,
  QueueName,
  ServiceContext,
  StageWorker,
  startObservability,
  type HealthServer,
  type LogContext,
} from '@facepipe/core';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startS3, type TestS3 } from '../helpers/s3-server.js';

let redis: TestRedis;
let s3: TestS3;
let ctx: ServiceContext;
let server: HealthServer | undefined;
let started = false;

before(async () => {
  [redis, s3] = await Promise.all([startRedis(), startS3()]);
  const config = loadConfig({
    ...s3.env,
    REDIS_URL: redis.url,
    FACEPIPE_REDIS_PREFIX: `t${randomUUID().slice(0, 8)}`,
    FACEPIPE_METRICS_PORT: '0',
    FACEPIPE_METRICS_HOST: '127.0.0.1',
    FACEPIPE_LOG_LEVEL: 'silent',
    FACEPIPE_JOB_ATTEMPTS: '1',
  });
  ctx = new ServiceContext(config, 'worker-test');
  await ctx.store.ensureBucket();
  server = await startObservability(ctx, () => started);
});
after(async () => {
  await server?.close();
  await ctx.close();
  await Promise.all([redis.stop(), s3.stop()]);
});

const job = (n: number) => ({
  imageId: n.toString(16).padStart(64, '0'),
  originalKey: `originals/x/${n}`,
  source: `photo-${n}.jpg`,
  batchId: 'b1',
  enqueuedAt: Date.now(),
  pipelineVersion: '0123456789ab',
});

test('a worker process serves /healthz at once and /readyz once its stage has started', async () => {
  assert.ok(server);
  const health = await fetch(`${server.url}/healthz`);
  assert.equal(health.status, 200);
  const notReady = await fetch(`${server.url}/readyz`);
  assert.equal(notReady.status, 503);
  const report = (await notReady.json()) as { checks: Record<string, { ok: boolean; detail?: string }> };
  assert.deepEqual(report.checks.redis, { ok: true });
  assert.deepEqual(report.checks.s3, { ok: true });
  assert.deepEqual(report.checks.models, { ok: false, detail: 'loading models' });
  started = true;
  await new Promise((r) => setTimeout(r, 1100)); // readiness is cached for a second
  const ready = await fetch(`${server.url}/readyz`);
  assert.equal(ready.status, 200);
  assert.equal((await fetch(`${server.url}/nope`)).status, 404);
});

test('/metrics counts jobs by stage and error code, and reads queue depths from BullMQ', async () => {
  assert.ok(server);
  const lines: LogContext[] = [];
  const worker = new StageWorker({
    queue: QueueName.Detect,
    jobName: JobName.DetectImage,
    connection: ctx.redis,
    prefix: ctx.config.redis.prefix,
    log: ctx.log,
    metrics: ctx.metrics,
    handler: async (data) => {
      lines.push({ imageId: data.imageId });
      if (data.source === 'photo-2.jpg') throw new FacepipeError('CORRUPT_IMAGE', 'bad pixels');
      return { faces: 3 };
    },
  });
  ctx.metrics.watchQueues(ctx.queues.all);
  const running = worker.run();
  await ctx.queues.addDetect(job(1));
  await ctx.queues.addDetect(job(2));
  for (let i = 0; i < 100; i += 1) {
    const counts = await ctx.queues.detect.getJobCounts('completed', 'failed');
    if (counts.completed === 1 && counts.failed === 1) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await worker.close();
  await running;
  const body = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(body, /^facepipe_jobs_completed_total\{stage="detect",service="worker-test"\} 1$/m);
  assert.match(body, /^facepipe_faces_processed_total\{stage="detect",service="worker-test"\} 3$/m);
  assert.match(body, /^facepipe_jobs_failed_total\{stage="detect",code="CORRUPT_IMAGE",final="true",service="worker-test"\} 1$/m);
  assert.match(body, /^facepipe_queue_jobs\{queue="detect",state="completed",service="worker-test"\} 1$/m);
  assert.match(body, /^facepipe_queue_jobs\{queue="detect",state="failed",service="worker-test"\} 1$/m);
  assert.match(body, /^facepipe_queue_workers\{queue="embed",service="worker-test"\} 0$/m);
  assert.match(body, /^process_resident_memory_bytes/m);
  assert.equal(lines.length, 2);
});
