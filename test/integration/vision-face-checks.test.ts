import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { FaceAnalyzer, pickCentralFace, type AnalyzedImage, type Point } from '@facepipe/vision';
import { dataPath, missingData } from '../helpers/data.js';

/** A portrait whose copy turned 90° clockwise the SSD finds in its upright pass (box wider than tall). */
const SIDEWAYS_FOUND_UPRIGHT = 'recognition/lfw_dev/lfw-deepfunneled/Abdullatif_Sener/Abdullatif_Sener_0002.jpg';
const EINSTEIN = 'hard_cases/compreface_formats/einstein.jpeg';

/** The photo's subject (the central-face rule of `facepipe verify`). */
const subject = (a: AnalyzedImage) => a.faces[pickCentralFace(a.faces.map((f) => f.box), a.width, a.height)]!;

/** Mean distance between the turned photo's landmarks and the upright ones turned the same way: (x, y) → (h − y, x). */
function turnedError(upright: Point[], turned: Point[], height: number): number {
  return upright.reduce((s, [x, y], i) => s + Math.hypot(turned[i]![0] - (height - y), turned[i]![1] - x), 0) / upright.length;
}

test('a sideways face found by the upright pass gets its landmarks from the turned crop; with the check off it does not', { skip: missingData(SIDEWAYS_FOUND_UPRIGHT) }, async () => {
  const on = await FaceAnalyzer.create({ stages: ['detect'] });
  const off = await FaceAnalyzer.create({ stages: ['detect'], orientationCheck: false });
  try {
    const bytes = await readFile(dataPath(SIDEWAYS_FOUND_UPRIGHT));
    const upright = await on.analyze(bytes);
    assert.ok(upright.faces.length >= 1);
    assert.deepEqual(subject(upright).landmarks, subject(await off.analyze(bytes)).landmarks, 'the upright photo: the same landmarks with the check on and off');
    const turnedBytes = await sharp(bytes).rotate(90).png().toBuffer();
    const [a, b] = [await on.analyze(turnedBytes), await off.analyze(turnedBytes)];
    assert.equal(a.passes[0]!.pass, 'upright');
    assert.ok(a.passes[0]!.found >= 1, 'found by the upright pass');
    assert.ok(a.passes.every((p) => !p.pass.startsWith('turned')), JSON.stringify(a.passes));
    const width = subject(upright).box[2];
    const before = turnedError(subject(upright).landmarks, subject(b).landmarks, upright.height);
    const after = turnedError(subject(upright).landmarks, subject(a).landmarks, upright.height);
    assert.ok(before > 0.2 * width, `without the check the landmarks are off: ${before.toFixed(1)} px`);
    assert.ok(after < 0.1 * width, `with the check they land where the upright ones do: ${after.toFixed(1)} px (box ${width} px)`);
    assert.ok(a.checks.orientationChanged >= 1 && a.checks.orientationChecked >= a.checks.orientationChanged, JSON.stringify(a.checks));
    assert.equal(b.checks.orientationChecked, 0);
    assert.ok(subject(a).quality!.shapeResidual < subject(b).quality!.shapeResidual);
    assert.notEqual(on.detectVersion.tag, off.detectVersion.tag, 'the check is part of the detect version');
  } finally {
    await on.close();
    await off.close();
  }
});

test('NOT_A_FACE: a real face passes the default screen; a mirror check that tolerates no disagreement sets it aside, with the reason', { skip: missingData(EINSTEIN) }, async () => {
  const normal = await FaceAnalyzer.create({ stages: ['detect'] });
  const strict = await FaceAnalyzer.create({ stages: ['detect'], screen: { mirror: true, maxMirrorDisagreement: 0 } });
  try {
    const bytes = await readFile(dataPath(EINSTEIN));
    const a = await normal.analyze(bytes);
    assert.equal(a.faces.length, 1);
    assert.deepEqual(a.rejected, []);
    const q = a.faces[0]!.quality!;
    assert.ok(q.shapeResidual > 0 && q.shapeResidual < 0.2, `a frontal portrait fits the mean face: ${q.shapeResidual}`);
    assert.ok(Math.abs(q.yaw) < 30 && Math.abs(q.pitch) < 30, JSON.stringify(q));
    assert.ok(q.sharpness > 0);
    const b = await strict.analyze(bytes);
    assert.deepEqual(b.faces, []);
    assert.equal(b.chips.length, 0);
    assert.deepEqual(b.rejected.map((r) => r.reason), ['NOT_A_FACE']);
    assert.deepEqual(b.rejected[0]!.box, a.faces[0]!.box);
    assert.equal(b.rejected[0]!.score, a.faces[0]!.score);
  } finally {
    await normal.close();
    await strict.close();
  }
});
