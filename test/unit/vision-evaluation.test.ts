import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import {
  assignFolds, bestThreshold, combineDetectionMatches, evaluateVerification, landmarkError, landmarkErrors, lfwImagePath,
  matchDetections, parseLfwPairs, rocAuc, type Point,
} from '@facepipe/vision';
import { dataPath, missingData } from '../helpers/data.js';

const close = (a: number, b: number, eps = 1e-9): void => assert.ok(Math.abs(a - b) <= eps, `${a} vs ${b}`);

test('LFW pairs: multi-fold file, image paths, malformed lines', () => {
  const text = '2\t1\nAl\t1\t2\nBo\t1\tCy\t3\nDi\t2\t4\nEd\t1\tFe\t1\n';
  const parsed = parseLfwPairs(text);
  assert.equal(parsed.folds, 2);
  assert.equal(parsed.foldSource, 'file');
  assert.deepEqual(parsed.pairs.map((p) => [p.nameA, p.indexA, p.nameB, p.indexB, p.same, p.fold]), [
    ['Al', 1, 'Al', 2, true, 0],
    ['Bo', 1, 'Cy', 3, false, 0],
    ['Di', 2, 'Di', 4, true, 1],
    ['Ed', 1, 'Fe', 1, false, 1],
  ]);
  assert.equal(lfwImagePath('/lfw/', 'George_W_Bush', 12), '/lfw/George_W_Bush/George_W_Bush_0012.jpg');
  assert.throws(() => parseLfwPairs('1\t1\nAl\t1\nBo\t1\tCy\t3\n'), /line 2/);
  assert.throws(() => parseLfwPairs('1\t2\nAl\t1\t2\n'), SyntaxError);
  assert.throws(() => parseLfwPairs('1\t1\nAl\tx\t2\nBo\t1\tCy\t3\n'), /line 2/);
});

test('a single-fold file is split into 10 contiguous, stratified folds', () => {
  assert.deepEqual(assignFolds(20, 10), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
  assert.deepEqual(assignFolds(7, 3), [0, 0, 0, 1, 1, 2, 2]);
  const lines = ['1\t25', ...Array.from({ length: 25 }, (_, i) => `P${i}\t1\t2`), ...Array.from({ length: 25 }, (_, i) => `P${i}\t1\tQ${i}\t1`)];
  const parsed = parseLfwPairs(lines.join('\n'));
  assert.equal(parsed.folds, 10);
  assert.equal(parsed.foldSource, 'split');
  for (let f = 0; f < 10; f++) {
    const same = parsed.pairs.filter((p) => p.fold === f && p.same).length;
    const diff = parsed.pairs.filter((p) => p.fold === f && !p.same).length;
    assert.ok(same >= 2 && same <= 3 && same === diff, `fold ${f}: ${same} same, ${diff} different`);
  }
  assert.equal(parseLfwPairs(lines.join('\n'), { splitSingleFoldInto: 1 }).folds, 1);
});

test('the shared pairs_dev.txt parses to 140 + 140 pairs whose images exist', { skip: missingData('recognition/lfw_dev/pairs_dev.txt') }, () => {
  const parsed = parseLfwPairs(readFileSync(dataPath('recognition/lfw_dev/pairs_dev.txt'), 'utf8'));
  assert.equal(parsed.pairs.length, 280);
  assert.equal(parsed.pairs.filter((p) => p.same).length, 140);
  assert.equal(parsed.folds, 10);
  const root = dataPath('recognition/lfw_dev/lfw-deepfunneled');
  for (const p of parsed.pairs) {
    assert.ok(existsSync(lfwImagePath(root, p.nameA, p.indexA)), lfwImagePath(root, p.nameA, p.indexA));
    assert.ok(existsSync(lfwImagePath(root, p.nameB, p.indexB)));
  }
});

test('bestThreshold picks the middle of the best gap', () => {
  // same at 0.2, 0.3; different at 0.7, 0.9 → any t in [0.3, 0.7) is perfect; candidates 0.25, 0.5, 0.8 → 0.5.
  const r = bestThreshold([0.2, 0.7, 0.3, 0.9], [true, false, true, false]);
  assert.deepEqual(r, { threshold: 0.5, accuracy: 1 });
  // Overlap: same 0.2, 0.6; different 0.4, 0.8 → best accuracy 3/4 at t = 0.3 (first best run: 0.3 alone).
  const o = bestThreshold([0.2, 0.6, 0.4, 0.8], [true, true, false, false]);
  assert.equal(o.accuracy, 0.75);
  close(o.threshold, 0.3);
  // Tied distances are never split.
  const t = bestThreshold([0.5, 0.5, 0.1], [true, false, true]);
  assert.equal(t.accuracy, 2 / 3);
});

test('evaluateVerification: per-fold thresholds from the other folds, mean, std, AUC', () => {
  // Fold 0: separable at 0.5; fold 1: one different pair at 0.45 (below the threshold) → 3/4.
  const distances = [0.2, 0.3, 0.7, 0.8, 0.25, 0.35, 0.45, 0.9];
  const same = [true, true, false, false, true, true, false, false];
  const folds = [0, 0, 0, 0, 1, 1, 1, 1];
  const r = evaluateVerification(distances, same, folds);
  assert.equal(r.folds.length, 2);
  // Fold 0 is tested with the threshold from fold 1: same ≤ 0.35 < 0.45 → 0.40; accuracy 1.
  close(r.folds[0]!.threshold, 0.4);
  assert.equal(r.folds[0]!.accuracy, 1);
  // Fold 1 uses fold 0's threshold 0.5: 0.45 is called "same" → 3/4.
  close(r.folds[1]!.threshold, 0.5);
  assert.equal(r.folds[1]!.accuracy, 0.75);
  close(r.accuracy, 0.875);
  close(r.std, Math.sqrt(((1 - 0.875) ** 2 + (0.75 - 0.875) ** 2) / 1));
  close(r.standardError, r.std / Math.sqrt(2));
  close(r.threshold, 0.45);
  // AUC: every same-pair distance (0.2..0.35) is below every different-pair distance (0.45..0.9) → 1.
  assert.equal(r.auc, 1);
});

test('rocAuc is exact, handles ties as one half', () => {
  assert.equal(rocAuc([0.9, 0.8, 0.1, 0.2], [true, true, false, false]), 1);
  assert.equal(rocAuc([0.1, 0.2, 0.9, 0.8], [true, true, false, false]), 0);
  assert.equal(rocAuc([0.5, 0.5], [true, false]), 0.5);
  // Positives 3, 1; negatives 2, 0 → pairs (3>2, 3>0, 1<2, 1>0) → 3/4.
  assert.equal(rocAuc([3, 1, 2, 0], [true, true, false, false]), 0.75);
  // With a tie between a positive and a negative at 2: (3>2, 3>0, 2=2 → ½, 2>0) → 3.5/4.
  assert.equal(rocAuc([3, 2, 2, 0], [true, true, false, false]), 0.875);
  assert.ok(Number.isNaN(rocAuc([1, 2], [true, true])));
});

test('detection matching at IoU ≥ 0.5, greedy by score', () => {
  const gt = [[0, 0, 10, 10], [20, 0, 10, 10], [40, 0, 10, 10]] as const;
  const dets = [
    { box: [1, 0, 10, 10] as const, score: 0.6 }, // IoU 0.82 with gt0
    { box: [0, 1, 10, 10] as const, score: 0.9 }, // IoU 0.82 with gt0, higher score: wins gt0
    { box: [24, 0, 10, 10] as const, score: 0.8 }, // IoU 6/14 = 0.43 with gt1: no match
    { box: [100, 100, 5, 5] as const, score: 0.7 },
  ];
  const m = matchDetections(dets, gt);
  assert.deepEqual(m.matches.map(([d, g]) => [d, g]), [[1, 0]]);
  assert.deepEqual([m.truePositives, m.falsePositives, m.falseNegatives], [1, 3, 2]);
  close(m.recall, 1 / 3);
  close(m.precision, 1 / 4);
  const loose = matchDetections(dets, gt, 0.4);
  assert.deepEqual(loose.matches.map(([d, g]) => [d, g]), [[1, 0], [2, 1]]);
  const total = combineDetectionMatches([m, matchDetections([], [[0, 0, 1, 1]]), matchDetections([{ box: [0, 0, 1, 1], score: 1 }], [[0, 0, 1, 1]])]);
  assert.deepEqual([total.truePositives, total.falsePositives, total.falseNegatives], [2, 3, 3]);
  close(total.recall, 2 / 5);
  close(total.precision, 2 / 5);
  assert.ok(Number.isNaN(matchDetections([], []).recall));
});

test('landmark error normalised by the outer-eye-corner distance', () => {
  const truth: Point[] = Array.from({ length: 68 }, (_, i) => [i, 0] as const);
  // Outer eye corners at x = 36 and 45 → inter-ocular distance 9. Shift all points by (3, 4): error 5 → 5/9.
  const shifted = truth.map(([x, y]) => [x + 3, y + 4] as const);
  close(landmarkError(shifted, truth), 5 / 9);
  close(landmarkError(truth, truth), 0);
  const r = landmarkErrors([shifted, truth], [truth, truth]);
  assert.equal(r.perFace.length, 2);
  close(r.mean, 5 / 18);
  assert.throws(() => landmarkError(truth.slice(0, 5), truth.slice(0, 5)), RangeError);
});
