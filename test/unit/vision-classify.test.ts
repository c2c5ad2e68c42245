import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cosineSimilarity, euclideanDistance, l2Normalize, matchNearest, meanEmbedding, parseLinearSvmModel, predictLinearSvm,
  squaredEuclideanDistance, svmDecisionValues, trainLinearSvm, type GalleryEntry,
} from '@facepipe/vision';

const close = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);

test('distances, cosine similarity, normalisation, mean', () => {
  close(euclideanDistance([0, 0], [3, 4]), 5);
  close(squaredEuclideanDistance([1, 2, 3], [1, 2, 5]), 4);
  close(cosineSimilarity([1, 0], [0, 2]), 0);
  close(cosineSimilarity([1, 1], [2, 2]), 1);
  close(cosineSimilarity([1, 0], [-3, 0]), -1);
  assert.equal(cosineSimilarity([0, 0], [1, 0]), 0);
  const n = l2Normalize([3, 4]);
  assert.ok(n instanceof Float32Array);
  close(n[0]!, 0.6, 1e-7);
  close(n[1]!, 0.8, 1e-7);
  assert.deepEqual([...l2Normalize([0, 0])], [0, 0]);
  assert.deepEqual([...meanEmbedding([[1, 2], [3, 6], [5, 1]])], [3, 3]);
  assert.throws(() => euclideanDistance([1], [1, 2]), RangeError);
  assert.throws(() => meanEmbedding([]), RangeError);
});

const gallery: GalleryEntry[] = [
  { name: 'alice', embedding: [0, 0] },
  { name: 'alice', embedding: [0.1, 0] },
  { name: 'bob', embedding: [1, 0] },
  { name: 'carol', embedding: [0, 1] },
];

test('nearest neighbour: match within tolerance, unknown beyond it, confidence from margins', () => {
  const m = matchNearest([0.05, 0.3], gallery);
  assert.equal(m.name, 'alice');
  close(m.distance, Math.hypot(0.05, 0.3));
  // Second best is another person: carol at (0, 1).
  close(m.secondDistance, Math.hypot(0.05, 0.7));
  // confidence = min((0.6 − d1)/0.6, (d2 − d1)/0.6), clamped.
  close(m.confidence, Math.min((0.6 - m.distance) / 0.6, (m.secondDistance - m.distance) / 0.6));
  close(m.confidence, (0.6 - m.distance) / 0.6); // here the tolerance margin is the smaller one

  const unknown = matchNearest([3, 3], gallery);
  assert.equal(unknown.name, null);
  assert.equal(unknown.nearestName, 'bob');
  assert.equal(unknown.confidence, 1); // more than twice the tolerance away

  // Equally close to bob and carol (distance 1), within a tolerance of 1.2: a match, but no confidence.
  const tie = matchNearest([1, 1], gallery, { tolerance: 1.2 });
  assert.ok(tie.name === 'bob' || tie.name === 'carol');
  close(tie.distance, 1);
  close(tie.confidence, 0);

  const empty = matchNearest([0, 0], []);
  assert.deepEqual([empty.name, empty.distance, empty.confidence], [null, Infinity, 1]);
  assert.throws(() => matchNearest([0, 0], gallery, { tolerance: 0 }), RangeError);
});

/** Gaussian-ish clusters around given centres, deterministic. */
function clusters(centres: Record<string, number[]>, perClass: number, spread: number, seed: number): GalleryEntry[] {
  let s = seed;
  const r = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296 - 0.5) * 2 * spread;
  return Object.entries(centres).flatMap(([name, c]) => Array.from({ length: perClass }, () => ({ name, embedding: c.map((v) => v + r()) })));
}

test('linear SVM separates clusters, predicts held-out points, and says unknown far away', () => {
  const centres = { ann: [1, 0, 0, 0], ben: [0, 1, 0, 0], cat: [0, 0, 1, 0], dan: [0, 0, 0, 1] };
  const train = clusters(centres, 8, 0.2, 3);
  const model = trainLinearSvm(train);
  assert.deepEqual(model.classes, ['ann', 'ben', 'cat', 'dan']);
  for (const s of train) assert.equal(predictLinearSvm(model, s.embedding).name, s.name);
  const heldOut = clusters(centres, 5, 0.2, 77);
  for (const s of heldOut) assert.equal(predictLinearSvm(model, s.embedding).name, s.name);
  // The origin is far from every cluster: every decision value is negative → unknown.
  const far = predictLinearSvm(model, [0, 0, 0, 0], { nearestDistance: 1, tolerance: 0.6 });
  assert.equal(far.name, null);
  assert.ok(far.score < 0);
  // ...unless the nearest gallery face is within tolerance.
  assert.equal(predictLinearSvm(model, [0, 0, 0, 0], { nearestDistance: 0.5 }).name, far.bestClass);
});

test('linear SVM: deterministic, serialisable, validated on load', () => {
  const train = clusters({ x: [1, 1], y: [-1, -1], z: [1, -1] }, 6, 0.3, 11);
  const a = trainLinearSvm(train, { seed: 5 });
  const b = trainLinearSvm(train, { seed: 5 });
  assert.deepEqual(a, b);
  const restored = parseLinearSvmModel(JSON.parse(JSON.stringify(a)));
  assert.deepEqual(svmDecisionValues(restored, [0.9, 1.2]), svmDecisionValues(a, [0.9, 1.2]));
  assert.equal(predictLinearSvm(restored, [0.9, 1.2]).name, 'x');
  assert.throws(() => parseLinearSvmModel({ ...a, weights: [[1]] }), TypeError);
  assert.throws(() => parseLinearSvmModel({ kind: 'other' }), TypeError);
  assert.throws(() => trainLinearSvm(train.filter((s) => s.name === 'x')), RangeError);
});

test('linear SVM on a 1-D problem puts the boundary in the middle of the gap', () => {
  const train: GalleryEntry[] = [
    { name: 'neg', embedding: [-2] }, { name: 'neg', embedding: [-1] },
    { name: 'pos', embedding: [1] }, { name: 'pos', embedding: [2] },
  ];
  const model = trainLinearSvm(train, { c: 100, epsilon: 1e-8, maxIterations: 10_000 });
  const k = model.classes.indexOf('pos');
  // Hard margin with a regularised bias: minimise w² + b² subject to w·1 + b ≥ 1, w·(−1) + b ≤ −1 → w = 1, b = 0.
  close(model.weights[k]![0]!, 1, 1e-4);
  close(model.biases[k]!, 0, 1e-4);
});
