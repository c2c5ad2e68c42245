import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultNamingRule, EmbeddedDatabase, FaceIndex, FaceLibrary, type FaceIndexRepositories, type FaceToIndex } from '@facepipe/face-index';
import { embeddingSpace } from '../helpers/random.js';

// Clusters with whole-group support, cannot-link, the quality gate, incremental = rebuild, and
// suggestions answered, on the embedded database over its socket (synthetic, seeded 128-d).

const { unit, around, along } = embeddingSpace(5);

let dir: string;
let db: EmbeddedDatabase;
let index: FaceIndex;
let library: FaceLibrary;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'facepipe-clusters-'));
  db = await EmbeddedDatabase.start({ directory: dir });
  index = await FaceIndex.connect({ url: db.url, maxConnections: 2 });
  // The rule as calibrated for a 20-person gallery (a one-person gallery here would loosen it):
  // the suggestion band stays 0.48–0.52 whatever the test's gallery size.
  library = new FaceLibrary(index, { rule: { ...defaultNamingRule, maxNameDistance: defaultNamingRule.nameDistance } });
});

after(async () => {
  await index?.close();
  await db?.close();
  rmSync(dir, { recursive: true, force: true });
});

type NewFace = { embedding: number[]; qualityOk?: boolean };

/** What a classify job does with an image: write its faces and cluster them, one write transaction. */
async function addImage(id: string, ev: string, faces: NewFace[]): Promise<string[]> {
  return index.writeTransaction(async (r) => {
    const written = await writeImage(r, id, ev, faces);
    await r.clusterer.addFaces(ev, written);
    return written.map((w) => w.id);
  });
}

async function writeImage(r: FaceIndexRepositories, id: string, ev: string, faces: NewFace[]) {
  await r.images.upsert({ id, source: `${id}.jpg`, originalKey: `originals/${id}`, status: 'done', pipelineVersion: 'p1', detectVersion: 'd1', embedVersion: ev, galleryVersion: null, faceCount: faces.length, resultKey: `results/${id}.json`, errorCode: null, processedAt: new Date().toISOString() });
  const rows: FaceToIndex[] = faces.map((f, i) => ({ faceIndex: i, box: [i * 100, 0, 90, 90], score: 0.9, quality: null, embedding: f.embedding, personId: null, personSource: null, matchDistance: null, qualityOk: f.qualityOk ?? true }));
  return r.faces.replaceImageFaces(id, ev, 'dlib', rows);
}

async function clustersOf(imageIds: readonly string[]): Promise<(string | null)[][]> {
  const states = await index.repos.faces.statesOfImages(imageIds);
  return imageIds.map((id) => (states.get(id) ?? []).map((f) => f.clusterId));
}

test('a bridge of look-alikes does not merge two people; fragments of one person merge; cannot-link; poor faces stay out; the rebuild agrees and keeps ids', async () => {
  const EV = 'bridge';
  const a = unit().map((x) => x * 0.4);
  const b = along(a, around(a, 0.8), 1);
  const ids: string[] = [];
  const add = async (id: string, faces: NewFace[]) => {
    ids.push(id);
    await addImage(id, EV, faces);
  };
  for (let i = 0; i < 4; i += 1) await add(`a${i}`, [{ embedding: around(a, 0.08) }]);
  for (let i = 0; i < 4; i += 1) await add(`b${i}`, [{ embedding: around(b, 0.08) }]);
  // A group photo with two look-alikes of A side by side, and a blurred face of A.
  await add('group', [{ embedding: around(a, 0.06) }, { embedding: around(a, 0.06) }]);
  await add('blurred', [{ embedding: around(a, 0.05), qualityOk: false }]);
  for (let t = 0.2; t < 0.9; t += 0.15) await add(`x${t.toFixed(2)}`, [{ embedding: around(along(a, b, t), 0.03) }]);
  // A third person far from both, in two poses about 0.5 apart on average (the strict linkage
  // alone leaves two fragments): one cluster, incrementally and rebuilt.
  const front = along(a, around(a, 1.5), 1);
  const turned = around(front, 0.47);
  for (let i = 0; i < 5; i += 1) await add(`front${i}`, [{ embedding: around(front, 0.15) }]);
  for (let i = 0; i < 5; i += 1) await add(`turned${i}`, [{ embedding: around(turned, 0.15) }]);

  const before = await clustersOf(ids);
  const at = (id: string) => before[ids.indexOf(id)]!;
  assert.ok(at('a0')[0] !== null && at('b0')[0] !== null);
  assert.notEqual(at('a0')[0], at('b0')[0], 'A and B stay two clusters');
  for (let i = 1; i < 4; i += 1) {
    assert.equal(at(`a${i}`)[0], at('a0')[0]);
    assert.equal(at(`b${i}`)[0], at('b0')[0]);
  }
  assert.notEqual(at('group')[0], at('group')[1], 'two faces of one photo: two clusters (or one in none)');
  assert.equal(at('blurred')[0], null, 'a face below the quality gate is in no cluster');
  const poses = [0, 1, 2, 3, 4].flatMap((i) => [at(`front${i}`)[0], at(`turned${i}`)[0]]);
  assert.ok(poses[0] !== null && poses.every((c) => c === poses[0]), `both poses of one person in one cluster: ${poses.join(',')}`);
  assert.ok(![at('a0')[0], at('b0')[0]].includes(poses[0]!));
  const hits = await library.search(around(a, 0.01), EV, 30);
  assert.ok(hits.some((h) => h.imageId === 'blurred' && !h.qualityOk), 'and it is still found by search, marked');

  const rebuilt = await index.writeTransaction((r) => r.clusterer.recluster(EV));
  assert.ok(rebuilt.clusters >= 2);
  assert.deepEqual(await clustersOf(ids), before, 'the rebuild gives the same clusters, with the same ids');

  // A face set to nobody by hand never moves, through a rebuild too.
  await library.labelFace('a1', 0, null);
  await index.writeTransaction((r) => r.clusterer.recluster(EV));
  assert.deepEqual((await clustersOf(['a1']))[0], [null]);
});

test('suggestions: evidence short of a name is stored, listed, and answered yes or no', async () => {
  const EV = 'suggest';
  const jane = unit().map((x) => x * 0.4);
  const examples = [0, 1, 2].map(() => around(jane, 0.1));
  for (let i = 0; i < 3; i += 1) await addImage(`jane${i}`, EV, [{ embedding: examples[i]! }]);
  // Later photos: one clearly Jane, two only somewhat like her, one a stranger.
  await addImage('clear', EV, [{ embedding: around(jane, 0.1) }]);
  await addImage('maybe1', EV, [{ embedding: around(jane, 0.49) }]);
  await addImage('maybe2', EV, [{ embedding: around(jane, 0.49) }]);
  await addImage('stranger', EV, [{ embedding: around(jane, 0.9) }]);
  await library.enroll('Jane', [0, 1, 2].map((i) => ({ imageId: `jane${i}`, faceIndex: 0, source: `jane${i}.jpg` })));

  const states = await index.repos.faces.statesOfImages(['clear', 'maybe1', 'maybe2', 'stranger']);
  const of = (id: string) => states.get(id)![0]!;
  assert.equal(of('clear').name, 'Jane');
  for (const id of ['maybe1', 'maybe2']) {
    assert.equal(of(id).name, null, 'a suggestion is not a name');
    assert.equal(of(id).suggestion?.name, 'Jane');
  }
  assert.equal(of('stranger').name, null);
  assert.equal(of('stranger').suggestion, null);

  const listed = await library.suggestions(null, 10);
  assert.deepEqual(listed.map((s) => s.imageId).sort(), ['maybe1', 'maybe2']);
  const yes = await library.answerSuggestion('maybe1', 0, true);
  assert.equal(yes.face.name, 'Jane');
  assert.equal(yes.face.personSource, 'hand');
  const no = await library.answerSuggestion('maybe2', 0, false);
  assert.equal(no.face.name, null);
  assert.equal(no.face.suggestion, null);
  assert.deepEqual((await library.suggestions(null, 10)).map((s) => s.imageId), []);
  // "Not this person" holds when the image is classified again.
  const rejected = await index.repos.people.rejectionsOfImage('maybe2');
  assert.equal(rejected.get(0)?.length, 1);
  await assert.rejects(library.answerSuggestion('maybe2', 0, true), /no suggestion/);
});
