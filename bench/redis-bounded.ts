/**
 * Redis stays bounded through a big ingest whichever stage is slowest:
 *
 *   npx tsx bench/redis-bounded.ts [--images 1000000] [--slow classify] [--slow-rate 400] [--json]
 *
 * A private redis-server; facepipe's real admission gate (AdmissionGate with the configured
 * per-stage bounds, FACEPIPE_MAX_QUEUED…), batch tracker (claims, remembered outcomes with
 * FACEPIPE_REMEMBER_DONE_S / _MAX), queues, job payloads and job options. The stages' work is left
 * out (no photos: a million real ones would take this machine half a day); each stage's worker
 * hands the job on as the real one does (detect → embed → classify, classify completes the image
 * in the tracker), and the stage named by `--slow` is held to `--slow-rate` jobs a second (a
 * BullMQ rate limit) so it is the slowest by far and its backlog reaches its bound.
 *
 * The intake admits images as `BatchIntake` does: count the item, claim the image, and admit
 * bulks of 100 detect jobs through the gate (the items of a bulk counted and claimed concurrently). Redis's `used_memory` is sampled every second; the
 * report gives the peak and its value at each tenth of the import (flat once the bounds and the
 * remembered outcomes are full), and how often admission was held back and by which stage.
 */
import { parseArgs } from 'node:util';
import { Worker, type Job } from 'bullmq';
import {
  AdmissionGate,
  BatchTracker,
  closeRedis,
  createRedisConnection,
  loadConfig,
  newBatchId,
  PipelineQueues,
  QueueName,
  type DetectJobData,
  type EmbedJobData,
  type ClassifyJobData,
} from '@facepipe/core';
import { startRedis } from '../test/helpers/redis-server.js';

const { values } = parseArgs({
  options: {
    images: { type: 'string', default: '1000000' },
    slow: { type: 'string', default: 'classify' },
    'slow-rate': { type: 'string', default: '400' },
    json: { type: 'boolean', default: false },
  },
});
const total = Number(values.images);
if (!Number.isInteger(total) || total < 1000) throw new Error('--images must be a whole number of at least 1000');
const slow = values.slow as 'detect' | 'embed' | 'classify';
if (!['detect', 'embed', 'classify'].includes(slow)) throw new Error('--slow takes detect, embed or classify');
const slowRate = Number(values['slow-rate']);
if (!Number.isInteger(slowRate) || slowRate < 1) throw new Error('--slow-rate must be a whole number of jobs a second');

const server = await startRedis();
const config = loadConfig({ ...process.env, REDIS_URL: server.url });
const prefix = 'bench';
const redis = createRedisConnection(server.url, 'worker');
const tracker = new BatchTracker(redis, {
  prefix,
  rememberDoneSeconds: config.queues.rememberDoneSeconds,
  rememberDoneMax: config.queues.rememberDoneMax,
  rememberFailedSeconds: config.queues.rememberFailedSeconds,
});
const queues = new PipelineQueues(redis, prefix, { attempts: config.queues.attempts, keepCompleted: config.queues.keepCompleted, keepFailed: config.queues.keepFailed });
const heldBy = new Map<string, number>();
const gate = new AdmissionGate(queues, config.queues.bounds, {
  onHeld: (reasons) => {
    for (const r of reasons) heldBy.set(r, (heldBy.get(r) ?? 0) + 1);
  },
});

const version = 'p-ssd_mobilenetv1-face-api-1.7.15-866b8014-fr-1a2b3c4d';
const imageId = (i: number) => i.toString(16).padStart(64, '0');
const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))![1]);
const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const startedAt = performance.now();
const progress = (line: string) => process.stderr.write(`[${Math.round((performance.now() - startedAt) / 1000)} s] ${line}\n`);

// The stages: each hands the job on as the real worker does; one is held to --slow-rate.
const connections = [0, 1, 2].map(() => createRedisConnection(server.url, 'worker'));
const limiter = (stage: string) => (stage === slow ? { limiter: { max: slowRate, duration: 1000 } } : {});
let completed = 0;
const workers = [
  new Worker(QueueName.Detect, async (job: Job<DetectJobData>) => queues.afterDetect(job.data, 'd-bench', 1), { connection: connections[0]!, prefix, concurrency: 50, ...limiter('detect') }),
  new Worker(QueueName.Embed, async (job: Job<EmbedJobData>) => queues.afterEmbed(job.data, 'e-bench', { chipsView: true }), { connection: connections[1]!, prefix, concurrency: 50, ...limiter('embed') }),
  new Worker(
    QueueName.Classify,
    async (job: Job<ClassifyJobData>) => {
      await tracker.completeImage(job.data.imageId, job.data.pipelineVersion, { kind: 'done', faces: job.data.faceCount });
      completed += 1;
    },
    { connection: connections[2]!, prefix, concurrency: 50, ...limiter('classify') },
  ),
];

const base = await usedMemory();
let peak = base;
const byTenth: { images: number; usedMiB: number; waiting: Record<string, number> }[] = [];
let admitted = 0;
const sampler = setInterval(() => {
  void usedMemory().then((m) => (peak = Math.max(peak, m)), () => undefined);
}, 1000);

const batchId = newBatchId();
await tracker.createBatch(batchId, 'ingest', 'bench');
const BULK = 100;
try {
  for (let start = 0; start < total; start += BULK) {
    // The items of a bulk are counted and claimed concurrently (as the intake's lanes do).
    const jobs: DetectJobData[] = await Promise.all(
      Array.from({ length: Math.min(BULK, total - start) }, async (_, k) => {
        const i = start + k;
        const index = await tracker.addItem(batchId);
        const claim = await tracker.claimImage(imageId(i), version, batchId, index);
        if (claim.kind !== 'enqueue') throw new Error(`image ${i} was ${claim.kind}: every image of this bench is new`);
        return {
          imageId: imageId(i),
          originalKey: `originals/${imageId(i).slice(0, 2)}/${imageId(i)}`,
          source: `holiday-2026/camera-roll/IMG_${String(i).padStart(7, '0')}.jpg`,
          batchId,
          enqueuedAt: Date.now(),
          pipelineVersion: version,
        };
      }),
    );
    await gate.admit('detect', jobs.length, () => queues.addDetectBulk(jobs));
    admitted += jobs.length;
    if (admitted % (total / 10) < BULK) {
      const used = await usedMemory();
      peak = Math.max(peak, used);
      const { stages } = await gate.state();
      byTenth.push({ images: admitted, usedMiB: mib(used), waiting: Object.fromEntries(stages.map((s) => [s.stage, s.waiting])) });
      progress(`admitted ${admitted}, done ${completed}, Redis ${mib(used)} MiB, waiting ${stages.map((s) => `${s.stage} ${s.waiting}`).join(', ')}`);
    }
  }
  await tracker.finishIngest(batchId, total);
  for (;;) {
    const batch = await tracker.getBatch(batchId);
    if (batch && batch.done + batch.failed >= total) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const seconds = (performance.now() - startedAt) / 1000;
  const end = await usedMemory();
  peak = Math.max(peak, end);
  const remembered = await redis.llen(`${prefix}:remembered-done`);
  const report = {
    images: total,
    slowStage: slow,
    slowRatePerS: slowRate,
    bounds: config.queues.bounds,
    rememberDoneMax: config.queues.rememberDoneMax,
    rememberDoneSeconds: config.queues.rememberDoneSeconds,
    seconds: Math.round(seconds),
    imagesPerS: Math.round(total / seconds),
    redisBaseMiB: mib(base),
    redisPeakMiB: mib(peak),
    redisEndMiB: mib(end),
    rememberedAtEnd: remembered,
    heldBackTimes: Object.fromEntries(heldBy),
    byTenth,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    process.stdout.write(
      [
        `${total} images, ${slow} held to ${slowRate} jobs/s; bounds ${JSON.stringify(config.queues.bounds)}; remembered done images: at most ${config.queues.rememberDoneMax}, for ${config.queues.rememberDoneSeconds} s`,
        `${report.seconds} s (${report.imagesPerS} images/s); Redis used_memory ${report.redisBaseMiB} MiB before, peak ${report.redisPeakMiB} MiB, ${report.redisEndMiB} MiB at the end (${remembered} images remembered)`,
        `admission held back: ${[...heldBy.entries()].map(([k, v]) => `${k} ${v}×`).join(', ') || 'never'}`,
        '',
        '| images admitted | Redis used_memory MiB | waiting detect / embed / classify |',
        '|---|---|---|',
        ...byTenth.map((t) => `| ${t.images} | ${t.usedMiB} | ${t.waiting.detect} / ${t.waiting.embed} / ${t.waiting.classify} |`),
        '',
      ].join('\n'),
    );
  }
} finally {
  clearInterval(sampler);
  await Promise.all(workers.map((w) => w.close()));
  await queues.close();
  for (const c of connections) await closeRedis(c);
  await closeRedis(redis);
  await server.stop();
}
