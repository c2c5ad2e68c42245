import { instrumentDetectEngine, JobName, QueueName, StageWorker, type DetectEngine, type RunningStage, type ServiceContext } from '@facepipe/core';
import { DetectHandler } from './detect-handler.js';

/** Builds the detect stage on a service context: one BullMQ worker around {@link DetectHandler}. */
export function startDetectStage(ctx: ServiceContext, engine: DetectEngine): RunningStage & { handler: DetectHandler } {
  const handler = new DetectHandler({ store: ctx.store, engine: instrumentDetectEngine(engine, ctx.metrics), queues: ctx.queues, maxBytes: ctx.config.detect.maxBytes });
  const worker = new StageWorker({
    queue: QueueName.Detect,
    jobName: JobName.DetectImage,
    connection: ctx.redis,
    prefix: ctx.config.redis.prefix,
    concurrency: ctx.config.detect.concurrency,
    ...ctx.stageSettings,
    pipelineVersion: ctx.pipelineVersion,
    log: ctx.log,
    metrics: ctx.metrics,
    handler: (data, jobCtx) => handler.handle(data, jobCtx),
    onFinalFailure: (data, error, jobCtx) => ctx.outcomes.recordFailure(data, error, 'detect', jobCtx.job.id ?? ''),
  });
  return { workers: [worker], handler, close: () => engine.close() };
}
