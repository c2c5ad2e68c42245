import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  cropAndResize, imageToLetterbox, letterboxBoxToImage, letterboxGeometry, letterboxRgb, letterboxRgbRect, letterboxToImage, scaleBox,
  type RgbImage,
} from '@facepipe/vision';

function syntheticImage(width: number, height: number, seed = 7): RgbImage {
  let s = seed;
  const data = Uint8Array.from({ length: width * height * 3 }, () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 16) & 255);
  return { width, height, data };
}

/** face-api's `toBatchTensor(size, centred)` for one tensor input: padToSquare, then resizeBilinear(false, false). */
function faceApiReference(img: RgbImage, size: number, centred: boolean): Float32Array {
  return tf.tidy(() => {
    let t = tf.tensor4d(Float32Array.from(img.data), [1, img.height, img.width, 3]);
    const diff = Math.abs(img.height - img.width);
    if (diff > 0) {
      const axis = img.height > img.width ? 2 : 1;
      const append = Math.round(diff * (centred ? 0.5 : 1));
      const prepend = diff - append;
      const zeros = (n: number) => tf.zeros(axis === 2 ? [1, img.height, n, 3] : [1, n, img.width, 3]) as tf.Tensor4D;
      const parts = [...(centred && prepend ? [zeros(prepend)] : []), t, zeros(append)];
      t = tf.concat(parts, axis);
    }
    if (t.shape[1] !== size || t.shape[2] !== size) t = tf.image.resizeBilinear(t, [size, size], false, false);
    return t.dataSync() as Float32Array;
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('letterbox geometry: padding at bottom/right, or split as face-api does', () => {
  const g = letterboxGeometry([0, 0, 400, 300], 100);
  assert.deepEqual([g.paddedSize, g.padLeft, g.padTop, g.scale], [400, 0, 0, 0.25]);
  // Centred: diff 101 → round(50.5) = 51 after, 50 before.
  const c = letterboxGeometry([0, 0, 200, 301], 100, true);
  assert.deepEqual([c.paddedSize, c.padLeft, c.padTop], [301, 50, 0]);
  const wide = letterboxGeometry([0, 0, 301, 200], 100, true);
  assert.deepEqual([wide.padLeft, wide.padTop], [0, 50]);
  assert.throws(() => letterboxGeometry([0, 0, 0, 10], 100), RangeError);
});

test('letterbox mapping: network ↔ image round trip and boxes', () => {
  const g = letterboxGeometry([0, 0, 1200, 800], 416);
  // scale = 416 / 1200; the network's bottom-right corner is the padded square's corner.
  assert.deepEqual(letterboxToImage(g, [416, 416]), [1200, 1200]);
  assert.deepEqual(letterboxToImage(g, [208, 104]), [600, 300]);
  const box = letterboxBoxToImage(g, [104, 52, 41.6, 83.2]);
  box.forEach((v, i) => assert.ok(Math.abs(v - [300, 150, 120, 240][i]!) < 1e-9));
  // Relative outputs: scale by the input size first.
  const rel = letterboxBoxToImage(g, scaleBox([0.25, 0.125, 0.1, 0.2], g.size));
  rel.forEach((v, i) => assert.ok(Math.abs(v - [300, 150, 120, 240][i]!) < 1e-9));

  const crop = letterboxGeometry([50, 70, 100, 60], 112, true); // padTop = 20
  assert.equal(crop.padTop, 20);
  assert.deepEqual(letterboxToImage(crop, [0, 0]), [50, 50]);
  assert.deepEqual(letterboxToImage(crop, [112, 112]), [150, 150]);
  for (const p of [[0, 0], [51.5, 13.25], [111, 111]] as const) {
    const back = imageToLetterbox(crop, letterboxToImage(crop, p));
    assert.ok(Math.abs(back[0] - p[0]) < 1e-9 && Math.abs(back[1] - p[1]) < 1e-9);
  }
});

test('letterboxRgb matches face-api toBatchTensor (tfjs padToSquare + resizeBilinear) value for value', () => {
  const cases: [number, number, number, boolean][] = [
    [97, 61, 32, false], [61, 97, 32, false], [61, 97, 32, true], [97, 60, 32, true], [40, 40, 40, false], [30, 50, 64, true], [128, 77, 416, false],
  ];
  for (const [w, h, size, centred] of cases) {
    const img = syntheticImage(w, h, w * 31 + h);
    const ours = letterboxRgb(img, size, { centred });
    assert.equal(ours.tensor.length, size * size * 3);
    const ref = faceApiReference(img, size, centred);
    const diff = maxAbsDiff(ours.tensor, ref);
    assert.ok(diff < 1e-3, `${w}x${h} → ${size} centred=${centred}: max diff ${diff}`);
  }
});

test('letterboxRgb writes into a batch buffer at an offset', () => {
  const img = syntheticImage(20, 10);
  const batch = new Float32Array(2 * 8 * 8 * 3).fill(-1);
  const res = letterboxRgb(img, 8, { out: batch, outOffset: 8 * 8 * 3 });
  assert.equal(res.tensor, batch);
  assert.equal(res.offset, 192);
  assert.ok(batch.subarray(0, 192).every((v) => v === -1));
  assert.deepEqual(batch.subarray(192), letterboxRgb(img, 8).tensor);
  assert.throws(() => letterboxRgb(img, 8, { out: batch, outOffset: 200 }), RangeError);
});

test('letterboxRgbRect is the top-left of the square letterbox, without the padding beyond the photo', () => {
  for (const [w, h] of [[30, 20], [20, 30], [17, 17]] as const) {
    const img = syntheticImage(w, h, w * 31 + h);
    const side = 16;
    const square = letterboxRgb(img, side).tensor;
    const cols = Math.ceil((w * side) / Math.max(w, h));
    const rows = Math.ceil((h * side) / Math.max(w, h));
    const rect = letterboxRgbRect(img, side, cols, rows);
    assert.equal(rect.tensor.length, cols * rows * 3);
    assert.deepEqual(rect.geometry, letterboxGeometry([0, 0, w, h], side));
    for (let r = 0; r < rows; r++) {
      assert.deepEqual(rect.tensor.subarray(r * cols * 3, (r + 1) * cols * 3), square.subarray(r * side * 3, r * side * 3 + cols * 3), `row ${r} of ${w}x${h}`);
    }
  }
  assert.throws(() => letterboxRgbRect(syntheticImage(4, 4), 8, 9, 8), RangeError);
});

test('cropAndResize: clips and floors the box like face-api, centred padding, maps back', () => {
  const img = syntheticImage(50, 40);
  // Box partly outside: clipped to x 0..29.6 → floor → [0, 5, 29, 20].
  const res = cropAndResize(img, [-10.4, 5.7, 40, 20.9], 112);
  assert.ok(res);
  assert.deepEqual(res.geometry.region, [0, 5, 29, 20]);
  assert.equal(res.geometry.padTop, 4); // diff 9: 5 after, 4 before
  const sub: RgbImage = { width: 29, height: 20, data: new Uint8Array(29 * 20 * 3) };
  for (let r = 0; r < 20; r++) sub.data.set(img.data.subarray(((5 + r) * 50) * 3, ((5 + r) * 50 + 29) * 3), r * 29 * 3);
  assert.ok(maxAbsDiff(res.tensor, faceApiReference(sub, 112, true)) < 1e-3);
  // The crop's corners map back to image pixels.
  assert.deepEqual(letterboxToImage(res.geometry, [0, 0]), [0, 1]);
  assert.equal(cropAndResize(img, [60, 5, 10, 10], 112), null);
});
