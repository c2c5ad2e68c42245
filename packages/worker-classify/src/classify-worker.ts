import { JobName, QueueName, redisKeys, StageWorker, type ClassifyJobData, type ResultDocument, type RunningStage, type ServiceContext, type StageContext } from '@facepipe/core';
import { FaceIndex, FaceLibrary } from '@facepipe/face-index';
import { ClassifyHandler } from './classify-handler.js';
import { GalleryBuilder } from './gallery-builder.js';
import { GalleryCache } from './gallery-cache.js';
import { GalleryRepository } from './gallery-repository.js';
import { JobBatcher } from './job-batcher.js';

/**
 * Builds the classify stage: the classify queue (naming faces) and the gallery queue (building
 * gallery versions, one at a time across every classify process).
 */
export async function startClassifyStage(ctx: ServiceContext): Promise<RunningStage & { handler: ClassifyHandler; builder: GalleryBuilder; batcher: JobBatcher<{ data: ClassifyJobData; ctx: StageContext }, ResultDocument> }> {
  const { classifier, tolerance, galleryRefreshMs, concurrency, batchSize, batchWaitMs } = ctx.config.classify;
  const repository = new GalleryRepository(ctx.store);
  const { database } = ctx.config;
  const index = database.url
    ? await FaceIndex.connect({ url: database.url, clustering: { maxDistance: database.clusterMaxDistance, minFaces: database.clusterMinFaces, maxLinkage: database.clusterMaxLinkage } })
    : undefined;
  if (!index) ctx.log.warn('DATABASE_URL is not set: faces are not written to a face index (no clusters, people or search by face)');
  const library = index ? new FaceLibrary(index, { tolerance }) : undefined;
  // Redis carries the newest gallery version, so every classify process switches at its next job.
  const versionKey = redisKeys(ctx.config.redis.prefix).galleryVersion;
  const cache = new GalleryCache(repository, {
    classifier,
    tolerance,
    refreshMs: galleryRefreshMs,
    log: ctx.log,
    publishedVersion: async () => {
      const v = await ctx.redis.get(versionKey);
      return v === null ? null : Number(v);
    },
  });
  const announce = async (version: number) => {
    await ctx.redis.set(versionKey, String(version));
    cache.invalidate();
  };
  const handler = new ClassifyHandler({ store: ctx.store, gallery: cache, outcomes: ctx.outcomes, index, tolerance });
  // Jobs gathered into micro-batches: one face-index transaction per batch (docs/face-index.md).
  const batcher = new JobBatcher<{ data: ClassifyJobData; ctx: StageContext }, ResultDocument>({
    batchSize,
    maxWaitMs: batchWaitMs,
    run: (items) => handler.handleBatch(items),
    onBatch: (size, ms) => ctx.metrics.recordClassifyBatch(size, ms),
  });
  const builder = new GalleryBuilder(ctx.store, repository, ctx.log, library);
  const common = { connection: ctx.redis, prefix: ctx.config.redis.prefix, log: ctx.log, metrics: ctx.metrics, ...ctx.stageSettings };
  const classifyWorker = new StageWorker({
    ...common,
    queue: QueueName.Classify,
    jobName: JobName.ClassifyFaces,
    concurrency,
    handler: async (data, jobCtx) => {
      const result = await batcher.submit({ data, ctx: jobCtx });
      // The job keeps a summary; the full document lives in S3.
      return { faces: result.faceCount, names: result.faces.map((f) => f.name) };
    },
    onFinalFailure: (data, error, jobCtx) => ctx.outcomes.recordFailure(data, error, 'classify', jobCtx.job.id ?? ''),
  });
  // Gallery versions are numbered from the previous one: never two builds at once, cluster-wide.
  await ctx.queues.gallery.setGlobalConcurrency(1);
  const galleryWorker = new StageWorker({
    ...common,
    queue: QueueName.Gallery,
    jobName: JobName.GalleryBuild,
    concurrency: 1,
    handler: async (data) => {
      if (data.kind === 'enroll') {
        const report = await builder.enroll(data.batchId);
        await announce(report.galleryVersion);
        return { galleryVersion: report.galleryVersion, enrolled: report.items.filter((i) => i.status === 'enrolled').length, rejected: report.items.filter((i) => i.status === 'rejected').length };
      }
      const doc = await builder.rebuild(data.reason);
      await announce(doc.version);
      return { galleryVersion: doc.version, people: doc.people.length };
    },
  });
  return { workers: [classifyWorker, galleryWorker] as RunningStage['workers'], handler, builder, batcher, close: async () => {
    await batcher.close();
    await index?.close();
  } };
}
