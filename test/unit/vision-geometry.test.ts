import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyAffine, boundingBoxOfPoints, boxToCorners, clipBox, composeAffine, cornersToBox, cropRectForBox, downsample2x,
  downsampleBox, estimateSimilarity, placeOnCanvas, turnSquareNhwc, unturnCorners, unturnPoint, flipHorizontal, invertAffine, iou, nonMaxSuppression, similarityFromParams, similarityParams,
  tileGrid, warpAffineBilinear, LANDMARK_REFINE_SCALE, landmarkRefineBox, type Affine, type Box, type Point,
} from '@facepipe/vision';

const close = (a: number, b: number, eps = 1e-9, what = ''): void => assert.ok(Math.abs(a - b) <= eps, `${what} ${a} vs ${b}`);

test('box conversions, area-based IoU, clipping', () => {
  assert.deepEqual(boxToCorners([1, 2, 3, 4]), [1, 2, 4, 6]);
  assert.deepEqual(cornersToBox([4, 6, 1, 2]), [1, 2, 3, 4]);
  close(iou([0, 0, 2, 2], [1, 1, 2, 2]), 1 / 7);
  close(iou([0, 0, 2, 2], [0, 0, 2, 2]), 1);
  assert.equal(iou([0, 0, 1, 1], [1, 0, 1, 1]), 0); // touching edges
  assert.equal(iou([0, 0, 0, 0], [0, 0, 0, 0]), 0);
  assert.deepEqual(clipBox([-5, 10, 20, 100], 10, 50), [0, 10, 10, 40]);
  assert.deepEqual(clipBox([20, 20, 5, 5], 10, 10), [10, 10, 0, 0]);
  assert.deepEqual(cropRectForBox([10.7, -3, 5.5, 10.2], 14, 20), [10, 0, 3, 7]);
  assert.deepEqual(boundingBoxOfPoints([[3, 4], [1, 9], [5, 2]]), [1, 2, 4, 7]);
});

test('NMS keeps the best of each overlapping group, honours score threshold and max results', () => {
  const boxes: Box[] = [
    [0, 0, 10, 10], // 0: 0.9
    [1, 1, 10, 10], // 1: 0.8, IoU with 0 = 81/119 ≈ 0.68
    [20, 20, 10, 10], // 2: 0.7
    [21, 20, 10, 10], // 3: 0.95, IoU with 2 = 90/110 ≈ 0.82
    [50, 50, 5, 5], // 4: 0.2
  ];
  const scores = [0.9, 0.8, 0.7, 0.95, 0.2];
  assert.deepEqual(nonMaxSuppression(boxes, scores, { iouThreshold: 0.5 }), [3, 0, 4]);
  assert.deepEqual(nonMaxSuppression(boxes, scores, { iouThreshold: 0.7 }), [3, 0, 1, 4]);
  assert.deepEqual(nonMaxSuppression(boxes, scores, { iouThreshold: 0.5, scoreThreshold: 0.5 }), [3, 0]);
  assert.deepEqual(nonMaxSuppression(boxes, scores, { iouThreshold: 0.5, maxResults: 1 }), [3]);
  assert.deepEqual(nonMaxSuppression([], [], { iouThreshold: 0.5 }), []);
  // Equal scores: lower index first.
  assert.deepEqual(nonMaxSuppression([[0, 0, 1, 1], [5, 5, 1, 1]], [0.5, 0.5], { iouThreshold: 0.3 }), [0, 1]);
});

function randomPoints(n: number, seed: number): Point[] {
  let s = seed;
  const r = (): number => ((s = (s * 1103515245 + 12345) >>> 0) / 4294967296) * 200 - 100;
  return Array.from({ length: n }, () => [r(), r()] as const);
}

test('estimateSimilarity recovers a known rotation, scale and translation exactly', () => {
  for (const [scale, angle, tx, ty] of [[1, 0, 0, 0], [1.7, 0.6, 12, -5], [0.31, -2.9, -400, 250.5], [3, Math.PI / 2, 1, 1]] as const) {
    const truth = similarityFromParams(scale, angle, tx, ty);
    const src = randomPoints(33, 99);
    const dst = src.map((p) => applyAffine(truth, p));
    const got = similarityParams(estimateSimilarity(src, dst));
    close(got.scale, scale, 1e-9, 'scale');
    close(Math.cos(got.angle), Math.cos(angle), 1e-9, 'cos');
    close(Math.sin(got.angle), Math.sin(angle), 1e-9, 'sin');
    close(got.tx, tx, 1e-6, 'tx');
    close(got.ty, ty, 1e-6, 'ty');
  }
});

test('estimateSimilarity: least squares with noise, never a reflection, rejects degenerate input', () => {
  // Two points: exact fit.
  const m = estimateSimilarity([[0, 0], [1, 0]], [[10, 10], [10, 12]]);
  const p = similarityParams(m);
  close(p.scale, 2);
  close(p.angle, Math.PI / 2);
  // Mirror image: the best proper similarity has positive determinant.
  const src = randomPoints(10, 5);
  const mirrored = src.map(([x, y]) => [-x, y] as const);
  const r = estimateSimilarity(src, mirrored);
  assert.ok(r[0] * r[4] - r[1] * r[3] >= 0);
  // Symmetric noise around a known transform averages out.
  const truth = similarityFromParams(2, 0.3, 5, 7);
  const srcN: Point[] = [[0, 0], [10, 0], [0, 10], [10, 10]];
  const noise: Point[] = [[0.1, 0], [-0.1, 0], [0, 0.1], [0, -0.1]];
  const dstN = srcN.map((q, i) => {
    const t = applyAffine(truth, q);
    return [t[0] + noise[i]![0], t[1] + noise[i]![1]] as const;
  });
  const fit = similarityParams(estimateSimilarity(srcN, dstN));
  close(fit.scale, 2, 0.01);
  close(fit.angle, 0.3, 0.01);
  assert.throws(() => estimateSimilarity([[1, 1]], [[2, 2]]), RangeError);
  assert.throws(() => estimateSimilarity([[1, 1], [1, 1]], [[0, 0], [1, 1]]), RangeError);
  assert.throws(() => estimateSimilarity([[1, 1], [2, 2]], [[0, 0]]), RangeError);
});

test('invertAffine and composeAffine', () => {
  const a = similarityFromParams(1.3, 0.4, 7, -2);
  const b: Affine = [2, 0.5, 1, -0.3, 1.5, 4];
  const id = composeAffine(a, invertAffine(a));
  [1, 0, 0, 0, 1, 0].forEach((v, i) => close(id[i]!, v, 1e-12));
  const q: Point = [3, -8];
  const viaCompose = applyAffine(composeAffine(a, b), q);
  const stepwise = applyAffine(a, applyAffine(b, q));
  close(viaCompose[0], stepwise[0]);
  close(viaCompose[1], stepwise[1]);
  assert.throws(() => invertAffine([1, 2, 0, 2, 4, 0]), RangeError);
});

/** A small RGB image whose pixel (x, y) is [x, y, x + y] (as floats). */
function ramp(w: number, h: number): Float32Array {
  const out = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.set([x, y, x + y], (y * w + x) * 3);
  return out;
}

test('warpAffineBilinear: identity, integer shift, half-pixel shift, rotation, outside = 0', () => {
  const src = ramp(6, 5);
  assert.deepEqual(warpAffineBilinear(src, 6, 5, [1, 0, 0, 0, 1, 0], 6, { outHeight: 5 }), src);
  // out(x, y) = src(x + 2, y + 1)
  const shifted = warpAffineBilinear(src, 6, 5, [1, 0, 2, 0, 1, 1], 4);
  assert.deepEqual([...shifted.subarray(0, 3)], [2, 1, 3]);
  assert.deepEqual([...shifted.subarray((3 * 4 + 3) * 3, (3 * 4 + 3) * 3 + 3)], [5, 4, 9]);
  // Row 4 maps to source row 5: outside → 0.
  const tall = warpAffineBilinear(src, 6, 5, [1, 0, 2, 0, 1, 1], 4, { outHeight: 5 });
  assert.deepEqual([...tall.subarray(4 * 4 * 3)], new Array(12).fill(0));
  // Half-pixel: a linear ramp interpolates exactly.
  const half = warpAffineBilinear(src, 6, 5, [1, 0, 0.5, 0, 1, 0.25], 3);
  assert.deepEqual([...half.subarray((1 * 3 + 1) * 3, (1 * 3 + 1) * 3 + 3)], [1.5, 1.25, 2.75]);
  // 90° rotation: out(x, y) = src(y, W-1-x) for a 5x5 source.
  const sq = ramp(5, 5);
  const rot = warpAffineBilinear(sq, 5, 5, [0, 1, 0, -1, 0, 4], 5);
  assert.deepEqual([...rot.subarray((2 * 5 + 1) * 3, (2 * 5 + 1) * 3 + 3)], [2, 3, 5]);
  // Writes into a batch slot.
  const batch = new Float32Array(2 * 4 * 4 * 3);
  warpAffineBilinear(src, 6, 5, [1, 0, 0, 0, 1, 0], 4, { out: batch, outOffset: 48 });
  assert.deepEqual([...batch.subarray(48, 51)], [0, 0, 0]);
  assert.deepEqual([...batch.subarray(51, 54)], [1, 0, 1]);
});

test('warpAffineBilinear samples a known similarity correctly at every pixel', () => {
  // For a linear image f(x, y) = 3x + 2y + 1 (all channels), bilinear sampling is exact inside.
  const w = 40;
  const h = 30;
  const src = new Float32Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) src.fill(3 * x + 2 * y + 1, (y * w + x) * 3, (y * w + x) * 3 + 3);
  const t = similarityFromParams(0.8, 0.35, 12.3, 4.7);
  const out = warpAffineBilinear(src, w, h, t, 20);
  let checked = 0;
  for (let y = 0; y < 20; y++) for (let x = 0; x < 20; x++) {
    const [sx, sy] = applyAffine(t, [x, y]);
    const v = out[(y * 20 + x) * 3]!;
    if (sx < 0 || sy < 0 || sx > w - 1 || sy > h - 1) assert.equal(v, 0);
    else {
      close(v, 3 * sx + 2 * sy + 1, 1e-3);
      checked++;
    }
  }
  assert.ok(checked > 300);
});

test('flipHorizontal mirrors rows and is its own inverse; downsample2x averages 2x2 blocks', () => {
  const img = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...flipHorizontal(img, 3, 1)], [7, 8, 9, 4, 5, 6, 1, 2, 3]);
  const f = ramp(7, 3);
  const twice = flipHorizontal(flipHorizontal(f, 7, 3), 7, 3);
  assert.ok(twice instanceof Float32Array);
  assert.deepEqual(twice, f);
  const down = downsample2x(ramp(5, 4), 5, 4);
  assert.deepEqual([down.width, down.height], [2, 2]);
  // Block (x 2..3, y 0..1): mean x 2.5, mean y 0.5.
  assert.deepEqual([...down.data.subarray(3, 6)], [2.5, 0.5, 3]);
  // Factor 3 over the rectangle x 1..9, y 2..7 of a 10x8 ramp: block (1, 1) covers x 4..6, y 5..7.
  const box = downsampleBox(ramp(10, 8), 10, 8, 3, [1, 2, 9, 6]);
  assert.deepEqual([box.width, box.height], [3, 2]);
  assert.deepEqual([...box.data.subarray((1 * 3 + 1) * 3, (1 * 3 + 1) * 3 + 3)], [5, 6, 11]);
  assert.throws(() => downsampleBox(ramp(4, 4), 4, 4, 2, [2, 2, 4, 4]), RangeError);
});

test('turnSquareNhwc turns clockwise; unturnPoint/unturnCorners invert the turn; placeOnCanvas centres', () => {
  const S = 3;
  const src = new Float32Array(S * S * 3).map((_, i) => Math.floor(i / 3));
  const firstChannel = (t: Float32Array) => Array.from(t).filter((_, i) => i % 3 === 0);
  assert.deepEqual(firstChannel(turnSquareNhwc(src, S, 1)), [6, 3, 0, 7, 4, 1, 8, 5, 2]);
  assert.deepEqual(firstChannel(turnSquareNhwc(src, S, 2)), [8, 7, 6, 5, 4, 3, 2, 1, 0]);
  assert.deepEqual(firstChannel(turnSquareNhwc(turnSquareNhwc(src, S, 1), S, 3)), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
  // Pixel (x 2, y 0) (value 2) lands at (x 2, y 2) after a clockwise turn; its centre maps back.
  assert.deepEqual(unturnPoint(2.5, 2.5, S, 1), [2.5, 0.5]);
  for (const t of [0, 1, 2, 3] as const) {
    const [x, y] = unturnPoint(0.2, 0.7, 1, t);
    const back = [unturnPoint(x, y, 1, ((4 - t) % 4) as 0 | 1 | 2 | 3)].flat();
    assert.ok(Math.abs(back[0]! - 0.2) < 1e-12 && Math.abs(back[1]! - 0.7) < 1e-12, `turn ${t}`);
  }
  unturnCorners(0.1, 0.2, 0.3, 0.6, 1, 1).forEach((v, i) => assert.ok(Math.abs(v - [0.2, 0.7, 0.6, 0.9][i]!) < 1e-12));
  const canvas = placeOnCanvas(Float32Array.from({ length: 12 }, () => 1), 2, 4, 1);
  assert.deepEqual(firstChannel(canvas), [0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  assert.throws(() => placeOnCanvas(new Float32Array(12), 2, 4, 3), RangeError);
});

test('tileGrid: square tiles cover the photo, neighbours overlap by at least the overlap', () => {
  assert.deepEqual(tileGrid(100, 50, 100, 10), [[0, 0, 100, 50]]);
  // A 6 MP photo as the tiles pass cuts it: overlap 3128 / 8 = 391, tile (3128 + 391) / 2 → 1760.
  assert.deepEqual(tileGrid(3128, 1969, 1760, 391), [[0, 0, 1760, 1760], [1368, 0, 1760, 1760], [0, 209, 1760, 1760], [1368, 209, 1760, 1760]]);
  for (const [w, h, tile, overlap] of [[1000, 300, 256, 40], [777, 1500, 400, 100], [4032, 3024, 2268, 504]] as const) {
    const tiles = tileGrid(w, h, tile, overlap);
    for (const [x, y, tw, th] of tiles) assert.ok(x >= 0 && y >= 0 && x + tw <= w && y + th <= h && tw <= tile && th <= tile, `inside: ${[x, y, tw, th].join(',')}`);
    const xs = [...new Set(tiles.map((t) => t[0]))];
    const ys = [...new Set(tiles.map((t) => t[1]))];
    assert.equal(tiles.length, xs.length * ys.length);
    assert.equal(xs.at(-1)! + Math.min(tile, w - xs.at(-1)!), w, 'last column flush with the right edge');
    assert.equal(ys.at(-1)! + Math.min(tile, h - ys.at(-1)!), h, 'last row flush with the bottom');
    for (let i = 1; i < xs.length; i++) assert.ok(xs[i - 1]! + tile - xs[i]! >= overlap, `columns ${i - 1}, ${i} overlap`);
    for (let i = 1; i < ys.length; i++) assert.ok(ys[i - 1]! + tile - ys[i]! >= overlap, `rows ${i - 1}, ${i} overlap`);
  }
  assert.throws(() => tileGrid(100, 100, 50, 50), RangeError);
});

test('the second landmark pass crops a square 1.6× the points\' extent, centred on them', () => {
  const points: Point[] = [[100, 50], [160, 60], [130, 130], [110, 120]];
  const [x, y, w, h] = landmarkRefineBox(points);
  // Extent 60 × 80: side 1.6 × 80 = 128, centre (130, 90).
  close(w, 128, 1e-9, 'width');
  close(h, 128, 1e-9, 'height');
  close(x + w / 2, 130, 1e-9, 'centre x');
  close(y + h / 2, 90, 1e-9, 'centre y');
  assert.equal(LANDMARK_REFINE_SCALE, 1.6);
  assert.deepEqual(landmarkRefineBox(points, 1), [90, 50, 80, 80]);
  assert.throws(() => landmarkRefineBox([]), RangeError);
  assert.throws(() => landmarkRefineBox(points, 0), RangeError);
});
