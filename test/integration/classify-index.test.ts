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

async function image(n: number, embeddings: number[][]): Promise<ClassifyJobData> {
  const imageId = n.toString(16).padStart(64, '0');
  const faces: FacesDocument = {
    schema: 'facepipe.faces/1', imageId, width: 100, height: 100, format: 'jpeg', orientation: 1,
    detect: { tag: 'd1', detector: 'ssd', landmarks: 'l', minScore: 0.4, minFaceSize: 20, chip: { size: 150, padding: 0.25 } },
    faces: embeddings.map((_, i) => ({ index: i, box: [i * 50, 0, 40, 40], score: 0.9, landmarks: [] })),
    chipsKey: 'chips', timings: { fetchMs: 0, decodeMs: 0, detectMs: 0, landmarksMs: 0, alignMs: 0, storeMs: 0 }, detectedAt: new Date().toISOString(),
  };
  const emb: EmbeddingsDocument = { schema: 'facepipe.embeddings/1', imageId, detectVersion: 'd1', embed: { tag: 'e1', recognition: 'dlib', flip: false }, embeddings, timings: { fetchMs: 0, embedMs: 0 }, embeddedAt: new Date().toISOString() };
  await store.putJson(objectKeys.faces(imageId, 'd1'), faces);
  await store.putJson(objectKeys.embeddings(imageId, 'd1', 'e1'), emb);
  return { imageId, originalKey: `originals/${imageId}`, source: `photo${n}.jpg`, batchId: 'b_1', enqueuedAt: Date.now(), pipelineVersion: 'p1', detectVersion: 'd1', embedVersion: 'e1', faceCount: embeddings.length };
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
