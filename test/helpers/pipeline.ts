import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadConfig, objectKeys, type ResultDocument } from '@facepipe/core';
import { batchResults, Producer } from '@facepipe/producer';
import { checkWorkers, waitForWorkers, WorkerProcesses } from '@facepipe/devstack';
import { startRedis, type TestRedis } from './redis-server.js';
import { startS3, type TestS3 } from './s3-server.js';
import { startDatabase, type TestDatabase } from './test-database.js';

export interface TestPipeline {
  env: Record<string, string>;
  producer: Producer;
  workers: WorkerProcesses;
  redis: TestRedis;
  s3: TestS3;
  /** The face index (embedded PGlite over its socket); absent when `DATABASE_URL: ''` was given. */
  database?: TestDatabase;
  logDir: string;
  /** Ingests a folder and waits for the batch to finish; returns the batch and its results. */
  ingestAndWait(input: string, options?: { purpose?: 'ingest' | 'enroll'; force?: boolean; allFiles?: boolean }): Promise<{
    batchId: string;
    batch: NonNullable<Awaited<ReturnType<Producer['getBatch']>>>;
    results: { source: string; imageId: string | null; error?: { code: string; message: string }; result?: ResultDocument }[];
  }>;
  result(imageId: string): Promise<ResultDocument | undefined>;
  stop(): Promise<void>;
}

/**
 * A whole pipeline on real parts: a private redis-server, the embedded S3-protocol server over
 * HTTP, and the three stage workers as separate processes (the production entry points), with a
 * producer in this process. `stageEnv` adds settings for one stage's workers only.
 */
export async function startPipeline(
  extraEnv: Record<string, string> = {},
  counts: Partial<Record<'detect' | 'embed' | 'classify', number>> = {},
  stageEnv: Partial<Record<'detect' | 'embed' | 'classify', Record<string, string>>> = {},
): Promise<TestPipeline> {
  const redis = await startRedis();
  const s3 = await startS3(`e2e-${randomUUID().slice(0, 8)}`);
  const database = extraEnv.DATABASE_URL === undefined ? await startDatabase() : undefined;
  const logDir = mkdtempSync(join(tmpdir(), 'facepipe-logs-'));
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    ...s3.env,
    ...(database?.env ?? {}),
    FACEPIPE_REDIS_PREFIX: `t${randomUUID().slice(0, 8)}`,
    FACEPIPE_LOG_LEVEL: 'info',
    FACEPIPE_METRICS_PORT: '0',
    ...extraEnv,
  };
  const workers = new WorkerProcesses(env, logDir);
  for (const stage of ['detect', 'embed', 'classify'] as const) workers.start(stage, counts[stage] ?? 1, stageEnv[stage]);
  const producer = await Producer.connect(loadConfig({ ...env, FACEPIPE_LOG_LEVEL: 'warn' }), 'test');
  await waitForWorkers(producer, workers);
  const pipeline: TestPipeline = {
    env,
    producer,
    workers,
    redis,
    s3,
    database,
    logDir,
    async ingestAndWait(input, options = {}) {
      const { batchId } = await producer.ingest({ input, purpose: options.purpose ?? 'ingest', personFromFolder: options.purpose === 'enroll', force: options.force, allFiles: options.allFiles });
      const batch = await producer.waitForBatch(batchId, () => checkWorkers(workers));
      const results = [];
      for await (const { entry, result } of batchResults(producer.ctx.store, batchId)) {
        results.push({ source: entry.source, imageId: entry.imageId, ...(entry.error ? { error: entry.error } : {}), result });
      }
      if (results.length !== batch.total) {
        throw new Error(`batch ${batchId}: ${batch.total} inputs but ${results.length} manifest entries: ${JSON.stringify({ batch, sources: results.map((r) => r.source) })}`);
      }
      return { batchId, batch, results };
    },
    result: (imageId) => producer.ctx.store.getJson<ResultDocument>(objectKeys.result(imageId)),
    async stop() {
      await workers.stop();
      await producer.close();
      await s3.stop();
      await database?.stop();
      await redis.stop();
      rmSync(logDir, { recursive: true, force: true });
    },
  };
  return pipeline;
}
