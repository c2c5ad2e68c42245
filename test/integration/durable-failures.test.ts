import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { UnrecoverableError, Worker } from 'bullmq';
import {
  attemptsForWindow,
  BatchSweeper,
  PipelineQueues,
  closeRedis,
  createRedisConnection,
  FacepipeError,
  jobIds,
  JobName,
  loadConfig,
  objectKeys,
  QueueName,
  ServiceContext,
  StageWorker,
  type DetectJobData,
  type ResultDocument,
} from '@facepipe/core';
import { freePort, startEmbeddedS3, type EmbeddedS3 } from '@facepipe/devstack';
import { batchResults, toResultLine } from '@facepipe/producer';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { testImageId } from '../helpers/tracker.js';

const version = 'abcdef012345';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Real Redis and a real S3-protocol server this file stops and restarts on the same port. */
describe('durable failures: S3 outages, crashed workers, the sweeper', () => {
  let redis: TestRedis;
  let s3: EmbeddedS3 | undefined;
  let s3Port: number;
  let dir: string;
  let ctx: ServiceContext;
  let env: Record<string, string>;

  // One secret (and Redis password) for every restart of the stores: the workers keep their settings.
  const storeSecret = randomUUID().replaceAll('-', '');
  const startStore = async () => {
    s3 = await startEmbeddedS3({ directory: join(dir, 's3'), port: s3Port, engine: 'local', secretAccessKey: storeSecret });
  };
  const stopStore = async () => {
    await s3?.close();
    s3 = undefined;
  };
  let batchSeq = 0;
  /** A batch of `n` images, each claimed (as the ingestor does) and the ingest finished. */
  const batchOf = async (n: number, first: number) => {
    const batchId = `bt${Date.now().toString(36)}${(batchSeq += 1)}`;
    await ctx.tracker.createBatch(batchId, 'ingest', 'test');
    const jobs: DetectJobData[] = [];
    for (let i = 0; i < n; i += 1) {
      const imageId = testImageId(first + i);
      const index = await ctx.tracker.addItem(batchId);
      await ctx.tracker.claimImage(imageId, version, batchId, index);
      jobs.push({ imageId, originalKey: objectKeys.original(imageId), source: `photo-${first + i}.jpg`, batchId, enqueuedAt: Date.now(), pipelineVersion: version });
    }
    await ctx.tracker.finishIngest(batchId, n);
    return { batchId, jobs };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'facepipe-durable-'));
    redis = await startRedis();
    s3Port = await freePort();
    await startStore();
    env = { REDIS_URL: redis.url, ...s3!.env, S3_BUCKET: 'durable', FACEPIPE_REDIS_PREFIX: `d${randomUUID().slice(0, 8)}`, FACEPIPE_LOG_LEVEL: 'silent' };
    ctx = new ServiceContext(loadConfig(env), 'test');
    await ctx.store.ensureBucket();
  });
  after(async () => {
    await ctx?.close();
    await stopStore();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a final failure while S3 is down is counted at once, readable from Redis, and written to S3 when it is back', async () => {
    const { batchId, jobs } = await batchOf(2, 1);
    // Image 2 has a good result from an earlier run: a later failure must not replace it.
    const good = { schema: 'facepipe.result/1', imageId: jobs[1]!.imageId, status: 'done', faceCount: 1 } as unknown as ResultDocument;
    await ctx.store.putJson(objectKeys.result(jobs[1]!.imageId), good);
    await stopStore();
    const outage = new FacepipeError('STORAGE_UNAVAILABLE', 'connect ECONNREFUSED (after 5 attempts)');
    for (const data of jobs) assert.deepEqual(await ctx.outcomes.recordFailure(data, outage, 'detect', jobIds.detect(data.imageId, version)), { stashed: true });
    const batch = await ctx.tracker.getBatch(batchId);
    assert.equal(batch?.failed, 2, 'counted while S3 is down');
    assert.ok(batch?.finishedAt, 'the batch finishes');
    assert.equal((await ctx.outcomes.failureOf(jobs[0]!.imageId))?.error?.code, 'STORAGE_UNAVAILABLE');
    const whileDown = await ctx.outcomes.flushStashed();
    assert.deepEqual(whileDown, { written: 0, superseded: 0, remaining: 2 }, 'nothing is lost while S3 is still down');
    await startStore();
    const flushed = await ctx.outcomes.flushStashed();
    assert.deepEqual(flushed, { written: 1, superseded: 1, remaining: 0 });
    const written = await ctx.store.getJson<ResultDocument>(objectKeys.result(jobs[0]!.imageId));
    assert.equal(written?.status, 'failed');
    assert.equal(written?.error?.code, 'STORAGE_UNAVAILABLE');
    assert.equal(written?.error?.stage, 'detect');
    assert.equal((await ctx.store.getJson<ResultDocument>(objectKeys.result(jobs[1]!.imageId)))?.status, 'done', 'the good result stays');
    assert.equal(await ctx.outcomes.failureOf(jobs[0]!.imageId), undefined);
  });

  test('a job that runs out of retries while S3 is down ends as a typed failure: counted, then written by the sweeper', async () => {
    const { batchId, jobs } = await batchOf(1, 30);
    const connection = createRedisConnection(redis.url, 'worker');
    const retry = { windowMs: 300, maxDelayMs: 100, baseDelayMs: 50, jitter: 0 };
    await ctx.queues.detect.pause();
    // A queue policy with few attempts, as a short FACEPIPE_RETRY_WINDOW_S gives.
    const queues = new PipelineQueues(ctx.redis, ctx.config.redis.prefix, { attempts: attemptsForWindow(retry), keepCompleted: 10, keepFailed: 10 });
    await queues.addDetect(jobs[0]!);
    await stopStore();
    const worker = new StageWorker({
      queue: QueueName.Detect,
      jobName: JobName.DetectImage,
      connection,
      prefix: ctx.config.redis.prefix,
      log: ctx.log,
      retry,
      handler: async (data) => ctx.store.getBytes(data.originalKey),
      onFinalFailure: (data, error, jobCtx) => ctx.outcomes.recordFailure(data, error, 'detect', jobCtx.job.id ?? ''),
    });
    const run = worker.run();
    await ctx.queues.detect.resume();
    try {
      let batch = await ctx.tracker.getBatch(batchId);
      for (let i = 0; i < 600 && !batch?.finishedAt; i += 1) {
        await sleep(50);
        batch = await ctx.tracker.getBatch(batchId);
      }
      assert.ok(batch?.finishedAt, 'the batch finishes while S3 is still down');
      assert.deepEqual(batch?.errors, { STORAGE_UNAVAILABLE: 1 });
      assert.equal((await ctx.outcomes.failureOf(jobs[0]!.imageId))?.error?.code, 'STORAGE_UNAVAILABLE', 'readable from Redis meanwhile');
    } finally {
      await worker.close();
      await run.catch(() => undefined);
      await queues.close();
      await closeRedis(connection);
      await startStore();
    }
    const sweeper = new BatchSweeper({ redis: ctx.redis, prefix: ctx.config.redis.prefix, store: ctx.store, tracker: ctx.tracker, queues: ctx.queues, outcomes: ctx.outcomes, log: ctx.log });
    assert.equal((await sweeper.sweep())?.flushed, 1);
    const lines = [];
    await ctx.store.put(objectKeys.batchManifestPart(batchId, 0), `${JSON.stringify({ index: 0, source: jobs[0]!.source, imageId: jobs[0]!.imageId })}\n`);
    for await (const { entry, result } of batchResults(ctx.store, batchId)) lines.push(toResultLine(entry, result));
    assert.equal(lines.length, 1);
    assert.equal('error' in lines[0]! ? lines[0].error.code : 'faces', 'STORAGE_UNAVAILABLE', 'results show the typed failure, not "not yet"');
  });

  test('a job whose workers died too often becomes WORKER_CRASHED, recorded once with several workers', async () => {
    const { batchId, jobs } = await batchOf(1, 10);
    const settings = { lockDuration: 1000, stalledInterval: 300, maxStalledCount: 1 };
    const recorded: string[] = [];
    const connections = [0, 1, 2, 3].map(() => createRedisConnection(redis.url, 'worker'));
    const common = { queue: QueueName.Detect, jobName: JobName.DetectImage, prefix: ctx.config.redis.prefix, log: ctx.log, ...settings };
    const jobId = jobIds.detect(jobs[0]!.imageId, version);
    await ctx.queues.addDetect(jobs[0]!);
    // Two workers in turn take the job and "die": they stop renewing its lock, the job hangs.
    for (const [n, connection] of connections.slice(0, 2).entries()) {
      const dying = new StageWorker({ ...common, connection, handler: () => new Promise(() => undefined) });
      void dying.run();
      let job = await ctx.queues.detect.getJob(jobId);
      for (let i = 0; i < 200 && !((await job?.getState()) === 'active' && job?.stalledCounter === n); i += 1) {
        await sleep(25);
        job = await ctx.queues.detect.getJob(jobId);
      }
      assert.equal(job?.stalledCounter, n, `taken with ${n} stalls`);
      await dying.close(true);
    }
    const survivors = [2, 3].map(
      (i) =>
        new StageWorker({
          ...common,
          connection: connections[i]!,
          handler: () => Promise.reject(new Error('the processor must not run for a crashed job')),
          onFinalFailure: async (data, error, jobCtx) => {
            recorded.push(error.code);
            await ctx.outcomes.recordFailure(data, error, 'detect', jobCtx.job.id ?? '');
          },
        }),
    );
    const runs = survivors.map((w) => w.run());
    try {
      let batch = await ctx.tracker.getBatch(batchId);
      for (let i = 0; i < 200 && !batch?.finishedAt; i += 1) {
        await sleep(50);
        batch = await ctx.tracker.getBatch(batchId);
      }
      await sleep(500); // room for a second, wrong, recording
      assert.deepEqual(recorded, ['WORKER_CRASHED'], 'recorded exactly once');
      assert.equal(batch?.failed, 1);
      assert.deepEqual(batch?.errors, { WORKER_CRASHED: 1 });
      const result = await ctx.store.getJson<ResultDocument>(objectKeys.result(jobs[0]!.imageId));
      assert.equal(result?.error?.code, 'WORKER_CRASHED');
    } finally {
      await Promise.all(survivors.map((w) => w.close()));
      await Promise.allSettled(runs);
      await Promise.all(connections.map((c) => closeRedis(c)));
    }
  });

  test('the sweeper counts items no job carries any more, queues lost ones again, and leaves live ones alone', async () => {
    const { batchId, jobs } = await batchOf(4, 20);
    const [live, crashed, lost, settled] = jobs as [DetectJobData, DetectJobData, DetectJobData, DetectJobData];
    // live: its job waits in the queue (paused, so nothing takes it).
    await ctx.queues.detect.pause();
    await ctx.queues.addDetect(live);
    // crashed: its job failed with BullMQ's stall reason and nobody recorded it.
    const connection = createRedisConnection(redis.url, 'worker');
    const failing = new Worker(QueueName.Classify, () => Promise.reject(new UnrecoverableError('job stalled more than allowable limit')), { connection, prefix: ctx.config.redis.prefix });
    await ctx.queues.afterEmbed({ ...crashed, detectVersion: version, faceCount: 1 }, version);
    for (let i = 0; i < 100 && (await ctx.queues.classify.getJobState(jobIds.classify(crashed.imageId, version))) !== 'failed'; i += 1) await sleep(50);
    await failing.close();
    await closeRedis(connection);
    // settled: its image finished (for another batch, say) but this batch's waiter was forgotten.
    await ctx.redis.hset(`${ctx.config.redis.prefix}:img:${settled.imageId}`, 'state', 'done', 'faces', '2');
    // The manifest the sweeper reads, as the ingestor writes it.
    await ctx.store.put(
      objectKeys.batchManifestPart(batchId, 0),
      `${jobs.map((j, index) => JSON.stringify({ index, source: j.source, imageId: j.imageId })).join('\n')}\n`,
    );
    // lost: no job, no result (say Redis lost it).
    const sweeper = new BatchSweeper({ redis: ctx.redis, prefix: ctx.config.redis.prefix, store: ctx.store, tracker: ctx.tracker, queues: ctx.queues, outcomes: ctx.outcomes, log: ctx.log, idleMs: 1 });
    assert.equal((await sweeper.sweep())?.inspected, 0, 'the first pass only notes the progress');
    await sleep(10);
    const report = await sweeper.sweep();
    assert.equal(report?.inspected, 1);
    assert.equal(report?.repaired, 2, 'the crashed and the settled item are counted');
    assert.equal(report?.requeued, 1, 'the lost one is queued again');
    const batch = await ctx.tracker.getBatch(batchId);
    assert.equal(batch?.done, 1);
    assert.equal(batch?.failed, 1);
    assert.deepEqual(batch?.errors, { WORKER_CRASHED: 1 });
    assert.match(await ctx.queues.detect.getJobState(jobIds.detect(lost.imageId, version)), /waiting|paused/, 'queued again');
    assert.match(await ctx.queues.detect.getJobState(jobIds.detect(live.imageId, version)), /waiting|paused/, 'the live job is left alone');
    assert.equal((await ctx.store.getJson<ResultDocument>(objectKeys.result(crashed.imageId)))?.error?.code, 'WORKER_CRASHED');
    // The requeued job is lost again: the next idle pass fails it for good instead of looping.
    await ctx.queues.detect.remove(jobIds.detect(lost.imageId, version));
    await sleep(10);
    await sweeper.sweep();
    const final = await ctx.tracker.getBatch(batchId);
    assert.equal(final?.failed, 2);
    assert.equal(final?.done, 1);
    assert.equal(await ctx.tracker.itemState(batchId, 0), 'pending', 'the live item waits for its job');
    assert.equal(final?.finishedAt, undefined);
    await ctx.queues.detect.obliterate({ force: true });
    await ctx.queues.detect.resume();
  });
});
