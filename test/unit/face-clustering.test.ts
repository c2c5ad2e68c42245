import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chineseWhispers, clusterQuality, dbscan, exactNeighbourhoods, stableClusterIds } from '@facepipe/face-index';

// Points on a line: a tight group of 3 (0, 0.1, 0.2), a pair (5, 5.1), a loner (9).
const line = [[0], [0.1], [0.2], [5], [5.1], [9]];

test('dbscan: core points found clusters, a pair below the minimum is noise, loners are noise', () => {
  const n = exactNeighbourhoods(line, 0.15);
  assert.deepEqual(n[0], [1]);
  assert.deepEqual(n[1], [0, 2]);
  assert.deepEqual(dbscan(n, 3), [0, 0, 0, -1, -1, -1]);
  assert.deepEqual(dbscan(n, 2), [0, 0, 0, 1, 1, -1]);
});

test('dbscan: a border point joins the cluster of the core point that reaches it', () => {
  // 1 is core (0 and 2 within 0.15); 0 and 2 are borders with one neighbour each.
  assert.deepEqual(dbscan(exactNeighbourhoods([[0], [0.12], [0.24], [3]], 0.15), 3), [0, 0, 0, -1]);
});

test('chinese whispers joins connected faces and leaves loners alone', () => {
  assert.deepEqual(chineseWhispers(line, 0.15, { seed: 7 }), [0, 0, 0, 1, 1, 2]);
});

test('pairwise and BCubed quality, checked by hand', () => {
  const truth = ['a', 'a', 'a', 'b', 'b', 'c'];
  const perfect = clusterQuality([0, 0, 0, 1, 1, 2], truth);
  assert.equal(perfect.pairwisePrecision, 1);
  assert.equal(perfect.pairwiseRecall, 1);
  assert.equal(perfect.bcubedF1, 1);
  // Everything in one cluster: 4 true pairs of 15 predicted; recall 1.
  const merged = clusterQuality([0, 0, 0, 0, 0, 0], truth);
  assert.equal(merged.pairwisePrecision, 4 / 15);
  assert.equal(merged.pairwiseRecall, 1);
  // BCubed precision: (3·3/6 + 2·2/6 + 1/6)/6 = 14/36.
  assert.ok(Math.abs(merged.bcubedPrecision - 14 / 36) < 1e-12);
  assert.equal(merged.bcubedRecall, 1);
  // Noise is singletons: no merge errors, recall lost.
  const none = clusterQuality([-1, -1, -1, -1, -1, -1], truth);
  assert.equal(none.pairwisePrecision, 1);
  assert.equal(none.pairwiseRecall, 0);
  assert.equal(none.noise, 6);
  assert.equal(none.clusters, 0);
});

test('stable cluster ids: the old id most members had, each used once; the rest are new', () => {
  const ids = stableClusterIds([0, 0, 0, 1, 1, 2, -1], ['7', '7', '8', '8', '8', null, '7']);
  assert.equal(ids.get(0), '7');
  assert.equal(ids.get(1), '8');
  assert.equal(ids.get(2), null);
  // Two new clusters both mostly from '7': only the larger keeps it.
  const split = stableClusterIds([0, 0, 1, 1, 1], ['7', '7', '7', '7', '7']);
  assert.equal(split.get(1), '7');
  assert.equal(split.get(0), null);
});
