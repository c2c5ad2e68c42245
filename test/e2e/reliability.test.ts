import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadConfig } from '@facepipe/core';
import { fileListItems, Producer } from '@facepipe/producer';
import { freePort, startEmbeddedS3, waitForWorkers, WorkerProcesses, type EmbeddedS3 } from '@facepipe/devstack';
import { dataPath, missingData } from '../helpers/data.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';

const train = 'recognition/face_recognition_examples/knn_train';
const probes = 'recognition/face_recognition_examples/knn_test';
const library = 'recognition/lfw_library/lfw-deepfunneled';
const skip = missingData(train, probes, library);

/** Workers as processes against a Redis and an S3 server this test can stop and restart. */
describe('reliability: backpressure, S3 outage, graceful shutdown', { skip }, () => {
  let redis: TestRedis;
  let s3: EmbeddedS3;
  let s3Port: number;
  let dir: string;
  let env: Record<string, string>;
  let workers: WorkerProcesses;
  let producer: Producer;

  // One secret (and Redis password) for every restart of the stores: the workers keep their settings.
  const storeSecret = randomUUID().replaceAll('-', '');
  const startStore = async () => {
    s3 = await startEmbeddedS3({ directory: join(dir, 's3'), port: s3Port, engine: 'local', secretAccessKey: storeSecret });
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'facepipe-reliability-'));
    redis = await startRedis();
    s3Port = await freePort();
    await startStore();
    env = {
      REDIS_URL: redis.url,
      ...s3.env,
      S3_BUCKET: 'reliability',
      FACEPIPE_REDIS_PREFIX: `r${randomUUID().slice(0, 8)}`,
      FACEPIPE_MAX_QUEUED: '3',
      FACEPIPE_MAX_QUEUED_CLASSIFY: '2',
      FACEPIPE_DETECT_CONCURRENCY: '1',
      FACEPIPE_LOG_LEVEL: 'info',
      FACEPIPE_METRICS_PORT: '-1',
    };
    workers = new WorkerProcesses(env, join(dir, 'logs'));
    for (const stage of ['detect', 'embed', 'classify'] as const) workers.start(stage);
    producer = await Producer.connect(loadConfig({ ...env, FACEPIPE_LOG_LEVEL: 'warn' }), 'test');
    await waitForWorkers(producer, workers);
  });
  after(async () => {
    await workers?.stop();
    await producer?.close();
    await s3?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the producer holds back while the detect queue is at its bound', async () => {
    const detect = producer.ctx.queues.detect;
    await detect.pause();
    let deepest = 0;
    let ingested = false;
    const ingest = producer.ingest({ input: dataPath(train), purpose: 'ingest' }).then((r) => {
      ingested = true;
      return r;
    });
    try {
      for (let i = 0; i < 20; i += 1) {
        deepest = Math.max(deepest, await detect.getWaitingCount());
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(ingested, false, 'ingest is held back while the queue is full');
      assert.ok(deepest <= 3, `detect queue reached ${deepest} waiting jobs with FACEPIPE_MAX_QUEUED=3`);
    } finally {
      // Whatever happened, the queue runs again: a paused queue would leave this ingest and the
      // next tests waiting until the file's time limit.
      await detect.resume();
      if (!ingested) await ingest.catch(() => undefined);
    }
    const { batchId, total } = await ingest;
    const batch = await producer.waitForBatch(batchId);
    assert.equal(batch.done, total);
    assert.equal(batch.failed, 0);
  });

  test('a slow stage holds admission back: classify at its bound stops intake, Redis stays bounded, the batch finishes', async () => {
    const { queues, gate, metrics, redis } = producer.ctx;
    const started = Date.now();
    // Classify slowed to a stop on purpose (paused) while 24 photos are ingested.
    const people = readdirSync(dataPath(library)).sort().slice(0, 40);
    const files = people.flatMap((p) => readdirSync(dataPath(library, p)).sort().map((f) => dataPath(library, p, f))).slice(0, 24);
    await queues.classify.pause();
    let ingested = false;
    const ingest = producer.ingestItems(fileListItems(files), { purpose: 'ingest', sourceLabel: 'slowed classify' }).then((r) => {
      ingested = true;
      return r;
    });
    const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? 0);
    const before = await usedMemory();
    let backlog = 0;
    let peakMemory = 0;
    try {
      let held = false;
      for (let i = 0; i < 600 && !held; i += 1) {
        held = (await gate.state()).heldBackBy.includes('classify');
        if (!held) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(held, 'classify reached its bound (FACEPIPE_MAX_QUEUED_CLASSIFY=2)');
      for (let i = 0; i < 15; i += 1) {
        const { stages } = await gate.state();
        backlog = Math.max(backlog, stages.reduce((n, s) => n + s.waiting, 0));
        peakMemory = Math.max(peakMemory, await usedMemory());
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(ingested, false, 'admission waits while classify is at its bound');
      // Bounded by the bounds (3 + 3 + 2), one bulk admitted just before classify reached its
      // own (3), and the jobs detect and embed had in hand (2): not by the 24 inputs.
      assert.ok(backlog <= 3 + 3 + 2 + 3 + 2, `${backlog} jobs waiting across the stages`);
      metrics.watchAdmission(() => gate.state());
      const { body } = await metrics.scrape();
      assert.match(body, /facepipe_admission_held_back\{[^}]*stage="classify"[^}]*\} 1/, '/metrics says which stage holds admission back');
      assert.match(body, /facepipe_admission_bound\{[^}]*stage="classify"[^}]*\} 2/);
    } finally {
      await queues.classify.resume();
      // Even after a failed check, the batch is followed to its end: the next tests need empty queues.
      const started = await ingest.catch(() => undefined);
      if (started) await producer.waitForBatch(started.batchId);
    }
    const { batchId, total } = await ingest;
    assert.equal(total, files.length);
    const batch = await producer.waitForBatch(batchId);
    assert.equal(batch.done + batch.failed, total, 'one result per input once classify runs again');
    assert.equal(batch.failed, 0);
    assert.equal((await gate.state()).heldBackBy.length, 0, 'admission runs again by itself');
    console.log(`slowed classify: ${((Date.now() - started) / 1000).toFixed(1)} s, ${backlog} jobs waiting at most, Redis used_memory ${(before / 1048576).toFixed(2)} → ${(peakMemory / 1048576).toFixed(2)} MiB while held back`);
  });

  test('an S3 outage is retried with backoff and nothing is lost', async () => {
    const detect = producer.ctx.queues.detect;
    await detect.pause();
    // Three photos: as many as the queue bound lets in while detection is paused.
    const files = ['obama1.jpg', 'obama_and_biden.jpg', 'alex_lacamoire1.jpg'].map((f) => dataPath(probes, f));
    const { batchId, total } = await producer.ingestItems(fileListItems(files), { purpose: 'ingest', sourceLabel: 'outage' });
    await s3.close();
    await detect.resume();
    // Jobs fail against the missing store and are retried with exponential backoff…
    let retried = 0;
    for (let i = 0; i < 50 && retried === 0; i += 1) {
      retried = (await detect.getJobCounts('delayed')).delayed ?? 0;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(retried > 0, 'failed attempts wait in the delayed set for their retry');
    await startStore();
    const batch = await producer.waitForBatch(batchId);
    assert.equal(batch.done, total);
    assert.equal(batch.failed, 0, 'transient errors never become failures while retries remain');
  });

  test('SIGTERM lets the active job finish, then the worker exits cleanly', async () => {
    const detect = producer.ctx.queues.detect;
    const { batchId, total } = await producer.ingest({ input: dataPath(train), force: true });
    const worker = workers.processes.find((p) => p.stage === 'detect')!;
    for (let i = 0; i < 200; i += 1) {
      if (((await detect.getJobCounts('active')).active ?? 0) > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const exited = new Promise<number | null>((resolve) => worker.child.once('exit', (code) => resolve(code)));
    worker.child.kill('SIGTERM');
    assert.equal(await exited, 0, 'graceful exit');
    const counts = await detect.getJobCounts('active', 'failed');
    assert.equal(counts.active, 0, 'no job left active (it finished, or its lock was released)');
    assert.equal(counts.failed, 0);
    // A new detect process takes the rest of the batch.
    workers.start('detect');
    // The stopped process is gone on purpose: no crash check.
    await waitForWorkers(producer, undefined, { stages: ['detect'] });
    const batch = await producer.waitForBatch(batchId);
    assert.equal(batch.done, total);
    assert.equal(batch.failed, 0);
  });
});
