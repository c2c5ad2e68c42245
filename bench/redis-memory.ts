/**
 * Redis memory for big imports: what facepipe keeps in Redis per image, measured with
 * `INFO memory` on a private redis-server, so the memory a 10-million-image import needs can
 * be read off instead of discovered in production.
 *
 *   npx tsx bench/redis-memory.ts [--images 50000]
 *
 * 1. Batch accounting + de-duplication (BatchTracker): one batch of N images, each claimed and
 *    completed as the pipeline does; reported per image, split into what stays for the batch's
 *    life (2 bits per image in bitmaps) and what expires (the image's remembered outcome).
 * 2. BullMQ jobs with facepipe's real payloads and job options: per waiting job (the producer
 *    keeps at most FACEPIPE_MAX_QUEUED waiting), and after N jobs have been completed by a worker
 *    (completed jobs are trimmed to FACEPIPE_KEEP_COMPLETED).
 * Baseline: the same server's memory before each step.
 */
import { parseArgs } from 'node:util';
import { Worker } from 'bullmq';
import { BatchTracker, closeRedis, createRedisConnection, newBatchId, PipelineQueues, QueueName } from '@facepipe/core';
import { startRedis } from '../test/helpers/redis-server.js';

const { values } = parseArgs({ options: { images: { type: 'string', default: '50000' } } });
const n = Number(values.images);
const server = await startRedis();
const redis = createRedisConnection(server.url, 'worker');

async function usedMemory(): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}
async function settle(): Promise<number> {
  await new Promise((r) => setTimeout(r, 200));
  return usedMemory();
}
const imageId = (i: number) => i.toString(16).padStart(64, '0');
const perImage = (bytes: number) => `${(bytes / n).toFixed(1)} B`;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const rows: string[] = [];
const version = 'p-ssd_mobilenetv1-face-api-1.7.15-866b8014-fr-1a2b3c4d';

try {
  // 1. tracker
  const tracker = new BatchTracker(redis, { prefix: 'bench' });
  const base = await settle();
  const batchId = newBatchId();
  await tracker.createBatch(batchId, 'ingest', '/photos');
  for (let start = 0; start < n; start += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, n - start) }, async (_, k) => {
        const i = start + k;
        const index = await tracker.addItem(batchId);
        await tracker.claimImage(imageId(i), version, batchId, index);
        await tracker.completeImage(imageId(i), version, { kind: 'done', faces: 1 });
      }),
    );
  }
  await tracker.finishIngest(batchId, n);
  process.stderr.write('tracker step done\n');
  const afterTracker = await settle();
  const imageKeys = await redis.eval(`local c = 0 for _, k in ipairs(redis.call('KEYS', 'bench:img:*')) do c = c + redis.call('MEMORY', 'USAGE', k) end return c`, 0);
  const batchBytes = (await redis.memory('USAGE', `bench:batch:${batchId}:done`)) ?? 0;
  rows.push(
    `| tracker, ${n} images done | ${mib(afterTracker - base)} | ${perImage(afterTracker - base)} | image outcomes (expire after FACEPIPE_REMEMBER_DONE_S): ${perImage(Number(imageKeys))} by MEMORY USAGE; batch bitmaps: ${perImage(Number(batchBytes) * 2)} |`,
  );
  await redis.flushall();

  // 2. BullMQ: waiting jobs, then completed ones.
  const policy = { attempts: 3, keepCompleted: 1000, keepFailed: 10_000 };
  const queues = new PipelineQueues(redis, 'bench', policy);
  const job = (i: number) => ({
    imageId: imageId(i),
    originalKey: `originals/${imageId(i).slice(0, 2)}/${imageId(i)}`,
    source: `holiday-2026/camera-roll/IMG_${String(i).padStart(6, '0')}.jpg`,
    batchId,
    enqueuedAt: Date.now(),
    pipelineVersion: version,
  });
  const beforeJobs = await settle();
  for (let start = 0; start < n; start += 1000) await queues.addDetectBulk(Array.from({ length: Math.min(1000, n - start) }, (_, k) => job(start + k)));
  const waiting = await settle();
  process.stderr.write('jobs added\n');
  rows.push(`| BullMQ, ${n} waiting detect jobs | ${mib(waiting - beforeJobs)} | ${perImage(waiting - beforeJobs)} | the producer keeps at most FACEPIPE_MAX_QUEUED (2000) waiting: ≈ ${mib(((waiting - beforeJobs) / n) * 2000)} |`);
  const workerConnection = createRedisConnection(server.url, 'worker');
  const worker = new Worker(QueueName.Detect, async () => 'ok', { connection: workerConnection, prefix: 'bench', concurrency: 50 });
  for (;;) {
    const counts = await queues.detect.getJobCounts('waiting', 'active');
    if ((counts.waiting ?? 0) + (counts.active ?? 0) === 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await worker.close();
  await closeRedis(workerConnection);
  const completed = await settle();
  rows.push(`| BullMQ, the same ${n} jobs completed | ${mib(completed - beforeJobs)} | – | completed jobs kept: ${await queues.detect.getCompletedCount()} (FACEPIPE_KEEP_COMPLETED = 1000) |`);
  await queues.close();
} finally {
  await closeRedis(redis);
  await server.stop();
}

process.stdout.write(
  [`Redis memory (INFO used_memory, deltas), ${n} images, redis-server on a free port`, '', '| what | Redis memory | per image | notes |', '|---|---|---|---|', ...rows, ''].join('\n'),
);
