import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SEARCH_QUALITY, isSearchFlagged, rankDistance, rankSearchHits } from '@facepipe/face-index';

const image = { width: 250, height: 250 };

test('a face is flagged for search when small, blurred or cut by the border, and only then', () => {
  assert.equal(isSearchFlagged({ box: [70, 70, 110, 110], sharpness: 40, image }), false);
  assert.equal(isSearchFlagged({ box: [10, 10, 30, 60], sharpness: 40, image }), true, 'shorter side under 40 px');
  assert.equal(isSearchFlagged({ box: [70, 70, 110, 110], sharpness: 5, image }), true, 'blurred');
  assert.equal(isSearchFlagged({ box: [200, 70, 100, 100], sharpness: 40, image }), true, 'half outside the photo');
  assert.equal(isSearchFlagged({ box: [-10, 70, 100, 100], sharpness: 40, image }), false, '10 % outside is within the 15 % allowed');
  // Unknown facts flag nothing: no sharpness, no photo size.
  assert.equal(isSearchFlagged({ box: [200, 70, 100, 100] }), false);
  assert.equal(isSearchFlagged({ box: [70, 70, 110, 110], sharpness: null, image: null }), false);
  assert.equal(isSearchFlagged({ box: [70, 70, 110, 110], sharpness: 5, image }, { minSharpness: 4 }), false, 'thresholds are options');
});

test('flagged hits rank as if the penalty farther; the distances stay as they are', () => {
  const hits = [
    { id: 'fragment', distance: 0.49, flagged: true },
    { id: 'own-a', distance: 0.52, flagged: false },
    { id: 'fragment-far', distance: 0.6, flagged: true },
    { id: 'own-b', distance: 0.56, flagged: false },
  ];
  const ranked = rankSearchHits(hits, (h) => h.flagged, 0.05);
  assert.deepEqual(ranked.map((h) => h.id), ['own-a', 'fragment', 'own-b', 'fragment-far']);
  assert.deepEqual(ranked.map((h) => h.distance), [0.52, 0.49, 0.56, 0.6]);
  assert.deepEqual(hits.map((h) => h.id), ['fragment', 'own-a', 'fragment-far', 'own-b'], 'the input is not reordered');
  // No penalty: plain distance order; equal keys keep input order.
  assert.deepEqual(rankSearchHits(hits, (h) => h.flagged, 0).map((h) => h.id), ['fragment', 'own-a', 'own-b', 'fragment-far']);
  assert.deepEqual(rankSearchHits([{ id: 'x', distance: 0.5 }, { id: 'y', distance: 0.5 }], () => false).map((h) => h.id), ['x', 'y']);
  assert.equal(rankDistance(0.5, true), 0.5 + DEFAULT_SEARCH_QUALITY.penalty);
  assert.equal(rankDistance(0.5, false), 0.5);
});
