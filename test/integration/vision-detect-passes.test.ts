import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { FaceAnalyzer, type DecodedImage } from '@facepipe/vision';
import { dataPath, missingData } from '../helpers/data.js';

const SIDEWAYS = 'recognition/lfw_dev/lfw-deepfunneled/Walter_Woods/Walter_Woods_0001.jpg';
const LFW_MISSED = 'recognition/lfw_dev/lfw-deepfunneled/Derrick_Rodgers/Derrick_Rodgers_0001.jpg';

/** The decoded photo turned clockwise by 90°: pixel (x, y) moves to (h − 1 − y, x). */
function turnClockwise(img: DecodedImage): DecodedImage {
  const { width: w, height: h, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.set(data.subarray((y * w + x) * 3, (y * w + x) * 3 + 3), (x * h + (h - 1 - y)) * 3);
  return { ...img, width: h, height: w, data: out } as DecodedImage;
}

test('a sideways photo without EXIF orientation: found by a turned pass, box and landmarks where the upright ones land', { skip: missingData(SIDEWAYS) }, async () => {
  const analyzer = await FaceAnalyzer.create({ stages: ['detect'] });
  try {
    const upright = await analyzer.decode(await readFile(dataPath(SIDEWAYS)));
    const a = await analyzer.analyzeDecoded(upright);
    assert.equal(a.faces.length, 1);
    assert.deepEqual(a.passes.map((p) => p.pass), ['upright']);
    const sideways = turnClockwise(upright);
    const b = await analyzer.analyzeDecoded(sideways);
    assert.equal(b.faces.length, 1, JSON.stringify(b.passes));
    // Turned clockwise, the face is upright in the input turned by 270°, which must win over 90°.
    assert.ok(b.passes.some((p) => p.pass === 'turned270' && p.found === 1), JSON.stringify(b.passes));
    assert.equal(b.passes[0]!.pass, 'upright');
    // Upright point (x, y) is at (h − y, x) in the turned photo.
    const h = upright.height;
    const [x, y, w, bh] = a.faces[0]!.box;
    const expected = [h - (y + bh), x, bh, w];
    b.faces[0]!.box.forEach((v, k) => assert.ok(Math.abs(v - expected[k]!) < 0.12 * Math.max(w, bh), `box ${b.faces[0]!.box} vs ${expected}`));
    a.faces[0]!.landmarks.forEach(([px, py], i) => {
      const [qx, qy] = b.faces[0]!.landmarks[i]!;
      assert.ok(Math.hypot(qx - (h - py), qy - px) < 0.08 * w, `landmark ${i}: ${qx},${qy} vs ${h - py},${px}`);
    });
    assert.ok(b.timings.detectMs >= b.passes.reduce((s, p) => s + p.ms, 0) * 0.9);
  } finally {
    await analyzer.close();
  }
});

test('a portrait the upright pass misses is found by the padded pass; with the passes off it is not', { skip: missingData(LFW_MISSED) }, async () => {
  const bytes = await readFile(dataPath(LFW_MISSED));
  const withPasses = await FaceAnalyzer.create({ stages: ['detect'] });
  const uprightOnly = await FaceAnalyzer.create({ stages: ['detect'], passes: { padded: false, turned: false } });
  try {
    const a = await withPasses.analyze(bytes);
    assert.equal(a.faces.length, 1);
    assert.deepEqual(a.passes.map((p) => [p.pass, p.inputSize, p.found]), [['upright', 256, 0], ['padded', 256, 1]]);
    const b = await uprightOnly.analyze(bytes);
    assert.equal(b.faces.length, 0);
    assert.notEqual(withPasses.detectVersion.tag, uprightOnly.detectVersion.tag, 'the strategy is part of the detect version');
  } finally {
    await withPasses.close();
    await uprightOnly.close();
  }
});
