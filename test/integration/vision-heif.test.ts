import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, FaceAnalyzer, orientRgb, probeImage, sniffFormat } from '@facepipe/vision';
import { dataPath, missingData } from '../helpers/data.js';
import { addIrot } from '../helpers/heif-irot.js';

const PHOTO = 'recognition/face_recognition_examples/knn_test/obama1.jpg';
const heifEncMissing = spawnSync('heif-enc', ['--help']).error ? 'heif-enc is missing (Debian: apt-get install libheif-examples)' : false;
const skip = missingData(PHOTO) || heifEncMissing;
const LIMITS = { maxPixels: 50_000_000 };
let dir: string;
/** The photo's upright pixels, from the JPEG. */
let reference: { data: Buffer; width: number; height: number };
let heicUpright: Buffer;
/** Stored turned a quarter to the left, with EXIF orientation 6 (heif-enc keeps the JPEG's Exif). */
let heicExif6: Buffer;
let avif: Buffer;

function heifEnc(input: string, output: string): void {
  const r = spawnSync('heif-enc', ['-q', '70', '-o', output, input], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`heif-enc failed: ${r.stderr}`);
}

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'fp-heif-'));
  const jpeg = await readFile(dataPath(PHOTO));
  const raw = await sharp(jpeg).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  reference = { data: raw.data, width: raw.info.width, height: raw.info.height };
  heifEnc(dataPath(PHOTO), join(dir, 'upright.heic'));
  heicUpright = await readFile(join(dir, 'upright.heic'));
  await writeFile(join(dir, 'exif6.jpg'), await sharp(jpeg).rotate(270).withMetadata({ orientation: 6 }).jpeg({ quality: 95 }).toBuffer());
  heifEnc(join(dir, 'exif6.jpg'), join(dir, 'exif6.heic'));
  heicExif6 = await readFile(join(dir, 'exif6.heic'));
  avif = await sharp(jpeg).avif({ quality: 50 }).toBuffer();
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

test('HEIC (made by heif-enc) decodes to the photo, EXIF orientation applied, probe from the container', { skip, timeout: 60_000 }, async () => {
  assert.deepEqual(sniffFormat(heicUpright), { kind: 'supported', format: 'heic' });
  const upright = await decodeImage(heicUpright, LIMITS);
  assert.equal(upright.format, 'heic');
  assert.deepEqual([upright.width, upright.height], [reference.width, reference.height]);
  assert.ok(meanAbsDiff(upright.data, reference.data) < 4, 'pixels agree with the JPEG it was made from');
  const turned = await decodeImage(heicExif6, LIMITS);
  assert.equal(turned.orientation, 6);
  assert.deepEqual([turned.originalWidth, turned.originalHeight], [reference.height, reference.width]);
  assert.deepEqual([turned.width, turned.height], [reference.width, reference.height]);
  assert.ok(meanAbsDiff(turned.data, reference.data) < 4, 'EXIF orientation 6 turns it upright');
  const probe = await probeImage(heicExif6, LIMITS);
  assert.deepEqual(probe, { format: 'heic', width: reference.width, height: reference.height, orientation: 6, originalWidth: reference.height, originalHeight: reference.width });
});

test('HEIC with an irot transform (as cameras write it): libheif turns it, the EXIF orientation is then ignored', { skip, timeout: 60_000 }, async () => {
  // Stored a quarter turn to the left with EXIF 6; irot 3 (270° counter-clockwise) turns it upright.
  const rotated = addIrot(heicExif6, 3);
  const probe = await probeImage(rotated, LIMITS);
  assert.deepEqual([probe.width, probe.height, probe.orientation], [reference.width, reference.height, 1]);
  const image = await decodeImage(rotated, LIMITS);
  assert.deepEqual([image.width, image.height], [reference.width, reference.height]);
  assert.ok(meanAbsDiff(image.data, reference.data) < 4, 'upright once, not turned twice');
  // irot 1 (90° counter-clockwise) on the upright file: a portrait, the photo turned left.
  const left = await decodeImage(addIrot(heicUpright, 1), LIMITS);
  assert.deepEqual([left.width, left.height], [reference.height, reference.width]);
  const turnedLeft = orientRgb({ width: reference.width, height: reference.height, data: reference.data }, 8);
  assert.ok(meanAbsDiff(left.data, turnedLeft.data) < 4, 'irot turns counter-clockwise');
});

test('HEIC limits and damage: pixel limit from the container, truncation from the box structure, damage corrupt', { skip, timeout: 60_000 }, async () => {
  await assert.rejects(decodeImage(heicUpright, { maxPixels: 1000 }), { code: 'IMAGE_TOO_LARGE' });
  await assert.rejects(probeImage(heicUpright, { maxPixels: 1000 }), { code: 'IMAGE_TOO_LARGE' });
  for (const fraction of [0.2, 0.5, 0.9, 0.999]) {
    await assert.rejects(decodeImage(heicUpright.subarray(0, Math.floor(heicUpright.length * fraction)), LIMITS), { code: 'TRUNCATED_IMAGE' }, `cut at ${fraction}`);
  }
  const damaged = Buffer.from(heicUpright);
  damaged.write('xxxx', damaged.indexOf('iloc', 0, 'latin1'), 'latin1'); // the item locations are gone
  await assert.rejects(decodeImage(damaged, LIMITS), { code: 'CORRUPT_IMAGE' });
});

test('a HEIC photo yields its faces through FaceAnalyzer, at the JPEG\'s boxes, upright or EXIF-turned', { skip, timeout: 120_000 }, async () => {
  const analyzer = await FaceAnalyzer.create({ stages: ['detect'] });
  try {
    const jpeg = await analyzer.analyze(await readFile(dataPath(PHOTO)));
    assert.equal(jpeg.faces.length, 1);
    for (const heic of [heicUpright, heicExif6]) {
      const a = await analyzer.analyze(heic);
      assert.equal(a.format, 'heic');
      assert.equal(a.faces.length, 1);
      for (let k = 0; k < 4; k++) assert.ok(Math.abs(a.faces[0]!.box[k]! - jpeg.faces[0]!.box[k]!) < 6, `box ${a.faces[0]!.box} vs ${jpeg.faces[0]!.box}`);
    }
  } finally {
    await analyzer.close();
  }
});

test('truncated AVIFs are TRUNCATED_IMAGE whatever the concurrency (1 and 8 decodes in flight)', { skip: missingData(PHOTO), timeout: 120_000 }, async () => {
  const avifBytes = avif ?? (await sharp(await readFile(dataPath(PHOTO))).avif({ quality: 50 }).toBuffer());
  const cuts = [0.3, 0.5, 0.7, 0.9, 0.95, 0.99].map((f) => avifBytes.subarray(0, Math.floor(avifBytes.length * f)));
  const code = (bytes: Uint8Array) => decodeImage(bytes, LIMITS).then(() => 'ok', (err: { code?: string }) => err.code ?? 'untyped');
  const sequential: string[] = [];
  for (const cut of cuts) sequential.push(await code(cut));
  assert.deepEqual(sequential, cuts.map(() => 'TRUNCATED_IMAGE'));
  for (let round = 0; round < 3; round++) {
    const parallel = await Promise.all([...cuts, ...cuts, avifBytes].map(code));
    assert.deepEqual(parallel, [...cuts.map(() => 'TRUNCATED_IMAGE'), ...cuts.map(() => 'TRUNCATED_IMAGE'), 'ok'], `round ${round}`);
  }
});
