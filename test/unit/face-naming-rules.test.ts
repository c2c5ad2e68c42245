import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  classicNearest, clusterInMemory, dbscan, decideName, defaultSupportedClustering, euclidean, exactNeighbourhoods, namingThreshold, qualityFailure, type ClusterFace, type ExampleHit,
} from '@facepipe/face-index';
import { embeddingSpace } from '../helpers/random.js';

// The naming rule, the supported clustering and the quality gate on synthetic 128-d vectors.

const { unit, around, along } = embeddingSpace(11);

test('strangers stay unnamed: one look-alike example is not evidence; several agreeing examples are', () => {
  // 20 people, 5 examples each, spread 0.3 around their centre; centres far apart.
  const people = Array.from({ length: 20 }, (_, p) => ({ id: `p${p}`, centre: unit().map((x) => x * 1.5) }));
  const examples = people.flatMap((p) => Array.from({ length: 5 }, () => ({ personId: p.id, embedding: around(p.centre, 0.3) })));
  const gallery = { people: 20, examplesOf: () => 5 };
  const hitsOf = (probe: number[]): ExampleHit[] => examples.map((e) => ({ personId: e.personId, distance: euclidean(probe, e.embedding) }));
  // A stranger who happens to look like one example of p0 (0.45 away from it, far from the rest).
  const lookalike = around(examples[0]!.embedding, 0.45);
  assert.equal(classicNearest(hitsOf(lookalike), 0.6).kind, 'name', 'the classic rule names the stranger');
  assert.notEqual(decideName(hitsOf(lookalike), gallery, true).kind, 'name');
  // Strangers anywhere else: never named.
  for (let i = 0; i < 200; i += 1) assert.notEqual(decideName(hitsOf(unit().map((x) => x * 1.5)), gallery, true).kind, 'name');
  // A new photo of p3, near all of p3's examples: named p3.
  const own = around(people[3]!.centre, 0.2);
  assert.deepEqual({ ...decideName(hitsOf(own), gallery, true), distance: 0 }, { kind: 'name', personId: 'p3', distance: 0 });
  // The same face below the quality gate: only a suggestion.
  assert.equal(decideName(hitsOf(own), gallery, false).kind, 'suggestion');
  // Two people equally close: no name (margin).
  const twin = [{ personId: 'a', distance: 0.3 }, { personId: 'a', distance: 0.31 }, { personId: 'a', distance: 0.32 }, { personId: 'b', distance: 0.31 }];
  assert.equal(decideName(twin, { people: 2, examplesOf: () => 3 }, true).kind, 'suggestion');
  // The threshold tightens as the gallery grows.
  assert.ok(namingThreshold(640) < namingThreshold(20));
  assert.ok(namingThreshold(10_000_000) >= 0.38);
});

test('no chaining: a bridge of look-alikes between two people does not merge them (DBSCAN does)', async () => {
  const a = unit().map((x) => x * 0.4);
  const b = along(a, around(a, 0.8), 1);
  const faces: ClusterFace[] = [];
  for (let i = 0; i < 6; i += 1) faces.push({ id: `a${i}`, imageId: `a${i}`, embedding: around(a, 0.08) });
  for (let i = 0; i < 6; i += 1) faces.push({ id: `b${i}`, imageId: `b${i}`, embedding: around(b, 0.08) });
  // Look-alikes every 0.1 along the way from A to B, arriving last.
  for (let t = 0.15; t < 0.9; t += 0.125) faces.push({ id: `x${t.toFixed(2)}`, imageId: `x${t.toFixed(2)}`, embedding: around(along(a, b, t), 0.03) });
  const points = faces.map((f) => f.embedding);
  const chained = dbscan(exactNeighbourhoods(points, 0.45), 3);
  assert.equal(chained[0], chained[6], 'DBSCAN at 0.45 chains A and B through the bridge');
  const labels = await clusterInMemory(faces);
  assert.ok(labels[0]! >= 0 && labels[6]! >= 0, 'both people are clustered');
  assert.notEqual(labels[0], labels[6], 'A and B stay apart');
  for (let i = 1; i < 6; i += 1) {
    assert.equal(labels[i], labels[0]);
    assert.equal(labels[6 + i], labels[6]);
  }
});

/** Five faces about 0.21 apart around a pose centre (one person in one pose). */
const pose = (id: string, centre: number[]): ClusterFace[] => Array.from({ length: 5 }, (_, i) => ({ id: `${id}${i}`, imageId: `${id}${i}`, embedding: around(centre, 0.15) }));
const strictOnly = { ...defaultSupportedClustering, clearLinkage: 0, fragmentLinkage: 0 };

test('fragments of one person merge: two poses about 0.5 apart on average, nobody else near', async () => {
  const front = unit().map((x) => x * 0.4);
  const turned = around(front, 0.47);
  const faces = [...pose('front', front), ...pose('turned', turned)];
  const cross = faces.slice(0, 5).flatMap((a) => faces.slice(5).map((b) => euclidean(a.embedding, b.embedding)));
  const linkage = cross.reduce((s, d) => s + d, 0) / cross.length;
  assert.ok(linkage > 0.48 && linkage < 0.52, `the poses' average linkage ${linkage.toFixed(3)} is between the clear and the fragment linkage`);
  const strict = await clusterInMemory(faces, strictOnly);
  assert.notEqual(strict[0], strict[5], 'the strict linkage alone leaves two fragments');
  assert.ok(strict[0]! >= 0 && strict[5]! >= 0);
  const labels = await clusterInMemory(faces);
  assert.ok(labels.every((l) => l === labels[0] && l >= 0), `one cluster: ${labels.join(',')}`);
});

test('in a crowd of look-alikes the same distances are no evidence: a person between two others joins neither', async () => {
  // A and C 0.55 apart (two people); B's centre 0.47 from each, B's faces arriving last.
  const a = unit().map((x) => x * 0.4);
  const c = around(a, 0.55);
  // B: off the middle of A–C, square to it, so as near to one as to the other.
  const e = c.map((x, i) => (x - a[i]!) / euclidean(c, a));
  const u = unit();
  const dot = u.reduce((sum, x, i) => sum + x * e[i]!, 0);
  const side = u.map((x, i) => x - dot * e[i]!);
  const b = along(a, c, 0.5).map((x, i) => x + (side[i]! / Math.hypot(...side)) * 0.36);
  const faces = [...pose('a', a), ...pose('c', c), ...pose('b', b)];
  const linkage = (x: number, y: number) => {
    const d = faces.slice(x, x + 5).flatMap((f) => faces.slice(y, y + 5).map((g) => euclidean(f.embedding, g.embedding)));
    return d.reduce((s, v) => s + v, 0) / d.length;
  };
  const [ab, cb, ac] = [linkage(0, 10), linkage(5, 10), linkage(0, 5)];
  assert.ok(ab > 0.48 && ab < 0.52 && cb > 0.48 && cb < 0.52 && ac > 0.52, `linkages A–B ${ab.toFixed(3)}, C–B ${cb.toFixed(3)}, A–C ${ac.toFixed(3)}`);
  const labels = await clusterInMemory(faces);
  for (const [from, person] of [[0, 'a'], [5, 'c'], [10, 'b']] as const) {
    assert.ok(labels[from]! >= 0, `${person} is clustered`);
    for (let i = 1; i < 5; i += 1) assert.equal(labels[from + i], labels[from], `${person}'s faces stay together`);
  }
  assert.equal(new Set([labels[0], labels[5], labels[10]]).size, 3, `three clusters: ${labels.join(',')}`);
  // Without C, the same A and B are clear fragments of one person.
  const pair = await clusterInMemory([...pose('a', a), ...pose('b', b)]);
  assert.equal(pair[0], pair[5]);
});

test('cannot-link: two faces of one photo are never in one cluster', async () => {
  const c = unit().map((x) => x * 0.4);
  const faces: ClusterFace[] = [
    { id: '1', imageId: 'group-photo', embedding: around(c, 0.05) },
    { id: '2', imageId: 'group-photo', embedding: around(c, 0.05) },
    ...Array.from({ length: 4 }, (_, i) => ({ id: `o${i}`, imageId: `other${i}`, embedding: around(c, 0.08) })),
  ];
  const labels = await clusterInMemory(faces);
  assert.ok(labels[0]! >= 0 || labels[1]! >= 0);
  assert.notEqual(labels[0], labels[1]);
  // Arriving in another order changes nothing about it.
  const reversed = await clusterInMemory([...faces].reverse());
  assert.notEqual(reversed[5], reversed[4]);
});

test('quality gate: small, cut, blurred, turned and low-score faces fail it; a good face passes', () => {
  const image = { width: 400, height: 300 };
  const good = { box: [100, 80, 90, 110], score: 0.95, quality: { shapeResidual: 0.08, yaw: 5, pitch: 2, sharpness: 60 } };
  assert.equal(qualityFailure(good, image), null);
  assert.equal(qualityFailure({ ...good, score: 0.45 }, image), 'score');
  assert.equal(qualityFailure({ ...good, box: [10, 10, 30, 30] }, image), 'size');
  assert.equal(qualityFailure({ ...good, box: [350, 80, 90, 110] }, image), 'border');
  assert.equal(qualityFailure({ ...good, quality: { ...good.quality, sharpness: 3 } }, image), 'sharpness');
  assert.equal(qualityFailure({ ...good, quality: { ...good.quality, yaw: -60 } }, image), 'pose');
  assert.equal(qualityFailure({ ...good, quality: { ...good.quality, shapeResidual: 0.5 } }, image), 'landmarks');
});
