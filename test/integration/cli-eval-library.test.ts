import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { dataPath, missingData } from '../helpers/data.js';

// `facepipe eval-library` as a process, with the real models, on face_recognition's folder-per-person
// examples: the JSON contract of issue 15, the embedding cache, and its usage errors.

const library = 'recognition/face_recognition_examples/knn_train';
let cwd: string;

before(() => {
  cwd = mkdtempSync(join(tmpdir(), 'facepipe-eval-library-'));
});
after(() => rmSync(cwd, { recursive: true, force: true }));

test('facepipe eval-library <dir> --enroll-people K --enroll-photos N --json: the figures, with the photos embedded once', { skip: missingData(library), timeout: 300_000 }, async () => {
  const args = ['eval-library', dataPath(library), '--enroll-people', '2', '--enroll-photos', '1', '--draws', '3', '--data-dir', join(cwd, 'data'), '--json'];
  const first = await runCli(args, { cwd });
  assert.equal(first.code, 0, first.stderr);
  const r = JSON.parse(first.stdout) as {
    photos: number; people: number; strangersNamed: number; enrolledRight: number; enrolled: { people: string[]; photos: number };
    clusters: { bcubed: { precision: number; recall: number }; worstPeople: number }; namingDraws: { draws: number }; clusterNaming: { othersShare: number };
  };
  assert.equal(r.photos, 9);
  assert.equal(r.people, 5);
  assert.equal(r.enrolled.people.length, 2);
  assert.equal(r.enrolled.photos, 2);
  for (const share of [r.strangersNamed, r.enrolledRight, r.clusters.bcubed.precision, r.clusters.bcubed.recall]) assert.ok(share >= 0 && share <= 1, JSON.stringify(r));
  assert.equal(r.strangersNamed, 0, 'no stranger named in the face_recognition examples');
  assert.ok(r.clusters.worstPeople <= 1, 'no cluster of two people');
  assert.equal(r.namingDraws.draws, 3);
  assert.ok(readdirSync(join(cwd, 'data', 'eval-cache')).some((f) => f.endsWith('.jsonl')));
  // The second run reads the cache: the same figures, the photos not embedded again.
  const second = await runCli(args, { cwd });
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /9 photos, 9 of them from the cache/);
  assert.deepEqual(JSON.parse(second.stdout), r);
  // The text report.
  const text = await runCli(args.filter((a) => a !== '--json'), { cwd });
  assert.match(text.stdout, /\| facepipe \| 0\.00 % \(0\/\d+\)/);
  assert.match(text.stdout, /naming every cluster as its main person/);
});

test('facepipe eval-library: usage errors name the fix', async () => {
  for (const [args, message] of [
    [['eval-library'], /give the library folder/],
    [['eval-library', join(cwd, 'nowhere')], /is not a folder/],
    [['eval-library', cwd, '--draws', '0'], /--draws/],
  ] as const) {
    const r = await runCli([...args], { cwd });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});
