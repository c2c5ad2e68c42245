import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { loadConfig, objectKeys, type ResultDocument } from '@facepipe/core';
import { waitForWorkers, WorkerProcesses } from '@facepipe/devstack';
import { FaceIndex, FaceLibrary } from '@facepipe/face-index';
import { batchResults, labelFace, Producer } from '@facepipe/producer';
import { dataPath, missingData } from '../helpers/data.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startS3, type TestS3 } from '../helpers/s3-server.js';
import { startDatabase, type TestDatabase } from '../helpers/test-database.js';

const examples = 'recognition/face_recognition_examples';

/**
 * Re-index from the face index, on real parts (workers as processes, redis-server, the S3
 * protocol server, PGlite over its socket): after a detection setting changes, `stale` selects
 * every image from the index's version columns and processes it again; a name given by hand
 * survives, and so does enrollment.
 */
describe('reindex from the face index keeps names set by hand', { skip: missingData(`${examples}/knn_test`, `${examples}/knn_train`) }, () => {
  let redis: TestRedis;
  let s3: TestS3;
  let database: TestDatabase;
  let logDir: string;
  let env: Record<string, string>;
  let index: FaceIndex;
  const running: { workers: WorkerProcesses; producer: Producer }[] = [];

  async function start(extra: Record<string, string>): Promise<Producer> {
    const stageEnv = { ...env, ...extra };
    const workers = new WorkerProcesses(stageEnv, logDir);
    for (const stage of ['detect', 'embed', 'classify'] as const) workers.start(stage);
    const producer = await Producer.connect(loadConfig({ ...stageEnv, FACEPIPE_LOG_LEVEL: 'warn' }), 'test');
    running.push({ workers, producer });
    await waitForWorkers(producer, workers);
    return producer;
  }
  async function stopAll() {
    for (const r of running.splice(0)) {
      await r.workers.stop();
      await r.producer.close();
    }
  }
  async function resultsOf(producer: Producer, batchId: string) {
    const out: { source: string; result?: ResultDocument }[] = [];
    for await (const { entry, result } of batchResults(producer.ctx.store, batchId)) out.push({ source: entry.source, result });
    return out;
  }

  before(async () => {
    [redis, s3, database] = await Promise.all([startRedis(), startS3(`e2e-${randomUUID().slice(0, 8)}`), startDatabase()]);
    logDir = mkdtempSync(join(tmpdir(), 'facepipe-logs-'));
    env = { REDIS_URL: redis.url, ...s3.env, ...database.env, FACEPIPE_REDIS_PREFIX: `t${randomUUID().slice(0, 8)}`, FACEPIPE_LOG_LEVEL: 'info', FACEPIPE_METRICS_PORT: '0' };
    index = await FaceIndex.connect({ url: database.url });
  });
  after(async () => {
    await stopAll();
    await index?.close();
    await Promise.allSettled([s3?.stop(), database?.stop(), redis?.stop()]);
    rmSync(logDir, { recursive: true, force: true });
  });

  test('a hand-set name survives `reindex stale` after the detection settings changed', { timeout: 400_000 }, async () => {
    let producer = await start({ FACEPIPE_DETECT_MIN_SCORE: '0.5' });
    const enroll = await producer.ingest({ input: dataPath(examples, 'knn_train'), purpose: 'enroll', personFromFolder: true });
    await producer.waitForBatch(enroll.batchId);
    await producer.completeEnrollment(enroll.batchId);
    const { batchId } = await producer.ingest({ input: dataPath(examples, 'knn_test') });
    await producer.waitForBatch(batchId);
    const kit = (await resultsOf(producer, batchId)).find((r) => r.source === 'kit_with_rose.jpg')!.result!;
    const rose = kit.faces.find((f) => (f.name ?? f.suggestion?.name) === 'rose_leslie')!;
    await labelFace(producer.ctx.store, kit.imageId, rose.index, 'Rose Leslie', 'test', new FaceLibrary(index));
    const oldVersion = producer.pipelineVersion;
    await stopAll();

    // New detection settings: a new pipeline version; every indexed image is stale.
    producer = await start({ FACEPIPE_DETECT_MIN_SCORE: '0.45' });
    assert.notEqual(producer.pipelineVersion, oldVersion);
    const indexed = await index.repos.images.count();
    const reindex = await producer.reindexer(index).run('stale');
    assert.equal(reindex.total, indexed, 'every image the index holds was selected');
    assert.equal(reindex.scanned, indexed, 'selected from the index, not by listing results');
    const batch = await producer.waitForBatch(reindex.batchId);
    assert.equal(batch.done, indexed);
    const after = (await resultsOf(producer, reindex.batchId)).find((r) => r.source === 'kit_with_rose.jpg')!.result!;
    assert.equal(after.versions.pipeline, producer.pipelineVersion);
    const face = after.faces.find((f) => f.name === 'Rose Leslie');
    assert.ok(face, JSON.stringify(after.faces.map((f) => [f.name, f.match.name])));
    assert.equal(face.label?.by, 'test');
    const states = (await index.repos.faces.statesOfImages([kit.imageId])).get(kit.imageId)!;
    assert.ok(states.some((s) => s.name === 'Rose Leslie' && s.personSource === 'hand'));
    // Enrolled photos stay enrolled.
    const { rows } = await index.pool.query(`SELECT count(*)::int AS n FROM faces WHERE person_source = 'enrolled'`);
    assert.ok(rows[0].n >= 9);
    // Nothing is stale any more: a second pass selects nothing.
    assert.equal((await producer.reindexer(index).run('stale')).total, 0);
  });

  test('`reindex missing` finds accepted images without a done result in the index and repairs them', { timeout: 300_000 }, async () => {
    const producer = running[0]!.producer;
    assert.equal((await producer.reindexer(index).run('missing')).total, 0, 'nothing is missing');
    const { rows } = await index.pool.query<{ id: string }>(`SELECT id FROM images ORDER BY id LIMIT 2`);
    const [unindexed, lost] = rows.map((r) => r.id) as [string, string];
    // One image the index never heard of (processed before it existed), one whose result is gone.
    await index.pool.query('DELETE FROM images WHERE id = ANY($1::text[])', [[unindexed, lost]]);
    await producer.ctx.store.delete(objectKeys.result(lost));
    const run = await producer.reindexer(index).run('missing');
    assert.equal(run.total, 2);
    const batch = await producer.waitForBatch(run.batchId);
    assert.equal(batch.done, 2);
    assert.equal((await index.repos.images.doneAmong([unindexed, lost])).size, 2);
    assert.ok(await producer.ctx.store.getJson(objectKeys.result(lost)));
  });
});
