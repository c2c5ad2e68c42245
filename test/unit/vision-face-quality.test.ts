import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  animalCropBox, checkOrientation, chooseOrientation, estimatePose, faceChecksTag, fitFaceShape, IBUG_MIRROR, isAnimalFace, isNotAFace, laplacianVariance,
  MEAN_FACE_SHAPE, mirrorDisagreement, mirrorRowsInPlace, needsOrientationCheck, NON_HUMAN_FACE_CLASSES, OBJECT_CLASS_COUNT, resolveFaceScreen,
  resolveOrientationCheck, rollQuarter, speciesScores, type Point,
} from '@facepipe/vision';

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

test('needsOrientationCheck: a good upright fit in a tall box needs no look; a poor fit, a wide box or a tilt does', () => {
  const o = resolveOrientationCheck();
  assert.deepEqual(o, { maxResidual: 0.2, maxAspect: 1, maxRoll: 0.3, minTurnedAspect: 0.75 });
  assert.equal(needsOrientationCheck([0, 0, 80, 100], { residual: 0.1, roll: 0.05 }, o), false);
  assert.equal(needsOrientationCheck([0, 0, 80, 100], { residual: 0.25, roll: 0.05 }, o), true);
  assert.equal(needsOrientationCheck([0, 0, 101, 100], { residual: 0.1, roll: 0.05 }, o), true);
  assert.equal(needsOrientationCheck([0, 0, 100, 100], { residual: 0.1, roll: 0.05 }, o), false); // w = 1 × h: not wider
  assert.equal(needsOrientationCheck([0, 0, 80, 100], { residual: 0.1, roll: -0.31 }, o), true);
});

test('chooseOrientation: the best fit the box allows; a quarter turn needs a box at least 3/4 as wide as tall', () => {
  const o = resolveOrientationCheck();
  const c = [
    { turns: 0 as const, fit: { residual: 0.5, roll: 0 } },
    { turns: 1 as const, fit: { residual: 0.1, roll: Math.PI / 2 } },
    { turns: 3 as const, fit: { residual: 0.3, roll: -Math.PI / 2 } },
  ];
  assert.equal(chooseOrientation([0, 0, 120, 100], c, o), 1);
  // 74 wide, 100 tall: too narrow for a sideways face; only the upright crop is allowed.
  assert.equal(chooseOrientation([0, 0, 74, 100], c, o), 0);
  // 100 wide, 74 tall: too flat for an upright face; the quarter turns compete.
  assert.equal(chooseOrientation([0, 0, 100, 74], [c[0]!, c[2]!], o), 1);
  assert.equal(chooseOrientation([0, 0, 74, 100], [c[1]!, c[2]!], o), -1);
});

test('checkOrientation: runs the landmark net once for the faces that need it, keeps the others, replaces a worse fit', async () => {
  const o = resolveOrientationCheck();
  const good = face(([x, y]) => [100 * x, 100 * y]);
  // A face whose landmarks came out as the mean face squashed flat (a poor fit), in a wide box.
  const squashed = face(([x, y]) => [100 * x, 20 * y * y]);
  // The turned crop answers with the mean face turned clockwise by 90° (a perfect fit).
  const sideways = face(([x, y]) => [-100 * y + 300, 100 * x]);
  const calls: { boxes: number; turns: number[] }[] = [];
  const r = await checkOrientation(
    [{ box: [0, 0, 80, 100], landmarks: good }, { box: [200, 0, 120, 100], landmarks: squashed }],
    (boxes, turns) => {
      calls.push({ boxes: boxes.length, turns });
      return Promise.resolve(turns.map((t) => (t === 1 ? sideways : squashed)));
    },
    o,
  );
  assert.deepEqual(calls, [{ boxes: 3, turns: [0, 1, 3] }], 'one run: the second face at 0°, 90°, 270°');
  assert.equal(r.landmarks[0], good, 'the well-fitting face is not touched');
  assert.equal(r.landmarks[1], sideways);
  assert.deepEqual([r.checked, r.changed, r.runs], [1, 1, 1]);
  const none = await checkOrientation([{ box: [0, 0, 80, 100], landmarks: good }], () => assert.fail('no run for a good face'), o);
  assert.deepEqual([none.checked, none.changed, none.runs], [0, 0, 0]);
});

test('mirrorDisagreement: 0 when the mirrored crop gives the mirrored face; IBUG_MIRROR is an involution', () => {
  assert.equal(IBUG_MIRROR.length, 68);
  IBUG_MIRROR.forEach((j, i) => assert.equal(IBUG_MIRROR[j], i));
  assert.deepEqual([IBUG_MIRROR[0], IBUG_MIRROR[36], IBUG_MIRROR[39], IBUG_MIRROR[48], IBUG_MIRROR[30], IBUG_MIRROR[62]], [16, 45, 42, 54, 30, 62]);
  const pts: Point[] = Array.from({ length: 68 }, (_, i) => [i, 2 * i]);
  // What the net would give on the mirrored crop, mapped back: the same face in mirrored order.
  const mirrored: Point[] = IBUG_MIRROR.map((j) => pts[j]!);
  assert.equal(mirrorDisagreement(pts, mirrored, [0, 0, 10, 40]), 0);
  // Every point 3 px off, 4 px the other way: 5 px mean over a box of geometric-mean side 20.
  const off: Point[] = mirrored.map(([x, y]) => [x + 3, y + 4]);
  close(mirrorDisagreement(pts, off, [0, 0, 10, 40]), 5 / 20, 1e-12);
  const s = resolveFaceScreen();
  assert.deepEqual(s, { mirror: false, maxMirrorDisagreement: 0.35, maxResidual: 0.2, animals: { inputSize: 192, cropScale: 2, minScore: 0.25, minMargin: 0.1 } });
  assert.equal(isNotAFace(0.35, s), false);
  assert.equal(isNotAFace(0.36, s), true);
});

test('mirrorRowsInPlace mirrors each row of a square NHWC image at an offset', () => {
  // 2 × 2 RGB at offset 1: rows [a b] [c d] → [b a] [d c].
  const data = new Float32Array([9, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]);
  mirrorRowsInPlace(data, 1, 2);
  assert.deepEqual([...data], [9, 2, 2, 2, 1, 1, 1, 4, 4, 4, 3, 3, 3]);
});

test('the detect version names the checks: their thresholds change the tag, turning them off removes them', () => {
  assert.equal(faceChecksTag({}), 'orient(r>0.2,a>1,roll>0.3;0.75)+notface(animal(x2@192>=0.25,+0.1))');
  assert.equal(faceChecksTag({ orientationCheck: false }), 'notface(animal(x2@192>=0.25,+0.1))');
  assert.equal(faceChecksTag({ orientationCheck: false, screen: { mirror: true } }), 'notface(mirror>0.35;r<=0.2;animal(x2@192>=0.25,+0.1))');
  assert.equal(faceChecksTag({ orientationCheck: false, screen: { mirror: true, animals: false } }), 'notface(mirror>0.35;r<=0.2)');
  assert.equal(faceChecksTag({ orientationCheck: false, screen: { animals: false } }), '');
  assert.notEqual(faceChecksTag({ screen: { animals: { minScore: 0.3 } } }), faceChecksTag({}));
  assert.equal(faceChecksTag({ orientationCheck: false, screen: false }), '');
  assert.notEqual(faceChecksTag({ screen: { mirror: true, maxMirrorDisagreement: 0.5 } }), faceChecksTag({ screen: { mirror: true } }));
});

test('the animal check: an animal class must reach the minimum and beat person; the crop is a square around the box', () => {
  const row = (values: Record<number, number>): Float32Array => {
    const r = new Float32Array(OBJECT_CLASS_COUNT);
    for (const [i, v] of Object.entries(values)) r[Number(i)] = v;
    return r;
  };
  const cat = NON_HUMAN_FACE_CLASSES.cat!;
  const dog = NON_HUMAN_FACE_CLASSES.dog!;
  // The best animal class wins; a class that is neither person nor animal (27, a tie) is ignored.
  assert.deepEqual(speciesScores(row({ 0: 0.08, [cat]: 0.37, [dog]: 0.08, 27: 0.9 })), { person: Math.fround(0.08), animal: Math.fround(0.37), animalClass: 'cat' });
  // Rows of a batch are read at their offset.
  const two = new Float32Array(OBJECT_CLASS_COUNT * 2);
  two.set(row({ 0: 0.7 }), 0);
  two.set(row({ 0: 0.1, [dog]: 0.4 }), OBJECT_CLASS_COUNT);
  assert.equal(speciesScores(two, OBJECT_CLASS_COUNT).animalClass, 'dog');
  const a = resolveFaceScreen().animals;
  assert.ok(a);
  assert.equal(isAnimalFace({ person: 0.1, animal: 0.4, animalClass: 'dog' }, a), true);
  assert.equal(isAnimalFace({ person: 0.5, animal: 0.4, animalClass: 'dog' }, a), false, 'a person beside a dog stays');
  assert.equal(isAnimalFace({ person: 0.05, animal: 0.2, animalClass: 'dog' }, a), false, 'a weak animal score is not enough');
  assert.equal(isAnimalFace({ person: 0.22, animal: 0.3, animalClass: 'cow' }, a), false, 'nor a narrow lead over person');
  assert.deepEqual(animalCropBox([10, 20, 30, 40], 2), [-15, 0, 80, 80]);
  assert.throws(() => resolveFaceScreen({ animals: { inputSize: 100 } }), /multiple of 32/);
});
