import { JobName, QueueName, StageWorker, type EmbedEngine, type RunningStage, type ServiceContext } from '@facepipe/core';
import { EmbedHandler } from './embed-handler.js';
import { MicroBatcher } from './micro-batcher.js';

/**
 * Builds the embed stage: a BullMQ worker whose concurrency is the pool of jobs the
 * micro-batcher fills batches from (FACEPIPE_EMBED_CONCURRENCY ≥ batch size keeps batches full).
 */
export function startEmbedStage(
  ctx: ServiceContext,
  engine: EmbedEngine,
  options: { inferenceThreads?: number; onBatch?: (size: number, ms: number) => void } = {},
): RunningStage & { handler: EmbedHandler; batcher: MicroBatcher } {
  const { batchSize, batchWaitMs, concurrency } = ctx.config.embed;
  const batcher = new MicroBatcher({
    batchSize,
    maxWaitMs: batchWaitMs,
    maxInFlight: options.inferenceThreads ?? 1,
    chipBytes: engine.chipSize * engine.chipSize * 3,
    run: (chips, count) => engine.embed(chips, count),
    onBatch: (size, ms) => {
      ctx.metrics.recordEmbedBatch(size, ms);
      options.onBatch?.(size, ms);
    },
  });
  const handler = new EmbedHandler({ store: ctx.store, engine, batcher, queues: ctx.queues });
  const worker = new StageWorker({
    queue: QueueName.Embed,
    jobName: JobName.EmbedFaces,
    connection: ctx.redis,
    prefix: ctx.config.redis.prefix,
    concurrency,
    ...ctx.stageSettings,
    pipelineVersion: ctx.pipelineVersion,
    log: ctx.log,
    metrics: ctx.metrics,
    handler: (data, jobCtx) => handler.handle(data, jobCtx),
    onFinalFailure: (data, error, jobCtx) => ctx.outcomes.recordFailure(data, error, 'embed', jobCtx.job.id ?? ''),
  });
  return {
    workers: [worker],
    handler,
    batcher,
    close: async () => {
      await batcher.close();
      await engine.close();
    },
  };
}
