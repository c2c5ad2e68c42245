import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseTurnedPass, SSD_MIN_INPUT, wantsPaddedPass, wantsTilesPass, wantsTurnedPasses } from '@facepipe/vision';

// Each extra detector pass's trigger, as a unit: what the passes before found decides whether it runs.
const face = (w: number, h = w) => ({ box: [0, 0, w, h] as [number, number, number, number] });

test('padded runs for nothing found or only frame-filling faces, on an input large enough to halve', () => {
  const photo = { width: 400, height: 300 };
  assert.equal(wantsPaddedPass([], photo, 320, 0.7, SSD_MIN_INPUT), true);
  assert.equal(wantsPaddedPass([face(250)], photo, 320, 0.7, SSD_MIN_INPUT), true, '250 px of a 300 px shorter side fills the frame');
  assert.equal(wantsPaddedPass([face(250), face(60)], photo, 320, 0.7, SSD_MIN_INPUT), false, 'a smaller face means the scale was right');
  assert.equal(wantsPaddedPass([], photo, 2 * SSD_MIN_INPUT - 1, 0.7, SSD_MIN_INPUT), false, 'too small an input to halve');
});

test('tiles run only on photos shrunk 2× or more, when a face found is at the small end', () => {
  assert.equal(wantsTilesPass([face(60)], 0.25, 40), true, '60 photo px are 15 input px');
  assert.equal(wantsTilesPass([face(400)], 0.25, 40), false);
  assert.equal(wantsTilesPass([face(60)], 0.6, 40), false, 'not shrunk enough for tiles to see more');
  assert.equal(wantsTilesPass([], 0.25, 40), false, 'nothing small found');
});

test('turned passes only when nothing was found upright; the better of 90° and 270°, else 180°', () => {
  assert.equal(wantsTurnedPasses([]), true);
  assert.equal(wantsTurnedPasses([face(100)]), false);
  assert.equal(chooseTurnedPass(0.9, 0.4), 'quarter');
  assert.equal(chooseTurnedPass(0.4, 0.9), 'threeQuarters');
  assert.equal(chooseTurnedPass(0.5, 0.5), 'quarter');
  assert.equal(chooseTurnedPass(0, 0), 'half');
});
