/**
 * The NOT_A_FACE animal check on real photos: a cat, a dog and a squirrel that the SSD takes for
 * faces are set aside with what they look like; with the check off they are kept (so the check is
 * what does it); real faces of the shared data are kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import sharp from 'sharp';
import { FaceAnalyzer } from '@facepipe/vision';
import { animalPhotosDir, dataPath, missingAnimalPhotos, missingData } from '../helpers/data.js';

/** Animal photos the SSD finds a "face" in (score ≥ 0.4), and the other animal photos (none found). */
const TAKEN_FOR_FACES = ['chelsea.png', 'dogs.jpg', 'squirrel_cls.jpg'];
const OTHER_ANIMALS = ['baboon.jpg', 'HappyFish.jpg', 'butterfly.jpg'];
/** A portrait whose copy turned 90° the animal check took for a dog before its crops were turned upright. */
const SIDEWAYS = 'recognition/lfw_dev/lfw-deepfunneled/Betsy_Coffin/Betsy_Coffin_0001.jpg';
const PEOPLE = [
  'recognition/face_recognition_examples/knn_test/obama1.jpg',
  'hard_cases/scikit-image/astronaut.png',
  'hard_cases/compreface_formats/einstein.jpeg',
  'detection/dlib_pascal_training/2008_001322.jpg',
];

const skip = missingAnimalPhotos(...TAKEN_FOR_FACES, ...OTHER_ANIMALS) || missingData(...PEOPLE, SIDEWAYS);

test('animals the detector takes for faces are set aside as NOT_A_FACE with looksLike; people are kept', { skip }, async () => {
  const on = await FaceAnalyzer.create({ stages: ['detect'] });
  const off = await FaceAnalyzer.create({ stages: ['detect'], screen: { animals: false } });
  try {
    for (const name of [...TAKEN_FOR_FACES, ...OTHER_ANIMALS]) {
      const bytes = await readFile(resolve(animalPhotosDir, name));
      const a = await on.analyze(bytes);
      assert.equal(a.faces.length, 0, `${name}: no face (${JSON.stringify(a.faces.map((f) => f.box))})`);
      if (!TAKEN_FOR_FACES.includes(name)) continue;
      const animals = a.rejected.filter((r) => r.reason === 'NOT_A_FACE' && r.looksLike);
      assert.equal(animals.length, 1, `${name}: ${JSON.stringify(a.rejected)}`);
      assert.ok(['cat', 'dog', 'bird', 'teddy bear'].includes(animals[0]!.looksLike!), `${name} looks like ${animals[0]!.looksLike}`);
      assert.equal(a.checks.animalChecked, 1);
      assert.ok(a.timings.screenMs !== undefined && a.timings.screenMs > 0, 'the check has its own timing');
      const without = await off.analyze(bytes);
      assert.equal(without.faces.length, 1, `${name}: with the check off the detection is kept`);
      assert.equal(without.timings.screenMs, undefined);
    }
    for (const photo of PEOPLE) {
      const a = await on.analyze(await readFile(dataPath(photo)));
      assert.ok(a.faces.length >= 1, photo);
      assert.deepEqual(a.rejected.filter((r) => r.looksLike), [], `${photo}: no person is taken for an animal`);
      assert.equal(a.checks.animalChecked, a.faces.length);
    }
    // A person lying on their side reads as an animal to COCO's detector: the crop is turned upright first.
    for (const degrees of [90, 270]) {
      const turned = await sharp(await readFile(dataPath(SIDEWAYS))).rotate(degrees).png().toBuffer();
      const a = await on.analyze(turned);
      assert.equal(a.faces.length, 1, `${SIDEWAYS} turned ${degrees}°: ${JSON.stringify(a.rejected)}`);
      assert.deepEqual(a.rejected.filter((r) => r.looksLike), []);
    }
    assert.notEqual(on.detectVersion.tag, off.detectVersion.tag, 'the check is part of the detect version');
    assert.match(on.detectVersion.screenModel ?? '', /^object_centernet@human-3\.3\.6\+/);
  } finally {
    await Promise.all([on.close(), off.close()]);
  }
});
