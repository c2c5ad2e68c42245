import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  applyAffine, decodeImage, extractFaceChip, FACE_CHIP_LANDMARKS, faceChipSimilarity, faceChipTemplate, faceChipTransform,
  invertAffine, similarityFromParams, similarityParams, warpAffineBilinear, type Point,
  rawChips, encodeChips, decodeChips, blankRawChips,
} from '@facepipe/vision';
import type { FacepipeError } from '@facepipe/core';
import { dataPath, missingData } from '../helpers/data.js';

const close = (a: number, b: number, eps = 1e-9, what = ''): void => assert.ok(Math.abs(a - b) <= eps, `${what} ${a} vs ${b}`);

/** 68 landmarks whose used points are the chip template mapped through `chipToImage`. */
function landmarksFromTemplate(chipToImage: ReturnType<typeof similarityFromParams>): Point[] {
  const template = faceChipTemplate(150, 0.25);
  const out: Point[] = Array.from({ length: 68 }, () => [0, 0] as const);
  FACE_CHIP_LANDMARKS.forEach((index, k) => (out[index] = applyAffine(chipToImage, template[k]!)));
  return out;
}

test("dlib's template: 33 landmarks (27..54, 60..64), mean shape scaled by (padding + m) / (2·padding + 1) · size", () => {
  assert.equal(FACE_CHIP_LANDMARKS.length, 33);
  assert.deepEqual(FACE_CHIP_LANDMARKS.slice(0, 3), [27, 28, 29]);
  assert.ok(!FACE_CHIP_LANDMARKS.some((i) => (i >= 55 && i <= 59) || i >= 65 || i < 27));
  const t = faceChipTemplate(150, 0.25);
  // Landmark 27 (nose bridge top): mean (0.490127, 0.203352).
  close(t[0]![0], ((0.25 + 0.490127) / 1.5) * 150);
  close(t[0]![1], ((0.25 + 0.203352) / 1.5) * 150);
  // Landmark 36 (outer corner of the left eye in the image): mean (0.121737, 0.216423).
  const k36 = FACE_CHIP_LANDMARKS.indexOf(36);
  close(t[k36]![0], 37.1737);
  close(t[k36]![1], 46.6423);
});

test('faceChipSimilarity recovers the transform that placed the template in the image', () => {
  const truth = similarityFromParams(2.4, -0.5, 310.25, 120.5);
  const s = faceChipSimilarity(landmarksFromTemplate(truth));
  truth.forEach((v, i) => close(s[i]!, v, 1e-9, `m[${i}]`));
  assert.throws(() => faceChipSimilarity([[0, 0]]), RangeError);
});

test("faceChipTransform reproduces dlib's rectangle-corner mapping", () => {
  // Scale 1: dlib's chip is the similarity shifted by half a pixel (chip centre 74.5 ↔ S(75, 75)).
  const truth = similarityFromParams(1, 0.3, 40, 60);
  const t = faceChipTransform(landmarksFromTemplate(truth));
  const centre = applyAffine(truth, [75, 75]);
  const mapped = applyAffine(t, [74.5, 74.5]);
  close(mapped[0], centre[0]);
  close(mapped[1], centre[1]);
  close(similarityParams(t).scale, 1);
  close(similarityParams(t).angle, 0.3);
  // Scale 3: chip corners (0,0) and (149,0) land on the ends of a rotated side of length 150·3 − 1.
  const big = similarityFromParams(3, -1.1, 500, 400);
  const tb = faceChipTransform(landmarksFromTemplate(big));
  const a = applyAffine(tb, [0, 0]);
  const b = applyAffine(tb, [149, 0]);
  close(Math.hypot(b[0] - a[0], b[1] - a[1]), 449, 1e-9);
  close(Math.atan2(b[1] - a[1], b[0] - a[0]), -1.1);
});

test('the chip of a synthetically rotated face equals the chip of the upright face', { skip: missingData('landmarks/afw_subset_68pt/1051618982.jpg') }, async () => {
  const img = await decodeImage(readFileSync(dataPath('landmarks/afw_subset_68pt/1051618982.jpg')), { maxPixels: 40e6 });
  const pts: Point[] = readFileSync(dataPath('landmarks/afw_subset_68pt/1051618982_1.pts'), 'utf8')
    .trim().split('\n').filter((l) => /^[\d.\s-]+$/.test(l.trim())).map((l) => {
      const [x, y] = l.trim().split(/\s+/).map(Number);
      return [x!, y!] as const;
    });
  assert.equal(pts.length, 68);
  const upright = extractFaceChip(img.data, img.width, img.height, pts, { antialias: false });

  // Rotate the whole photo by 25° about its centre (our warp maps output → source, so pass the inverse).
  const c: Point = [img.width / 2, img.height / 2];
  const rotate = similarityFromParams(1, (25 * Math.PI) / 180, 0, 0);
  const rc = applyAffine(rotate, c);
  const forward = [rotate[0], rotate[1], c[0] - rc[0], rotate[3], rotate[4], c[1] - rc[1]] as const;
  const rotated = warpAffineBilinear(img.data, img.width, img.height, invertAffine(forward), img.width, { outHeight: img.height });
  const rotatedPts = pts.map((p) => applyAffine(forward, p));
  const realigned = extractFaceChip(rotated, img.width, img.height, rotatedPts, { antialias: false });
  const unaligned = extractFaceChip(rotated, img.width, img.height, pts, { antialias: false });

  const meanDiff = (a: Float32Array, b: Float32Array): number => {
    let sum = 0;
    let n = 0;
    for (let y = 20; y < 130; y++) for (let x = 20; x < 130; x++) for (let ch = 0; ch < 3; ch++, n++) sum += Math.abs(a[(y * 150 + x) * 3 + ch]! - b[(y * 150 + x) * 3 + ch]!);
    return sum / n;
  };
  const aligned = meanDiff(upright.chip, realigned.chip);
  const baseline = meanDiff(upright.chip, unaligned.chip);
  assert.ok(aligned < 4, `re-aligned chip differs by ${aligned.toFixed(2)} per value`);
  assert.ok(baseline > 5 * aligned, `without re-alignment the difference is only ${baseline.toFixed(2)}`);
});

test('extractFaceChip anti-aliases faces much larger than the chip', () => {
  // A 1-pixel checkerboard seen at scale 4: bilinear point sampling hits mostly 0s or 255s;
  // averaging first gives the true mean, 127.5.
  const w = 1000;
  const src = new Uint8Array(w * w * 3);
  for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) src.fill((x + y) % 2 ? 255 : 0, (y * w + x) * 3, (y * w + x) * 3 + 3);
  const landmarks = landmarksFromTemplate(similarityFromParams(4, 0.2, 200, 150));
  const spread = (chip: Float32Array): number => {
    let lo = Infinity;
    let hi = -Infinity;
    for (let y = 30; y < 120; y++) for (let x = 30; x < 120; x++) {
      const v = chip[(y * 150 + x) * 3]!;
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    return hi - lo;
  };
  const smooth = extractFaceChip(src, w, w, landmarks);
  const aliased = extractFaceChip(src, w, w, landmarks, { antialias: false });
  assert.ok(spread(smooth.chip) < 10, `anti-aliased spread ${spread(smooth.chip)}`);
  assert.ok(spread(aliased.chip) > 100, `aliased spread ${spread(aliased.chip)}`);
  assert.deepEqual(smooth.chipToImage, aliased.chipToImage);
});

test('raw chips as stored: the same bytes back, a stored object that is not whole chips is CORRUPT_IMAGE, erasure zeroes one chip only', async () => {
  const per = 150 * 150 * 3;
  const stored = Buffer.from(Array.from({ length: 2 * per }, (_, i) => (i * 7) % 251));
  const back = rawChips(stored);
  assert.equal(back.count, 2);
  assert.deepEqual(Buffer.from(back.chips), stored);
  // Exactly what lossless WebP gave back before: the embedding is the same either way.
  const webp = await encodeChips(back.chips, 2);
  assert.deepEqual(Buffer.from((await decodeChips(webp)).chips), stored);
  assert.throws(() => rawChips(stored.subarray(0, per + 1)), (err: FacepipeError) => err.code === 'CORRUPT_IMAGE' && /not a whole number of 150×150 RGB chips/.test(err.message));
  assert.throws(() => rawChips(Buffer.alloc(0)), (err: FacepipeError) => err.code === 'CORRUPT_IMAGE');
  const blanked = blankRawChips(stored, [1]);
  assert.deepEqual(blanked.subarray(0, per), stored.subarray(0, per));
  assert.ok(blanked.subarray(per).every((v) => v === 0));
  assert.notEqual(stored.subarray(per).reduce((a, v) => a + v, 0), 0, 'the stored chips are not changed in place');
});
