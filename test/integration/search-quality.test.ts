import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmbeddedDatabase, FaceIndex, FaceLibrary } from '@facepipe/face-index';

// Search ranks faces flagged small, blurred or cut by the border (quality 0) as if 0.05 farther,
// on the real index (PGlite + pgvector HNSW). Embeddings are placed at exact distances from the
// probe: the probe is e0, a face at distance d is e0 + d·e_k (its own axis k).
const EV = 'e1';
const probe = Array.from({ length: 128 }, (_, i) => (i === 0 ? 1 : 0));
const at = (d: number, axis: number) => probe.map((v, i) => (i === axis ? d : v));

let dir: string;
let db: EmbeddedDatabase;
let index: FaceIndex;
let library: FaceLibrary;

/** One image per face, all in one transaction: [id, distance from the probe, axis, quality]. */
async function addFaces(faces: readonly (readonly [string, number, number, number | null])[]) {
  await index.transaction(async (r) => {
    for (const [id, distance, axis, quality] of faces) {
      await r.images.upsert({ id, source: `${id}.jpg`, originalKey: `originals/${id}`, status: 'done', pipelineVersion: 'p1', detectVersion: 'd1', embedVersion: EV, galleryVersion: null, faceCount: 1, resultKey: `results/${id}.json`, errorCode: null, processedAt: new Date().toISOString() });
      await r.faces.replaceImageFaces(id, EV, 'dlib', [{ faceIndex: 0, box: [0, 0, 50, 50], score: 0.9, quality, embedding: at(distance, axis), personId: null, personSource: null, matchDistance: null }]);
    }
  });
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'facepipe-search-quality-'));
  db = await EmbeddedDatabase.start({ directory: dir });
  index = await FaceIndex.connect({ url: db.url });
  library = new FaceLibrary(index);
  // 40 fragments nearer than the person's own face but not by the penalty: they must not come first,
  // and they are more than the first fetch (limit × 2 + 20), so search has to fetch again.
  await addFaces([
    ...Array.from({ length: 40 }, (_, k) => [`fragment-${k}`, 0.48 + k * 0.0005, k + 1, 0] as const),
    ['own', 0.52, 50, 1],
    ['old-row', 0.525, 51, null],
    ['near-fragment', 0.45, 52, 0],
  ]);
});

after(async () => {
  await index?.close();
  await db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('flagged faces rank 0.05 farther; distances shown are the real ones; old rows are not flagged', async () => {
  // Keys: near-fragment 0.45 + 0.05 = 0.50, own 0.52, old-row 0.525 (null: unknown, not flagged),
  // fragments 0.48… + 0.05 ≥ 0.53. By distance alone the top 3 would be near-fragment and two fragments.
  const top = await library.search(probe, EV, 3);
  assert.deepEqual(top.map((h) => h.imageId), ['near-fragment', 'own', 'old-row']);
  assert.deepEqual(top.map((h) => Math.round(h.distance * 1000) / 1000), [0.45, 0.52, 0.525]);
  assert.deepEqual(top.map((h) => h.quality), [0, 1, null]);
  // A penalty of 0 is plain distance order.
  const plain = await library.search(probe, EV, 3, 0);
  assert.deepEqual(plain.map((h) => h.imageId), ['near-fragment', 'fragment-0', 'fragment-1']);
});
