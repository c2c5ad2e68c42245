import { randomUUID } from 'node:crypto';
import { loadConfig, ServiceContext, type FacepipeConfig, type RunningStage } from '@facepipe/core';
import { createDetectEngine, createEmbedEngine } from '@facepipe/vision';
import { startDetectStage } from '@facepipe/worker-detect';
import { startEmbedStage } from '@facepipe/worker-embed';
import { startClassifyStage } from '@facepipe/worker-classify';
import { startRedis, type TestRedis } from './redis-server.js';
import { startS3, type TestS3 } from './s3-server.js';
import { startDatabase, type TestDatabase } from './test-database.js';

export interface LivePipeline {
  config: FacepipeConfig;
  redis: TestRedis;
  s3: TestS3;
  database: TestDatabase;
  /** The workers' context (its queues, store and tracker are handy for checks). */
  ctx: ServiceContext;
  stop(): Promise<void>;
}

/**
 * A real deployment in one process: a private redis-server, the embedded S3-protocol server,
 * and the detect, embed and classify stages with the real models, as their main.ts starts them.
 */
export async function startLivePipeline(env: Record<string, string> = {}): Promise<LivePipeline> {
  const [redis, s3, database] = await Promise.all([startRedis(), startS3(), startDatabase()]);
  const config = loadConfig({
    ...s3.env,
    ...database.env,
    REDIS_URL: redis.url,
    FACEPIPE_REDIS_PREFIX: `t${randomUUID().slice(0, 8)}`,
    FACEPIPE_LOG_LEVEL: 'silent',
    FACEPIPE_GALLERY_REFRESH_MS: '100',
    ...env,
  });
  const ctx = new ServiceContext(config, 'workers');
  let stages: RunningStage[];
  try {
    await ctx.store.ensureBucket();
    stages = [startDetectStage(ctx, await createDetectEngine(config)), startEmbedStage(ctx, await createEmbedEngine(config)), await startClassifyStage(ctx)];
  } catch (err) {
    // A start that fails (models not built, say) must not leave its servers running: the test would hang.
    await ctx.close();
    await Promise.allSettled([redis.stop(), s3.stop(), database.stop()]);
    throw err;
  }
  const runs = stages.flatMap((s) => s.workers.map((w) => w.run()));
  return {
    config,
    redis,
    s3,
    database,
    ctx,
    async stop() {
      await Promise.allSettled(stages.flatMap((s) => s.workers.map((w) => w.close())));
      await Promise.allSettled(runs);
      await Promise.allSettled(stages.map((s) => s.close()));
      await ctx.close();
      await Promise.allSettled([redis.stop(), s3.stop(), database.stop()]);
    },
  };
}
