import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryObjectStore, objectKeys, type ClassifyJobData, type EmbeddingsDocument, type FacesDocument, type ResultDocument } from '@facepipe/core';
import { FaceIndex, FaceLibrary } from '@facepipe/face-index';
import { ClassifyHandler, FaceNamer } from '@facepipe/worker-classify';
import { startDatabase, type TestDatabase } from '../helpers/test-database.js';

// The classify stage's index write on the embedded database over its socket, with the result
// documents in an in-memory store (the S3 side is covered by the e2e tests).
let database: TestDatabase;
let index: FaceIndex;
const store = new MemoryObjectStore('t');
const written: ResultDocument[] = [];
const namer = new FaceNamer(undefined, { classifier: 'nearest', tolerance: 0.6 });
const deps = (withIndex: boolean) => ({
  store,
  gallery: { current: async () => namer },
  // As OutcomeRecorder does: the result document goes to the store.
  outcomes: {
    recordSuccess: async (r: ResultDocument) => {
      written.push(r);
      await store.putJson(objectKeys.result(r.imageId), r);
    },
  },
  ...(withIndex ? { index } : {}),
});

const vector = (seed: number) => Array.from({ length: 128 }, (_, i) => Math.sin(seed * 7.3 + i * 0.37) / 8);
const shifted = (v: number[], by: number) => v.map((x, i) => (i === 0 ? x + by : x));

async function image(n: number, embeddings: number[][], embedVersion = 'e1'): Promise<ClassifyJobData> {
  const imageId = n.toString(16).padStart(64, '0');
  const faces: FacesDocument = {
    schema: 'facepipe.faces/1', imageId, width: 100, height: 100, format: 'jpeg', orientation: 1,
    detect: { tag: 'd1', detector: 'ssd', landmarks: 'l', minScore: 0.4, minFaceSize: 20, chip: { size: 150, padding: 0.25 } },
    faces: embeddings.map((_, i) => ({ index: i, box: [i * 50, 0, 40, 40], score: 0.9, landmarks: [] })),
    chipsKey: 'chips', timings: { fetchMs: 0, decodeMs: 0, detectMs: 0, landmarksMs: 0, alignMs: 0, storeMs: 0 }, detectedAt: new Date().toISOString(),
  };
  const emb: EmbeddingsDocument = { schema: 'facepipe.embeddings/1', imageId, detectVersion: 'd1', embed: { tag: embedVersion, recognition: 'dlib', flip: false }, embeddings, timings: { fetchMs: 0, embedMs: 0 }, embeddedAt: new Date().toISOString() };
  await store.putJson(objectKeys.faces(imageId, 'd1'), faces);
  await store.putJson(objectKeys.embeddings(imageId, 'd1', embedVersion), emb);
  return { imageId, originalKey: `originals/${imageId}`, source: `photo${n}.jpg`, batchId: 'b_1', enqueuedAt: Date.now(), pipelineVersion: 'p1', detectVersion: 'd1', embedVersion, faceCount: embeddings.length };
}

before(async () => {
  database = await startDatabase();
  index = await FaceIndex.connect({ url: database.url, clustering: { maxDistance: 0.3, minFaces: 2 } });
});
after(async () => {
  await index?.close();
  await database?.stop();
});

test('without an index the stage writes the result only, as before', async () => {
  const job = await image(1, [vector(1)]);
  const result = await new ClassifyHandler(deps(false)).handle(job);
  assert.equal(result.faces[0]!.name, null);
  assert.equal(await index.repos.images.count(), 0);
});

test('with the index: image and faces written once however often the job runs; unnamed faces clustered', async () => {
  const handler = new ClassifyHandler(deps(true));
  const a = await image(2, [vector(2), vector(3)]);
  const b = await image(3, [shifted(vector(2), 0.1)]);
  const first = await handler.handle(a);
  // faces.json and embeddings.json are consumed: the result holds them now.
  assert.equal(await store.head(objectKeys.faces(a.imageId, 'd1')), undefined);
  assert.equal(await store.head(objectKeys.embeddings(a.imageId, 'd1', 'e1')), undefined);
  const again = await handler.handle(a); // a retried job reads them back from the result
  assert.deepEqual(again.faces.map((f) => [f.box, f.embedding]), first.faces.map((f) => [f.box, f.embedding]));
  await handler.handle(b);
  assert.equal(await index.repos.faces.count(), 3);
  const states = await index.repos.faces.statesOfImages([a.imageId, b.imageId]);
  const [a0, a1] = states.get(a.imageId)!;
  const [b0] = states.get(b.imageId)!;
  assert.ok(a0!.clusterId, 'two look-alikes make a cluster');
  assert.equal(b0!.clusterId, a0!.clusterId);
  assert.equal(a1!.clusterId, null);
  const row = await index.repos.images.get(a.imageId);
  assert.equal(row?.faceCount, 2);
  assert.equal(row?.embedVersion, 'e1');
});

test('names come from the index: a hand label by box, then the nearest example face; the result says so', async () => {
  const handler = new ClassifyHandler(deps(true));
  const a = await image(2, [vector(2), vector(3)]);
  const library = new FaceLibrary(index, { tolerance: 0.6 });
  await library.labelFace(a.imageId, 1, 'Carol', 'me');
  const clusterOfA0 = (await index.repos.faces.statesOfImages([a.imageId])).get(a.imageId)![0]!.clusterId!;
  await library.nameCluster(clusterOfA0, 'Dave');
  // A new photo of Dave: named after his examples (not in the gallery) at the classify stage.
  const c = await image(4, [shifted(vector(2), -0.15)]);
  const rc = await handler.handle(c);
  assert.equal(rc.faces[0]!.name, 'Dave');
  assert.equal(rc.faces[0]!.match.name, 'Dave');
  assert.ok(rc.faces[0]!.match.distance! < 0.6);
  // Re-classifying image a keeps the hand label and the enrollment from the named cluster.
  const ra = await handler.handle(a);
  assert.deepEqual(ra.faces.map((f) => f.name), ['Dave', 'Carol']);
  assert.equal(ra.faces[1]!.label?.by, 'me');
  assert.equal(ra.faces[0]!.label, undefined);
  const states = (await index.repos.faces.statesOfImages([a.imageId])).get(a.imageId)!;
  assert.deepEqual(states.map((s) => s.personSource), ['enrolled', 'hand']);
});

test('a micro-batch names and clusters as one image after another; a bad image in it fails alone, the others commit', async () => {
  const handler = new ClassifyHandler(deps(true));
  // Three people in several photos (two faces of one photo are two people), and a stranger.
  const person = (seed: number) => (k: number) => shifted(vector(seed), 0.06 * k);
  const [a, b, c] = [person(20), person(30), person(40)];
  // And photos of a fourth whose clusters depend on the order they arrive in (a face placed
  // before later photos arrived ends up elsewhere than one placed after them).
  const d = (x: number) => shifted(vector(70), x);
  const photos = [[a(0), b(0)], [a(1)], [b(1), c(0)], [a(2), c(1)], [b(2)], [c(2), a(3)], [vector(50)], [a(4)], [b(3), a(5)], [d(0), d(0.56)], [d(0.72)], [d(0.64)], [d(0)], [d(0.16)], [d(0.32)]];
  // The same photos under two embedding versions (each clustered on its own): one at a time, then as one batch.
  const single = await Promise.all(photos.map((p, i) => image(100 + i, p, 'e-single')));
  const batched = await Promise.all(photos.map((p, i) => image(200 + i, p, 'e-batch')));
  for (const job of single) await handler.handle(job);
  const outcomes = await handler.handleBatch(batched.map((data) => ({ data })));
  assert.deepEqual(outcomes.map((o) => o.status), photos.map(() => 'fulfilled'));
  const shape = async (jobs: ClassifyJobData[]) => {
    const states = await index.repos.faces.statesOfImages(jobs.map((j) => j.imageId));
    const labels = new Map<string, number>();
    return jobs.map((j) => states.get(j.imageId)!.map((s) => [s.faceIndex, s.personSource, s.clusterId === null ? -1 : (labels.get(s.clusterId) ?? labels.set(s.clusterId, labels.size).get(s.clusterId)!)]));
  };
  const one = await shape(single);
  assert.ok(new Set(one.flat().map((f) => f[2]).filter((l) => l !== -1)).size >= 3, `three people, three clusters: ${JSON.stringify(one)}`);
  assert.deepEqual(await shape(batched), one, 'the same faces in the same clusters');
  assert.deepEqual(
    outcomes.map((o) => (o.status === 'fulfilled' ? o.value.faces.map((f) => f.name) : null)),
    (await Promise.all(single.map((j) => store.getJson<ResultDocument>(objectKeys.result(j.imageId))))).map((r) => r!.faces.map((f) => f.name)),
  );

  // A batch with a payload that does not add up (fails before the index), one the database refuses
  // (64 numbers for a 128-d embedding: the batch's transaction fails, its images are written one at
  // a time), and a redelivered job twice in the same batch.
  const good = await image(300, [a(6)], 'e-batch');
  const refused = await image(301, [vector(60).slice(0, 64)], 'e-batch');
  const uneven = { ...(await image(302, [vector(61)], 'e-batch')), faceCount: 1 };
  await store.putJson(objectKeys.embeddings(uneven.imageId, 'd1', 'e-batch'), { ...(await store.getJson<EmbeddingsDocument>(objectKeys.embeddings(uneven.imageId, 'd1', 'e-batch')))!, embeddings: [vector(61), vector(62)] });
  const again = await image(303, [c(3)], 'e-batch');
  const mixed = await handler.handleBatch([good, refused, uneven, again, again].map((data) => ({ data })));
  assert.deepEqual(mixed.map((o) => o.status), ['fulfilled', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
  assert.match(String((mixed[1] as PromiseRejectedResult).reason), /dimension/);
  assert.equal(((mixed[2] as PromiseRejectedResult).reason as { code?: string }).code, 'INVALID_PAYLOAD');
  const states = await index.repos.faces.statesOfImages([good.imageId, refused.imageId, uneven.imageId, again.imageId]);
  assert.deepEqual([...states.keys()].sort(), [good.imageId, again.imageId].sort(), 'the good images are indexed, the bad ones not');
  assert.equal(states.get(good.imageId)![0]!.clusterId, (await index.repos.faces.statesOfImages([batched[1]!.imageId])).get(batched[1]!.imageId)![0]!.clusterId, "a's new photo joins a's cluster");
  assert.equal(states.get(again.imageId)!.length, 1, 'the job delivered twice wrote its face once');
  assert.equal(await index.repos.images.get(refused.imageId), undefined);
});
