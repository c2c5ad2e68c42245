import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSsd, decodeTinyYolo, landmarksFromOutput, loadModelManifest, loadSsdAnchors, SSD_ANCHOR_COUNT, ssdAnchorCount, ssdAnchors, ssdFeatureMapSizes, ssdInputExtent, ssdInputSide, TINY_FACE_DETECTOR_ANCHORS } from '@facepipe/vision';

const close = (actual: ArrayLike<number>, expected: readonly number[], eps = 1e-6): void => {
  assert.equal(actual.length, expected.length, `length ${actual.length} ≠ ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= eps, `[${i}] ${actual[i]} ≠ ${expected[i]}`);
  }
};

test('decodeSsd decodes anchor offsets like face-api outputLayer', () => {
  // two anchors (ymin, xmin, ymax, xmax): both 0.4 × 0.4, centred at (y 0.4, x 0.6)
  const anchors = Float32Array.from([0.2, 0.4, 0.6, 0.8, 0.2, 0.4, 0.6, 0.8]);
  // anchor 0: zero encodings → the anchor itself
  // anchor 1: ty = 1 → y = 0.1·0.4 + 0.4 = 0.44; tx = -2 → x = -0.2·0.4 + 0.6 = 0.52;
  //           th = 5·ln 2 → h = 2·0.4 = 0.8; tw = 0 → w = 0.4
  const enc = Float32Array.from([0, 0, 0, 0, 1, -2, 5 * Math.LN2, 0]);
  const logits = Float32Array.from([9, 0, 9, 9, Math.log(3), 9]); // face = index 1: sigmoid(0) = 0.5, sigmoid(ln 3) = 0.75
  const c = decodeSsd(enc, logits, anchors);
  assert.equal(c.count, 2);
  close(c.boxes, [0.4, 0.2, 0.8, 0.6, 0.52 - 0.2, 0.44 - 0.4, 0.52 + 0.2, 0.44 + 0.4]);
  close(c.scores, [0.5, 0.75]);
  assert.deepEqual([...c.indices], [0, 1]);

  const filtered = decodeSsd(enc, logits, anchors, 0, { scoreThreshold: 0.5 }); // strictly greater, as face-api
  assert.equal(filtered.count, 1);
  assert.deepEqual([...filtered.indices], [1]);
});

test('decodeSsd reads the requested image of a batch', () => {
  const anchors = Float32Array.from([0, 0, 1, 1]);
  const enc = Float32Array.from([0, 0, 0, 0, 10, 0, 0, 0]); // image 1: y shifted by a whole box height
  const logits = Float32Array.from([0, 0, 0, 0, 0, 0]);
  close(decodeSsd(enc, logits, anchors, 1).boxes, [0, 1, 1, 2]);
  assert.throws(() => decodeSsd(enc, logits, anchors, 2), RangeError);
});

test('decodeTinyYolo decodes cells and anchors like face-api extractBoxes', () => {
  // grid 1 row × 2 columns, two anchors: channel = anchor·5 + (x, y, w, h, score)
  const anchors = [
    { x: 2, y: 1 },
    { x: 1, y: 1 },
  ];
  const grid = new Float32Array(1 * 2 * 2 * 5).fill(-20); // everything else: score ≈ 0
  // cell (row 0, col 1), anchor 0: tx = ty = 0 → centre ((1 + 0.5) / 2, 0.5 / 1) = (0.75, 0.5);
  // tw = ln 0.5 → w = 0.5 · 2 / 2 = 0.5; th = 0 → h = 1 · 1 / 1 = 1; score logit 0 → 0.5
  grid.set([0, 0, Math.log(0.5), 0, 0], (1 * 2 + 0) * 5);
  const all = decodeTinyYolo(grid, 1, 2, { anchors });
  assert.equal(all.count, 4);
  const top = decodeTinyYolo(grid, 1, 2, { anchors, scoreThreshold: 0.4 });
  assert.equal(top.count, 1);
  assert.deepEqual([...top.indices], [2]); // (row 0 · 2 + col 1) · 2 anchors + anchor 0
  close(top.boxes, [0.5, 0, 1, 1]);
  close(top.scores, [0.5]);
});

test('decodeTinyYolo defaults to the face detector anchors', () => {
  const grid = new Float32Array(13 * 13 * 25); // all zeros: every score is 0.5
  const c = decodeTinyYolo(grid, 13, 13);
  assert.equal(c.count, 13 * 13 * 5);
  // first candidate: cell (0, 0), anchor 0 → centre 0.5/13, size anchor/13
  const w = TINY_FACE_DETECTOR_ANCHORS[0]!.x / 13;
  const h = TINY_FACE_DETECTOR_ANCHORS[0]!.y / 13;
  close(c.boxes.subarray(0, 4), [0.5 / 13 - w / 2, 0.5 / 13 - h / 2, 0.5 / 13 + w / 2, 0.5 / 13 + h / 2]);
});

test('landmarksFromOutput undoes the centred square padding and the crop offset', () => {
  // crop at (100, 50), 20 wide × 40 high → square side 40, centred: 10 px of padding on the left
  const raw = new Float32Array(136);
  raw.set([0, 0, 0.5, 0.25, 1, 1]);
  const pts = landmarksFromOutput(raw, [100, 50, 20, 40]);
  close(pts.subarray(0, 6), [90, 50, 110, 60, 130, 90]);
  // face-api's postProcess for the same point: (0.5·112 − 28) / (20·2.8) · 20 + 100 = 110
  // explicit padding (e.g. a crop padded only on the right)
  close(landmarksFromOutput(raw, [100, 50, 20, 40], { padding: { left: 0, top: 0 } }).subarray(2, 4), [120, 60]);
  // batch index
  const batch = new Float32Array(272);
  batch.set([0.5, 0.5], 136);
  close(landmarksFromOutput(batch, [0, 0, 10, 10], { batchIndex: 1 }).subarray(0, 2), [5, 5]);
  assert.throws(() => landmarksFromOutput(raw, [0, 0, 10, 10], { batchIndex: 1 }), RangeError);
});

test('ssdAnchors(512) equals face-api exported anchors; other sizes follow the feature maps', async () => {
  const manifest = await loadModelManifest(undefined, { verify: false });
  const exported = await loadSsdAnchors(manifest);
  const made = ssdAnchors(512);
  assert.equal(made.length, exported.length);
  let worst = 0;
  for (let i = 0; i < made.length; i++) worst = Math.max(worst, Math.abs(made[i]! - exported[i]!));
  assert.ok(worst < 1e-6, `max |Δ| ${worst}`);
  assert.equal(ssdAnchorCount(512), SSD_ANCHOR_COUNT);
  assert.deepEqual(ssdFeatureMapSizes(256), [16, 8, 4, 2, 1, 1]);
  assert.deepEqual(ssdFeatureMapSizes(288), [18, 9, 5, 3, 2, 1]);
  assert.equal(ssdAnchorCount(256), 16 * 16 * 3 + (64 + 16 + 4 + 1 + 1) * 6);
  // Sizes stay in input pixels: at 256 the same anchor covers twice the normalised extent.
  const small = ssdAnchors(256);
  assert.ok(Math.abs(small[2]! - small[0]! - 0.2) < 1e-6, 'lowest anchor 0.1 × 512 px = 0.2 of 256');
  assert.ok(Math.abs((small[0]! + small[2]!) / 2 - 0.5 / 16) < 1e-6, 'first cell centre');
  assert.throws(() => ssdFeatureMapSizes(250), RangeError);
});

test('ssdAnchors(height, width): rows follow the height, columns the width, sizes stay in input pixels', () => {
  assert.deepEqual(ssdAnchors(512, 512), ssdAnchors(512));
  // 352 rows: feature maps 22, 11, 6, 3, 2, 1; 512 columns: 32, 16, 8, 4, 2, 1.
  const count = 22 * 32 * 3 + (11 * 16 + 6 * 8 + 3 * 4 + 2 * 2 + 1 * 1) * 6;
  assert.equal(count, 3558);
  assert.equal(ssdAnchorCount(352, 512), count);
  const a = ssdAnchors(352, 512);
  assert.equal(a.length, count * 4);
  // First anchor: cell (0, 0) of the stride-16 map, centre 8 px from the top-left, 0.1 × 512 = 51.2 px square.
  const [ymin, xmin, ymax, xmax] = [a[0]!, a[1]!, a[2]!, a[3]!];
  assert.ok(Math.abs(((ymin + ymax) / 2) * 352 - 8) < 1e-4 && Math.abs(((xmin + xmax) / 2) * 512 - 8) < 1e-4, 'centre at (8, 8) px');
  assert.ok(Math.abs((ymax - ymin) * 352 - 51.2) < 1e-3 && Math.abs((xmax - xmin) * 512 - 51.2) < 1e-3, 'square in pixels');
  // The last anchor (the 1 × 1 map) is centred on the input.
  const last = a.subarray(a.length - 4);
  assert.ok(Math.abs((last[0]! + last[2]!) / 2 - 0.5) < 1e-6 && Math.abs((last[1]! + last[3]!) / 2 - 0.5) < 1e-6);
});

test('ssdInputExtent: the square side, then only the rows and columns the photo covers', () => {
  assert.deepEqual(ssdInputExtent(1248, 832), { side: 512, width: 512, height: 352 }); // 832 × 512/1248 = 341.3 → 352
  assert.deepEqual(ssdInputExtent(1920, 1080), { side: 512, width: 512, height: 288 });
  assert.deepEqual(ssdInputExtent(832, 1248), { side: 512, width: 352, height: 512 });
  assert.deepEqual(ssdInputExtent(250, 250), { side: 256, width: 256, height: 256 });
  assert.deepEqual(ssdInputExtent(250, 180), { side: 256, width: 256, height: 192 }); // 180 × 256/250 = 184.3 → 192
  assert.deepEqual(ssdInputExtent(100, 1000), { side: 512, width: 64, height: 512 }); // 51.2 → at least 64
});

test('ssdInputSide: the photo size rounded up to 32, between 64 and the maximum', () => {
  assert.equal(ssdInputSide(250, 250), 256);
  assert.equal(ssdInputSide(250, 180), 256);
  assert.equal(ssdInputSide(20, 30), 64);
  assert.equal(ssdInputSide(1155, 866), 512);
  assert.equal(ssdInputSide(300, 400, 384), 384);
});
