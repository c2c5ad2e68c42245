import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaceIndex, type FaceToIndex } from '@facepipe/face-index';
import { freshShellEnv, runCli } from '../helpers/cli.js';
import { startDatabase, type TestDatabase } from '../helpers/test-database.js';

// `facepipe people move` as a process, on the embedded database over its socket (DATABASE_URL).

let db: TestDatabase;
let index: FaceIndex;
let cwd: string;
const EV = 'e1';
const image = (n: number) => n.toString(16).padStart(64, '0');

function near(centre: number[], k: number): number[] {
  return centre.map((v, i) => v + (((i * 31 + k * 17) % 7) - 3) * 0.002);
}

before(async () => {
  db = await startDatabase();
  index = await FaceIndex.connect({ url: db.url, clustering: { maxDistance: 0.45, minFaces: 3 } });
  cwd = mkdtempSync(join(tmpdir(), 'facepipe-people-move-'));
  const centre = Array.from({ length: 128 }, (_, i) => Math.sin(i) / 8);
  for (let n = 1; n <= 3; n += 1) {
    await index.writeTransaction(async (r) => {
      await r.images.upsert({ id: image(n), source: `p${n}.jpg`, originalKey: `originals/${n}`, status: 'done', pipelineVersion: 'p1', detectVersion: 'd1', embedVersion: EV, galleryVersion: null, faceCount: 1, resultKey: `results/${n}.json`, errorCode: null, processedAt: new Date().toISOString() });
      const face: FaceToIndex = { faceIndex: 0, box: [10, 10, 50, 50], score: 0.9, quality: null, embedding: near(centre, n), personId: null, personSource: null, matchDistance: null };
      await r.clusterer.addFaces(EV, await r.faces.replaceImageFaces(image(n), EV, 'dlib', [face]));
    });
  }
});

after(async () => {
  await index?.close();
  await db?.stop();
  rmSync(cwd, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(['people', ...args], { cwd, env: freshShellEnv({ ...db.env, FACEPIPE_MATCH_TOLERANCE: '0.001' }) });
const state = async (n: number) => (await index.repos.faces.statesOfImages([image(n)])).get(image(n))![0]!;

test('people move: one face to a person, then to nobody; wrong usage exits 2, an unknown face 1', async () => {
  assert.ok((await state(1)).clusterId, 'the three faces form a cluster');

  const moved = await cli('move', image(1), '0', 'Ann Example');
  assert.equal(moved.code, 0, moved.stderr);
  assert.match(moved.stdout, new RegExp(`face 0 of ${image(1)}: Ann Example now`));
  const named = await state(1);
  assert.equal(named.name, 'Ann Example');
  assert.equal(named.personSource, 'hand');
  assert.equal(named.clusterId, null);
  const people = await cli('--json');
  assert.equal(people.code, 0, people.stderr);
  assert.deepEqual(JSON.parse(people.stdout.trim()), { name: 'Ann Example', faces: 1, examples: 1, hidden: false });

  const nobody = await cli('move', image(2), '0', '--nobody');
  assert.equal(nobody.code, 0, nobody.stderr);
  assert.match(nobody.stdout, /: nobody's now/);
  const left = await state(2);
  assert.deepEqual([left.name, left.personSource, left.clusterId], [null, 'hand', null]);
  // A later clustering step leaves it alone: set by hand.
  await index.writeTransaction((r) => r.clusterer.recluster(EV));
  assert.equal((await state(2)).clusterId, null);

  assert.equal((await cli('move', image(3), '0')).code, 2, 'no name and no --nobody');
  assert.equal((await cli('move', image(3), '0', 'Ann Example', '--nobody')).code, 2);
  assert.equal((await cli('move', 'not-an-image', '0', 'Ann Example')).code, 2);
  assert.equal((await cli('rename', 'Ann Example', 'Ann', '--nobody')).code, 2);
  const unknown = await cli('move', image(3), '5', 'Ann Example');
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /has no face 5/);
});
