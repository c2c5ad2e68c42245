import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { CrowdCalibrator, defaultNamingRule, EmbeddedDatabase, FaceIndex, FaceLibrary, migrate, migrations, openLibrary, runningEmbeddedDatabase, type FaceToIndex } from '@facepipe/face-index';
import { gaussian, seededRandom } from '../helpers/random.js';
import { postgresSkip, startPostgres, type TestPostgres } from '../helpers/test-database.js';

// The same tests on both engines the index runs on: the embedded PGlite (over its socket) and a
// private PostgreSQL 15 with pgvector (skipped, with the reason, where it is not installed).

// Synthetic 128-d embeddings: people are random centres ~1.4 apart; photos of one person lie
// ~0.3 from each other (like dlib embeddings of one face).
const random = seededRandom(42);
const gauss = gaussian(random);
const centre = () => Array.from({ length: 128 }, () => gauss() / Math.sqrt(128));
const near = (c: number[], sd = 0.02) => c.map((v) => v + gauss() * sd);
const EV = 'e1';

let dir: string | undefined;
let db: { url: string };
let index: FaceIndex;
let library: FaceLibrary;

async function addImage(id: string, embeddings: number[][], people: (string | null)[] = [], matchDistance: number | null = null) {
  await index.transaction(async (r) => {
    await r.images.upsert({ id, source: `${id}.jpg`, originalKey: `originals/${id}`, status: 'done', pipelineVersion: 'p1', detectVersion: 'd1', embedVersion: EV, galleryVersion: null, faceCount: embeddings.length, resultKey: `results/${id}.json`, errorCode: null, processedAt: new Date().toISOString() });
    const faces: FaceToIndex[] = embeddings.map((embedding, faceIndex) => ({ faceIndex, box: [faceIndex * 100, 0, 50, 50], score: 0.9, quality: null, embedding, personId: people[faceIndex] ?? null, personSource: people[faceIndex] ? 'auto' : null, matchDistance: people[faceIndex] ? matchDistance : null }));
    const written = await r.faces.replaceImageFaces(id, EV, 'dlib', faces);
    await r.clusterer.addFaces(EV, written.filter((_, i) => !people[i]));
  });
}

const alice = centre();
const bob = centre();
const stranger = centre();

describe('face index on PGlite (embedded)', () => {
  let embedded: EmbeddedDatabase;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'facepipe-index-'));
    embedded = await EmbeddedDatabase.start({ directory: dir });
    db = embedded;
    index = await FaceIndex.connect({ url: db.url, clustering: { maxDistance: 0.45, minFaces: 3 } });
    library = new FaceLibrary(index, { tolerance: 0.5 });
  });
  after(async () => {
    await index?.close();
    await embedded?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });
  faceIndexTests();
});

describe('face index on PostgreSQL 15 + pgvector', { skip: postgresSkip }, () => {
  let server: TestPostgres;
  before(async () => {
    server = await startPostgres();
    db = server;
    index = await FaceIndex.connect({ url: db.url, clustering: { maxDistance: 0.45, minFaces: 3 } });
    library = new FaceLibrary(index, { tolerance: 0.5 });
  });
  after(async () => {
    await index?.close();
    await server?.stop();
  });
  faceIndexTests();

  test('PostgreSQL restarting under an open transaction: it fails as DATABASE_UNAVAILABLE, the process lives, the next one works', async () => {
    const faces = await index.repos.faces.count();
    let resume!: () => void;
    const held = new Promise<void>((r) => (resume = r));
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    const tx = index.transaction(async (r) => {
      await r.db.query('SELECT 1');
      opened();
      await held; // the client is checked out, with no query running, when the server goes
      await r.db.query('SELECT 1');
    });
    await open;
    await server.restart('immediate');
    resume();
    await assert.rejects(tx, (err: Error & { code?: string }) => err.code === 'DATABASE_UNAVAILABLE' && /connection lost/.test(err.message));
    assert.equal(await index.repos.faces.count(), faces);
    await index.transaction((r) => r.db.query('SELECT 1'));
  });
});

function faceIndexTests(): void {
  test('migrations are applied once; a second run (another process starting) changes nothing', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    try {
      const again = await migrate(pool);
      assert.deepEqual(again.applied, []);
      assert.equal(again.version, migrations.at(-1)!.version);
      const { rows } = await pool.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'faces' AND indexdef LIKE '%hnsw%' ORDER BY indexname`);
      assert.deepEqual(rows.map((r) => r.indexname), ['faces_embedding_hnsw', 'faces_reference_hnsw']);
    } finally {
      await pool.end();
    }
    if (dir) assert.equal(runningEmbeddedDatabase(dir), db.url);
  });


  test('faces arriving one image at a time form stable clusters; writes are idempotent', async () => {
    for (let i = 0; i < 4; i += 1) await addImage(`a${i}`, [near(alice)]);
    for (let i = 0; i < 3; i += 1) await addImage(`b${i}`, [near(bob)]);
    await addImage('s0', [stranger]);
    const clusters = await library.clusters();
    assert.equal(clusters.length, 2, JSON.stringify(clusters));
    assert.deepEqual(clusters.map((c) => c.faces), [4, 3]);
    const states = await index.repos.faces.statesOfImages(['a0', 'a3', 'b0', 's0']);
    const aliceCluster = states.get('a0')![0]!.clusterId;
    assert.ok(aliceCluster);
    assert.equal(states.get('a3')![0]!.clusterId, aliceCluster);
    assert.notEqual(states.get('b0')![0]!.clusterId, aliceCluster);
    assert.equal(states.get('s0')![0]!.clusterId, null, 'a face like no other is in no cluster');
    // The same result written again (a retried job): same rows, same clusters.
    const before = await index.repos.faces.count();
    const again = await index.repos.faces.statesOfImages(['a1']);
    await index.transaction(async (r) => {
      const e = await r.faces.embedding(again.get('a1')![0]!.id);
      const written = await r.faces.replaceImageFaces('a1', EV, 'dlib', [{ faceIndex: 0, box: [0, 0, 50, 50], score: 0.9, quality: null, embedding: e!.embedding, personId: null, personSource: null, matchDistance: null }]);
      assert.equal(written[0]!.inserted, false);
      await r.clusterer.addFaces(EV, written);
    });
    assert.equal(await index.repos.faces.count(), before);
    assert.equal((await index.repos.faces.statesOfImages(['a1'])).get('a1')![0]!.clusterId, aliceCluster);
    // A full re-cluster finds the same groups and keeps their ids.
    const full = await index.transaction((r) => r.clusterer.recluster(EV));
    assert.equal(full.clusters, 2);
    assert.equal((await index.repos.faces.statesOfImages(['a2'])).get('a2')![0]!.clusterId, aliceCluster);
  });

  test('naming a cluster names its faces and, through the vector index, matching faces elsewhere', async () => {
    // A group photo where Alice was named wrongly (far) by the classifier, beside a stranger.
    const wrong = await index.repos.people.ensure('Wrongly');
    await addImage('g0', [near(alice), near(stranger, 0.3)], [wrong.id, null], 0.58);
    const clusterId = (await index.repos.faces.statesOfImages(['a0'])).get('a0')![0]!.clusterId!;
    const change = await library.nameCluster(clusterId, 'Alice');
    assert.equal(change.person?.name, 'Alice');
    const states = await index.repos.faces.statesOfImages(['a0', 'g0', 'b0']);
    assert.equal(states.get('a0')![0]!.name, 'Alice');
    assert.equal(states.get('a0')![0]!.personSource, 'enrolled');
    assert.equal(states.get('a0')![0]!.clusterId, null, 'named faces are in no cluster');
    assert.equal(states.get('g0')![0]!.name, 'Alice');
    assert.equal(states.get('g0')![0]!.personSource, 'auto');
    assert.equal(states.get('g0')![1]!.name, null);
    assert.equal(states.get('b0')![0]!.name, null);
    const people = await library.people();
    assert.deepEqual(people.map((p) => [p.name, p.faces, p.examples]), [['Alice', 5, 4], ['Wrongly', 0, 0]]);
    await library.delete('Wrongly');
    await assert.rejects(library.nameCluster('999999', 'Nobody'), /does not exist/);
  });

  test('search by face: nearest first, with image, source, person and cluster', async () => {
    const hits = await library.search(near(bob), EV, 3);
    assert.equal(hits.length, 3);
    assert.ok(hits.every((h) => h.source.startsWith('b')));
    assert.ok(hits[0]!.distance <= hits[1]!.distance && hits[1]!.distance <= hits[2]!.distance);
    assert.ok(hits[0]!.clusterId);
  });

  test('hand labels, rename, merge, delete', async () => {
    const { face: labelled } = await library.labelFace('b0', 0, 'Bob');
    assert.equal(labelled.name, 'Bob');
    assert.equal(labelled.personSource, 'hand');
    // Bob's other photos are within tolerance: named after the hand label at once.
    const b1 = (await index.repos.faces.statesOfImages(['b1'])).get('b1')![0]!;
    assert.equal(b1.name, 'Bob');
    await library.rename('Bob', 'Robert');
    await assert.rejects(library.rename('Robert', 'Alice'), /already exists/);
    await library.merge('Robert', 'Alice');
    assert.deepEqual((await library.people()).map((p) => p.name), ['Alice']);
    assert.equal((await index.repos.faces.statesOfImages(['b0'])).get('b0')![0]!.name, 'Alice');
    await library.delete('Alice');
    assert.deepEqual(await library.people(), []);
    const a0 = (await index.repos.faces.statesOfImages(['a0'])).get('a0')![0]!;
    assert.equal(a0.name, null);
    assert.ok(a0.clusterId, "a deleted person's faces are clustered again");
    await assert.rejects(library.delete('Alice'), /nobody is called/);
  });

  test('a preview of enrolling says what it would name and changes nothing', async () => {
    const V = 'preview';
    const dave = centre();
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const id = `preview${i}`;
      ids.push(id);
      await index.transaction(async (r) => {
        await r.images.upsert({ id, source: `${id}.jpg`, originalKey: `originals/${id}`, status: 'done', pipelineVersion: 'p1', detectVersion: 'd1', embedVersion: V, galleryVersion: null, faceCount: 1, resultKey: `results/${id}.json`, errorCode: null, processedAt: new Date().toISOString() });
        await r.faces.replaceImageFaces(id, V, 'dlib', [{ faceIndex: 0, box: [0, 0, 50, 50], score: 0.9, quality: null, embedding: near(dave), personId: null, personSource: null, matchDistance: null }]);
      });
    }
    const before = await index.repos.faces.statesOfImages(ids);
    const audit = (await library.audit(null, 1000)).length;
    const [preview] = await library.previewEnroll(new Map([['Dave', ids.slice(0, 3).map((id) => ({ imageId: id, faceIndex: 0, source: `${id}.jpg` }))]]));
    assert.equal(preview?.person, 'Dave');
    assert.deepEqual(preview.changes.map((c) => [c.imageId, c.before.name, c.after.name, c.after.how]), [
      ['preview0', null, 'Dave', 'enrolled'], ['preview1', null, 'Dave', 'enrolled'], ['preview2', null, 'Dave', 'enrolled'],
      ...[...preview.changes.slice(3)].map((c) => [c.imageId, null, 'Dave', 'auto']),
    ]);
    assert.deepEqual(preview.changes.slice(3).map((c) => c.imageId).sort(), ['preview3', 'preview4']);
    assert.ok(preview.changes.slice(3).every((c) => c.after.distance !== null && c.after.distance < 0.4));
    // Nothing happened: nobody called Dave, every face as it was, nothing in the audit log.
    assert.equal(await index.repos.people.byName('Dave'), undefined);
    assert.deepEqual(await index.repos.faces.statesOfImages(ids), before);
    assert.equal((await library.audit(null, 1000)).length, audit);
    // Enrolling does what the preview said.
    const change = await library.enroll('Dave', ids.slice(0, 3).map((id) => ({ imageId: id, faceIndex: 0, source: `${id}.jpg` })));
    assert.equal(change.faces, preview.faces);
    const after = await index.repos.faces.statesOfImages(ids);
    assert.deepEqual(ids.map((id) => after.get(id)![0]!.name), ['Dave', 'Dave', 'Dave', 'Dave', 'Dave']);
    await library.delete('Dave');
  });

  test("the naming rule's crowd: counted on the library when a person gains examples, kept until their examples change or the library doubles, forgotten on any erasure and with the person", async () => {
    const V = 'crowd';
    const carol = centre();
    const away = (c: number[], d: number) => {
      const u = centre();
      const n = Math.hypot(...u);
      return c.map((v, i) => v + (u[i]! / n) * d);
    };
    let n = 0;
    const write = async (embeddings: number[][]) => {
      const id = `crowd${(n += 1)}`;
      await index.transaction(async (r) => {
        await r.images.upsert({ id, source: `${id}.jpg`, originalKey: `originals/${id}`, status: 'done', pipelineVersion: 'p1', detectVersion: 'd1', embedVersion: V, galleryVersion: null, faceCount: embeddings.length, resultKey: `results/${id}.json`, errorCode: null, processedAt: new Date().toISOString() });
        await r.faces.replaceImageFaces(id, V, 'dlib', embeddings.map((embedding, faceIndex) => ({ faceIndex, box: [faceIndex * 100, 0, 50, 50], score: 0.9, quality: null, embedding, personId: null, personSource: null, matchDistance: null })));
      });
      return id;
    };
    const examples = [await write([away(carol, 0.05)]), await write([away(carol, 0.05)]), await write([away(carol, 0.05)])];
    // Look-alikes just beyond any name threshold, a new photo of Carol, and faces far from her.
    for (let i = 0; i < 12; i += 1) await write([away(carol, 0.55)]);
    await write([away(carol, 0.2)]);
    const far: string[] = [];
    for (let i = 0; i < 20; i += 1) far.push(await write([centre()]));
    const crowdRows = async () => (await index.repos.db.query<{ sampled: number; in_band: number }>('SELECT sampled, in_band FROM person_crowds p JOIN people n ON n.id = p.person_id WHERE n.name = $1', ['Carol'])).rows;

    // Naming three faces Carol by hand decides her neighbours again (her new photo is named after
    // them), which counts her crowd: the 36 faces but her own 4.
    for (const id of examples) await library.labelFace(id, 0, 'Carol');
    assert.deepEqual(await crowdRows(), [{ sampled: 32, in_band: 12 }]);
    const carolId = (await index.repos.people.byName('Carol'))!.id;
    const calibrator = new CrowdCalibrator(defaultNamingRule);
    const crowd = () => index.transaction(async (r) => (await calibrator.crowdsOf(r, V, [carolId], await r.faces.examplesByPerson(V))).get(carolId));
    assert.deepEqual(await crowd(), { sampled: 32, inBand: 12 });
    // Kept while nothing it rests on changed (a count altered in the table stays as it is)...
    await index.repos.db.query('UPDATE person_crowds SET in_band = 30');
    assert.equal((await crowd())!.inBand, 30);
    // ...counted again once her examples change...
    await library.labelFace(await write([away(carol, 0.05)]), 0, 'Carol');
    assert.deepEqual(await crowdRows(), [{ sampled: 32, in_band: 12 }]);
    // ...or the library has doubled.
    await index.repos.db.query('UPDATE person_crowds SET in_band = 30');
    while ((await index.repos.crowds.librarySize()) < 2 * Number((await index.repos.db.query<{ n: string }>('SELECT library_faces AS n FROM person_crowds')).rows[0]!.n)) far.push(await write([centre()]));
    assert.deepEqual(await crowd(), { sampled: 32 + far.length - 20, inBand: 12 });
    // Any erasure forgets every count (none may rest on erased faces); the person takes hers along.
    await index.transaction((r) => r.erasure.eraseImage(far.pop()!));
    assert.deepEqual(await crowdRows(), []);
    await crowd();
    assert.equal((await crowdRows()).length, 1);
    await library.delete('Carol');
    assert.equal((await index.repos.db.query('SELECT 1 FROM person_crowds')).rows.length, 0);
  });

  test('openLibrary reuses the embedded database a live process serves from the data dir', async () => {
    const opened = await openLibrary({ dataDir: join(tmpdir(), 'facepipe-unused-data-dir'), env: { DATABASE_URL: db.url } });
    try {
      assert.equal(opened.origin, 'DATABASE_URL');
      assert.equal(await opened.index.repos.images.count(), await index.repos.images.count());
    } finally {
      await opened.close();
      await opened.close();
    }
  });
}
