import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimatePose, fitFaceShape, laplacianVariance, MEAN_FACE_SHAPE, rollQuarter, type Point } from '@facepipe/vision';

const close = (a: number, b: number, eps = 1e-9, what = ''): void => assert.ok(Math.abs(a - b) <= eps, `${what} ${a} vs ${b}`);

/** 68 landmarks: 17 jaw points (ignored by the fit) then the mean face mapped by `map`. */
function face(map: (p: Point) => Point): Point[] {
  return [...Array.from({ length: 17 }, (_, i): Point => [i, 0]), ...MEAN_FACE_SHAPE.map(map)];
}

test('fitFaceShape: an exact copy of the mean face (scaled, moved, turned) fits with residual 0 and gives its roll', () => {
  const upright = fitFaceShape(face(([x, y]) => [100 * x + 10, 100 * y + 20]));
  close(upright.residual, 0, 1e-9, 'residual');
  close(upright.roll, 0, 1e-9, 'roll');
  // Turned clockwise by 90° as seen in the image (y down): (x, y) → (−y, x).
  const clockwise = fitFaceShape(face(([x, y]) => [-80 * y + 300, 80 * x + 5]));
  close(clockwise.residual, 0, 1e-9);
  close(clockwise.roll, Math.PI / 2, 1e-9);
  assert.equal(rollQuarter(clockwise.roll), 1);
  // Points without face structure: all equal → residual 1 (nothing to fit).
  assert.equal(fitFaceShape(Array.from({ length: 68 }, (): Point => [5, 5])).residual, 1);
  assert.throws(() => fitFaceShape([[0, 0]]), RangeError);
});

test('fitFaceShape: the residual is a ratio, the same at any scale and roll; an upside-down mouth raises it', () => {
  // The mouth (48..67) moved up above the nose: not a face shape.
  const odd = (p: Point, i: number): Point => (i + 17 >= 48 ? [p[0], p[1] - 0.6] : p);
  const small = fitFaceShape([...Array.from({ length: 17 }, (): Point => [0, 0]), ...MEAN_FACE_SHAPE.map(odd)]);
  const big = fitFaceShape([...Array.from({ length: 17 }, (): Point => [0, 0]), ...MEAN_FACE_SHAPE.map((p, i) => odd(p, i)).map(([x, y]): Point => [-500 * y, 500 * x])]);
  assert.ok(small.residual > 0.2, `residual ${small.residual}`);
  close(small.residual, big.residual, 1e-9);
});

test('rollQuarter rounds a roll to the nearest clockwise quarter turn', () => {
  assert.equal(rollQuarter(0.3), 0);
  assert.equal(rollQuarter(-0.3), 0);
  assert.equal(rollQuarter(1.2), 1);
  assert.equal(rollQuarter(Math.PI), 2);
  assert.equal(rollQuarter(-Math.PI), 2);
  assert.equal(rollQuarter(-Math.PI / 2), 3);
});

test('estimatePose: the mean face is frontal; the nose tip moved by the nose depth gives 45°', () => {
  const mean = face(([x, y]) => [200 * x, 200 * y]);
  const frontal = estimatePose(mean);
  close(frontal.yaw, 0, 1e-3, 'yaw');
  close(frontal.pitch, 0, 1e-9, 'pitch');
  // Outer eye corners 36, 45 and mouth corners 48, 54 of dlib's mean face (unit square).
  const eyeDistance = 200 * (0.858516 - 0.121737);
  const eyeToMouth = 200 * ((0.780233 + 0.780233) / 2 - (0.216423 + 0.216423) / 2);
  const right = mean.map((p, i): Point => (i === 30 ? [p[0] + 0.4 * eyeDistance, p[1]] : p));
  close(estimatePose(right).yaw, 45, 0.01, 'yaw right');
  const down = mean.map((p, i): Point => (i === 30 ? [p[0], p[1] + 0.5 * eyeToMouth] : p));
  close(estimatePose(down).pitch, 45, 1e-6, 'pitch down');
  close(estimatePose(down).yaw, 0, 1e-3);
});

test('laplacianVariance: 0 for a flat patch; one bright pixel among zeros gives (4v)²+4v² over 9', () => {
  const flat = new Uint8Array(5 * 5 * 3).fill(77);
  close(laplacianVariance(flat, 5, 5), 0, 1e-9);
  const dot = new Uint8Array(5 * 5 * 3);
  dot.fill(100, 12 * 3, 12 * 3 + 3); // the centre pixel, luma 100
  // Interior 3×3: 400 once, −100 four times, 0 four times; mean 0.
  close(laplacianVariance(dot, 5, 5), (400 ** 2 + 4 * 100 ** 2) / 9, 1e-6);
  // Offset: the same patch after 6 bytes of something else.
  const shifted = new Uint8Array(6 + dot.length);
  shifted.fill(255, 0, 6);
  shifted.set(dot, 6);
  close(laplacianVariance(shifted, 5, 5, 6), laplacianVariance(dot, 5, 5), 1e-9);
  assert.throws(() => laplacianVariance(dot, 2, 5), RangeError);
});
