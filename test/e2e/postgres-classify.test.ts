import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type ClassifyJobData } from '@facepipe/core';
import { checkWorkers, waitForWorkers, WorkerProcesses } from '@facepipe/devstack';
import { FaceIndex } from '@facepipe/face-index';
import { Producer } from '@facepipe/producer';
import { ClassifyHandler, FaceNamer } from '@facepipe/worker-classify';
import { dataPath, missingData } from '../helpers/data.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startS3, type TestS3 } from '../helpers/s3-server.js';
import { postgresSkip, startPostgres, type TestPostgres } from '../helpers/test-database.js';

// The production database path end to end: real photos through the detect and embed workers,
// then THREE classify worker processes at once (16 jobs in flight each) against a private
// PostgreSQL 15 with pgvector — where transactions really run side by side, unlike PGlite — and
// PostgreSQL restarted under a running batch.

const library = 'recognition/lfw_library/lfw-deepfunneled';
const skip = postgresSkip || missingData(library);

/** `people` people with at least `photos` photos each (in name order, from `offset`), `photos` of each, copied to a fresh folder. */
function photoFolder(offset: number, people: number, photos: number): string {
  const root = dataPath(library);
  const chosen = readdirSync(root)
    .sort()
    .filter((name) => readdirSync(join(root, name)).length >= photos && readdirSync(join(root, name)).length <= 12)
    .slice(offset, offset + people);
  const dir = mkdtempSync(join(tmpdir(), 'facepipe-pg-photos-'));
  for (const name of chosen) {
    for (const file of readdirSync(join(root, name)).sort().slice(0, photos)) copyFileSync(join(root, name, file), join(dir, file));
  }
  return dir;
}

type Partition = string[][];

/** The clusters as sets of faces (image:face), independent of cluster ids and order. */
async function partition(url: string): Promise<{ faces: number; distinct: number; clusters: Partition }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const counts = await client.query<{ n: string; d: string }>(`SELECT count(*) AS n, count(DISTINCT (image_id, face_index, embed_version)) AS d FROM faces`);
    const { rows } = await client.query<{ key: string; cluster_id: string }>(`SELECT image_id || ':' || face_index AS key, cluster_id FROM faces WHERE cluster_id IS NOT NULL`);
    const byCluster = new Map<string, string[]>();
    for (const r of rows) byCluster.set(r.cluster_id, [...(byCluster.get(r.cluster_id) ?? []), r.key]);
    const clusters = [...byCluster.values()].map((keys) => keys.sort()).sort((a, b) => a[0]!.localeCompare(b[0]!));
    return { faces: Number(counts.rows[0]!.n), distinct: Number(counts.rows[0]!.d), clusters };
  } finally {
    await client.end();
  }
}

/**
 * What DBSCAN fixes whatever the order faces arrive in: the groups of core faces (at least
 * `minFaces` within reach), which faces are in some cluster, and how many clusters. A border face
 * within reach of two clusters' core faces may join either, by order (face-index-merge.test.ts).
 */
async function dbscanInvariants(url: string, minFaces: number): Promise<{ coreGroups: Partition; clustered: string[]; clusters: number }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ key: string; cluster_id: string; neighbour_count: number }>(
      `SELECT image_id || ':' || face_index AS key, cluster_id, neighbour_count FROM faces WHERE cluster_id IS NOT NULL ORDER BY key`,
    );
    const byCluster = new Map<string, string[]>();
    for (const r of rows.filter((r) => r.neighbour_count >= minFaces)) byCluster.set(r.cluster_id, [...(byCluster.get(r.cluster_id) ?? []), r.key]);
    return {
      coreGroups: [...byCluster.values()].sort((a, b) => a[0]!.localeCompare(b[0]!)),
      clustered: rows.map((r) => r.key),
      clusters: new Set(rows.map((r) => r.cluster_id)).size,
    };
  } finally {
    await client.end();
  }
}

describe('PostgreSQL + pgvector: three classify workers at once, and a restart under a batch', { skip }, () => {
  let postgres: TestPostgres;
  let redis: TestRedis;
  let s3: TestS3;
  let workers: WorkerProcesses;
  let producer: Producer;
  let env: Record<string, string>;
  const dirs: string[] = [];
  let expectedFaces = 0;

  before(async () => {
    [postgres, redis, s3] = await Promise.all([startPostgres(), startRedis(), startS3(`pg-${randomUUID().slice(0, 8)}`)]);
    const logDir = mkdtempSync(join(tmpdir(), 'facepipe-logs-'));
    dirs.push(logDir);
    env = { REDIS_URL: redis.url, ...s3.env, ...postgres.env, FACEPIPE_REDIS_PREFIX: `t${randomUUID().slice(0, 8)}`, FACEPIPE_LOG_LEVEL: 'info', FACEPIPE_METRICS_PORT: '0', FACEPIPE_RETRY_MAX_DELAY_S: '2' };
    workers = new WorkerProcesses(env, logDir);
    workers.start('detect');
    workers.start('embed');
    producer = await Producer.connect(loadConfig({ ...env, FACEPIPE_LOG_LEVEL: 'warn' }), 'test');
    await waitForWorkers(producer, workers, { stages: ['detect', 'embed'] });
  });

  after(async () => {
    await workers?.stop();
    await producer?.close();
    await Promise.allSettled([s3?.stop(), redis?.stop(), postgres?.stop()]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test('a batch classified by three workers at once: every face once, no deadlock, clusters as one worker makes them, redelivery changes nothing', async () => {
    const input = photoFolder(0, 6, 4);
    dirs.push(input);
    const { batchId } = await producer.ingest({ input, purpose: 'ingest' });
    const queues = producer.ctx.queues;
    // Hold classification until every image waits for it, so the three workers start together on
    // a full queue (the most contention the write lock can see).
    let total = 0;
    for (const deadline = Date.now() + 120_000; ; ) {
      checkWorkers(workers);
      const [batch, waiting] = await Promise.all([producer.getBatch(batchId), queues.classify.getWaitingCount()]);
      total = batch?.total ?? 0;
      if (total > 0 && waiting === total) break;
      assert.ok(Date.now() < deadline, `classify jobs did not all arrive: ${waiting} of ${total}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const jobs: ClassifyJobData[] = (await queues.classify.getWaiting(0, total)).map((j) => j.data as ClassifyJobData);
    assert.equal(jobs.length, 24);
    expectedFaces = jobs.reduce((n, j) => n + (j.embedVersion === null ? 0 : j.faceCount), 0);

    workers.start('classify', 3);
    const batch = await producer.waitForBatch(batchId, () => checkWorkers(workers));
    assert.equal(batch.done, total);
    assert.equal(batch.failed, 0);
    const three = await partition(postgres.url);
    assert.equal(three.faces, expectedFaces, 'every face indexed');
    assert.equal(three.distinct, three.faces, 'no face twice');
    assert.ok(three.clusters.length >= 3, `clusters of the 6 people: ${three.clusters.length}`);
    assert.doesNotMatch(readFileSync(postgres.server.logFile, 'utf8'), /deadlock detected/);

    // The same jobs classified one at a time by one handler, into a database of their own, in the
    // order the three workers' transactions wrote them (face ids are numbered under the write
    // lock): clustering depends on arrival order, and micro-batches arrive in another than the queue's.
    const admin = new pg.Client({ connectionString: postgres.url });
    await admin.connect();
    const { rows: arrival } = await admin.query<{ image_id: string }>('SELECT image_id FROM faces GROUP BY image_id ORDER BY min(id)');
    await admin.query('CREATE DATABASE single_worker');
    await admin.end();
    const rank = new Map(arrival.map((r, i) => [r.image_id, i]));
    const inArrivalOrder = [...jobs].sort((a, b) => (rank.get(a.imageId) ?? -1) - (rank.get(b.imageId) ?? -1));
    const singleUrl = postgres.url.replace(/\/postgres$/, '/single_worker');
    const config = loadConfig(env);
    const single = await FaceIndex.connect({ url: singleUrl, clustering: { maxDistance: config.database.clusterMaxDistance, minFaces: config.database.clusterMinFaces } });
    try {
      const namer = new FaceNamer(undefined, { classifier: config.classify.classifier, tolerance: config.classify.tolerance });
      const handler = new ClassifyHandler({ store: producer.ctx.store, gallery: { current: async () => namer }, outcomes: { recordSuccess: async () => undefined }, index: single });
      for (const job of inArrivalOrder) await handler.handle(job);
    } finally {
      await single.close();
    }
    const one = await partition(singleUrl);
    assert.equal(one.faces, three.faces);
    assert.deepEqual(three.clusters, one.clusters, 'three workers (micro-batched) cluster as one worker does in the same arrival order');
    assert.deepEqual(
      await dbscanInvariants(postgres.url, config.database.clusterMinFaces),
      await dbscanInvariants(singleUrl, config.database.clusterMinFaces),
      'three workers cluster as one: the same core groups, the same faces clustered, as many clusters',
    );

    // Every job delivered again (a worker lost after its commit): nothing changes.
    for (const job of jobs) await queues.reclassify(job, 'redelivered');
    for (const deadline = Date.now() + 60_000; ; ) {
      checkWorkers(workers);
      const counts = await queues.classify.getJobCounts('waiting', 'active', 'delayed', 'failed');
      if (counts.waiting + counts.active + counts.delayed === 0) {
        assert.equal(counts.failed, 0);
        break;
      }
      assert.ok(Date.now() < deadline, `redelivered jobs did not finish: ${JSON.stringify(counts)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(await partition(postgres.url), three, 'redelivery changes no face and no cluster');
    const after = await producer.getBatch(batchId);
    assert.equal(after?.done, total);
  });

  test('PostgreSQL restarted in the middle of a batch: the batch finishes, no face lost or doubled, no worker crashed', async () => {
    const input = photoFolder(6, 5, 4);
    dirs.push(input);
    const before = (await partition(postgres.url)).faces;
    const { batchId } = await producer.ingest({ input, purpose: 'ingest' });
    // Restart once some of this batch's images are indexed and others still to come.
    const client = new pg.Client({ connectionString: postgres.url });
    await client.connect();
    client.on('error', () => undefined);
    for (const deadline = Date.now() + 120_000; ; ) {
      checkWorkers(workers);
      const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM faces');
      if (Number(rows[0]!.n) > before + 2) break;
      assert.ok(Date.now() < deadline, 'no face of the second batch was indexed');
      await new Promise((r) => setTimeout(r, 50));
    }
    await client.end();
    const mid = await producer.getBatch(batchId);
    await postgres.restart('immediate');
    const batch = await producer.waitForBatch(batchId, () => checkWorkers(workers));
    assert.ok((mid?.done ?? 0) < batch.total, `the restart came mid-batch (${mid?.done} of ${batch.total} done)`);
    assert.equal(batch.failed, 0);
    assert.equal(batch.done, batch.total);
    checkWorkers(workers);
    const state = await partition(postgres.url);
    assert.equal(state.distinct, state.faces, 'no face twice');
    // Every face of every result document is in the index.
    const client2 = new pg.Client({ connectionString: postgres.url });
    await client2.connect();
    try {
      const { rows } = await client2.query<{ images: string; faces: string; indexed: string }>(
        `SELECT count(*) AS images, coalesce(sum(face_count), 0) AS faces, (SELECT count(*) FROM faces) AS indexed FROM images`,
      );
      assert.equal(Number(rows[0]!.images), 24 + batch.total);
      assert.equal(Number(rows[0]!.indexed), Number(rows[0]!.faces));
      assert.ok(Number(rows[0]!.indexed) > expectedFaces);
    } finally {
      await client2.end();
    }
  });
});
