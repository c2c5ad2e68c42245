import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapOrdered } from '../../packages/cli/dist/vision/ordered.js';
import { boundingBoxOfPoints, meanBox, parseBoxesCsv, parsePts, pickCentralFace, relativeBox } from '@facepipe/vision';
import { numberListFlag } from '../../packages/cli/dist/vision/settings.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('mapOrdered emits in input order, keeps at most `concurrency` calls in flight and bounds run-ahead', async () => {
  const delays = [30, 5, 20, 1, 1, 1, 25, 1, 1, 1];
  let inFlight = 0;
  let maxInFlight = 0;
  const started: number[] = [];
  const emitted: number[] = [];
  await mapOrdered(
    delays,
    async (ms, i) => {
      started.push(i);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      // Run-ahead bound: item i starts only once fewer than `window` results are pending before it.
      assert.ok(i < emitted.length + 4, `item ${i} started with ${emitted.length} emitted`);
      await sleep(ms);
      inFlight--;
      return i * 10;
    },
    (r, i) => {
      assert.equal(r, i * 10);
      emitted.push(i);
    },
    { concurrency: 2, window: 4 },
  );
  assert.deepEqual(emitted, delays.map((_, i) => i));
  assert.equal(maxInFlight, 2);
  assert.deepEqual([...started].sort((a, b) => a - b), emitted);
});

test('mapOrdered: a throw stops new work and is rethrown; empty input emits nothing', async () => {
  const seen: number[] = [];
  await assert.rejects(
    mapOrdered([1, 2, 3, 4, 5, 6], async (v) => {
      seen.push(v);
      if (v === 2) throw new Error('boom');
      await sleep(1);
      return v;
    }, () => {}, { concurrency: 2 }),
    /boom/,
  );
  assert.ok(seen.length < 6, `stopped early: ${seen}`);
  let emits = 0;
  await mapOrdered([], async () => 1, () => void emits++, { concurrency: 3 });
  assert.equal(emits, 0);
});

test('parsePts reads 68 "x y" lines, with or without the iBUG framing, 1-based by default', () => {
  const body = Array.from({ length: 68 }, (_, i) => `${i + 1}.5 ${2 * i + 1}`).join('\n');
  const plain = parsePts(body);
  assert.equal(plain.length, 68);
  assert.deepEqual(plain[0], [0.5, 0]);
  assert.deepEqual(plain[67], [67.5, 134]);
  assert.deepEqual(parsePts(body, { oneBased: false })[0], [1.5, 1]);
  const framed = parsePts(`version: 1\nn_points: 68\n{\n${body}\n}\n`);
  assert.deepEqual(framed, plain);
  assert.throws(() => parsePts('version: 1\nn_points: 3\n{\n1 2\n}'), /declares 3 points but has 1/);
  assert.throws(() => parsePts('1 2 3'), /not "x y"/);
  assert.deepEqual(boundingBoxOfPoints([[3, 4], [10, 2], [5, 9]]), [3, 2, 7, 7]);
});

test('parseBoxesCsv groups faces by file in order of appearance and resolves paths', () => {
  const images = parseBoxesCsv('file,left,top,width,height\na.jpg,1,2,30,40\nb.jpg,5,6,7,8\na.jpg,10,20,30,30\n', '/data');
  assert.deepEqual(images, [
    { file: '/data/a.jpg', boxes: [[1, 2, 30, 40], [10, 20, 30, 30]] },
    { file: '/data/b.jpg', boxes: [[5, 6, 7, 8]] },
  ]);
  assert.throws(() => parseBoxesCsv('file,x,y\n', '/'), /lacks "left"/);
  assert.throws(() => parseBoxesCsv('file,left,top,width,height\na.jpg,1,2,0,4\n', '/'), /line 2/);
});

test('pickCentralFace: largest box containing the centre, else nearest to it', () => {
  // 100×100 image, centre (50, 50).
  assert.equal(pickCentralFace([], 100, 100), -1);
  assert.equal(pickCentralFace([[0, 0, 20, 20], [40, 40, 20, 20], [30, 30, 40, 40]], 100, 100), 2);
  assert.equal(pickCentralFace([[0, 0, 20, 20], [60, 60, 10, 10]], 100, 100), 1);
  assert.deepEqual(relativeBox([25, 50, 50, 25], 100, 200), [0.25, 0.25, 0.5, 0.125]);
  assert.deepEqual(meanBox([[0, 0, 1, 1], [1, 1, 2, 2]], [9, 9, 9, 9]), [0.5, 0.5, 1.5, 1.5]);
  assert.deepEqual(meanBox([], [0.25, 0.25, 0.5, 0.5]), [0.25, 0.25, 0.5, 0.5]);
});

test('numberListFlag: sorted distinct values, range-checked', () => {
  assert.deepEqual(numberListFlag('min-score', '0.5,0.3,0.5', { min: 0.01, max: 0.99 }), [0.3, 0.5]);
  assert.throws(() => numberListFlag('min-score', '0.3,1.5', { min: 0.01, max: 0.99 }), /--min-score must be a number from 0.01 to 0.99/);
  assert.throws(() => numberListFlag('min-face-size', '2.5', { min: 0, max: 10, integer: true }), /an integer/);
});
