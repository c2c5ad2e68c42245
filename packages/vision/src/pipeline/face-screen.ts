import type { Point } from '@facepipe/core/light';
import type { Box, QuarterTurns } from '../geometry/index.js';
import type { RgbImage } from '../image/index.js';
import { NON_HUMAN_FACE_CLASSES, OBJECT_CLASS_COUNT, type InferencePool } from '../models/index.js';
import { cropLandmarks, uprightCropInto } from './face-crops.js';

/**
 * The animal check of NOT_A_FACE: the face's surroundings (a square `cropScale` times the box's
 * longer side, centred on it) go through a COCO object detector (MB3-CenterNet from
 * @vladmandic/human); when an animal class (or the teddy bear) reaches `minScore` and beats
 * "person" by `minMargin`, the detection is a pet's face, not a person's. Measured
 * (`bench/face-screen.ts`, docs/accuracy.md): the 443 real faces of the shared data score animal
 * at most 0.254 and animal − person at most 0.05; the cat, dog and squirrel detections animal
 * 0.31–0.54 and animal − person 0.19–0.44. Three animals are few: the margin sits in the middle
 * of that gap, not at a measured false-positive rate.
 */
export interface AnimalScreenOptions {
  /**
   * The object detector's input side for each crop (a multiple of 32).
   * @defaultValue 192
   */
  inputSize?: number;
  /**
   * Crop side over the face box's longer side: the head and some of the body around it.
   * @defaultValue 2
   */
  cropScale?: number;
  /**
   * Least animal score for NOT_A_FACE.
   * @defaultValue 0.25
   */
  minScore?: number;
  /**
   * Least lead of the animal score over the person score for NOT_A_FACE.
   * @defaultValue 0.1
   */
  minMargin?: number;
}

export type ResolvedAnimalScreen = Required<AnimalScreenOptions>;

/**
 * NOT_A_FACE screening, two checks:
 * - the animal check (on by default): see {@link AnimalScreenOptions};
 * - the mirror check (off by default): the 68-point net answers a real face's mirror image with
 *   the mirrored face; a detection where the mirrored crop's answer lands far from the crop's own
 *   is not a face the net can read. Calibrated on the human side only (the threshold sits above
 *   every real face of the shared data, docs/accuracy.md), it set nothing aside in any measured
 *   set — real faces, the animal photos, 252 crops of textures and objects — and costs one
 *   landmark-net run per photo with faces (2.7 ms of a 250 px portrait's 38 ms, 6 ms at 1 MP), so
 *   it is opt-in.
 */
export interface FaceScreenOptions {
  /**
   * The mirror check.
   * @defaultValue false
   */
  mirror?: boolean;
  /**
   * NOT_A_FACE above this `mirrorDisagreement` (mean distance between the landmarks and the
   * mirrored crop's, over the box's geometric-mean side). Real faces of the shared data: median
   * 0.026, 99th percentile 0.20, largest 0.31 (a profile in LFW).
   * @defaultValue 0.35
   */
  maxMirrorDisagreement?: number;
  /**
   * Only faces whose landmarks fit the mean face at most this badly (`fitFaceShape`'s residual)
   * are screened: for profiles and faces whose orientation is unknown the mirrored crop's answer
   * differs anyway (screening every face set aside three real faces of the LFW photos turned by
   * 270°), so the test says nothing there.
   * @defaultValue 0.2
   */
  maxResidual?: number;
  /**
   * The animal check (every kept face, whatever its landmarks); `false` turns it off.
   * @defaultValue on, with the settings of {@link AnimalScreenOptions}
   */
  animals?: AnimalScreenOptions | false;
}

export interface ResolvedFaceScreen {
  mirror: boolean;
  maxMirrorDisagreement: number;
  maxResidual: number;
  animals: ResolvedAnimalScreen | false;
}

export function resolveFaceScreen(o: FaceScreenOptions = {}): ResolvedFaceScreen {
  const animals =
    o.animals === false
      ? false
      : {
          inputSize: o.animals?.inputSize ?? 192,
          cropScale: o.animals?.cropScale ?? 2,
          minScore: o.animals?.minScore ?? 0.25,
          minMargin: o.animals?.minMargin ?? 0.1,
        };
  if (animals && (!Number.isInteger(animals.inputSize / 32) || animals.inputSize < 64)) {
    throw new RangeError(`animal check input size ${animals.inputSize} must be a multiple of 32, at least 64`);
  }
  return { mirror: o.mirror ?? false, maxMirrorDisagreement: o.maxMirrorDisagreement ?? 0.35, maxResidual: o.maxResidual ?? 0.2, animals };
}

/** Short form for the detect version; '' when both checks are off. */
export function faceScreenTag(o: ResolvedFaceScreen): string {
  const a = o.animals;
  const parts = [
    o.mirror ? `mirror>${o.maxMirrorDisagreement};r<=${o.maxResidual}` : '',
    a ? `animal(x${a.cropScale}@${a.inputSize}>=${a.minScore},+${a.minMargin})` : '',
  ].filter(Boolean);
  return parts.length > 0 ? `notface(${parts.join(';')})` : '';
}

/** What the object detector says a face's surroundings show: the person score and the best animal class. */
export interface SpeciesScores {
  person: number;
  animal: number;
  /** The best animal class's COCO name, e.g. `cat`. */
  animalClass: string;
}

/** Reads one crop's scores from the detector's `class_scores` row. */
export function speciesScores(classScores: ArrayLike<number>, offset = 0): SpeciesScores {
  let animal = 0;
  let animalClass = '';
  for (const [name, index] of Object.entries(NON_HUMAN_FACE_CLASSES)) {
    const v = classScores[offset + index]!;
    if (v > animal) [animal, animalClass] = [v, name];
  }
  return { person: classScores[offset]!, animal, animalClass };
}

/** Whether a detection is an animal's face: an animal class reaches the minimum and leads person by the margin. */
export function isAnimalFace(s: SpeciesScores, o: ResolvedAnimalScreen): boolean {
  return s.animal >= o.minScore && s.animal - s.person >= o.minMargin;
}

/** The square around a face box that the animal check looks at (image pixels, may reach outside). */
export function animalCropBox(box: Box, cropScale: number): Box {
  const side = Math.max(box[2], box[3]) * cropScale;
  return [box[0] + box[2] / 2 - side / 2, box[1] + box[3] / 2 - side / 2, side, side];
}

/**
 * Species scores of each face's surroundings, all crops in one object-detector run. The crop is
 * clipped to the photo and padded to a centred square, as the landmark crops are. COCO's people
 * stand: a person lying on their side in a sideways photo reads as a cat or a dog. So a face whose
 * landmarks say it is turned (`turns[i]`, clockwise quarter turns in the image) is also looked at
 * turned upright, and its scores are the person score of the better view and the animal score of
 * the more animal one — an animal's landmarks can say anything, so the upright view keeps its say.
 */
export async function speciesOfFaces(
  pool: InferencePool,
  img: RgbImage,
  boxes: readonly Box[],
  o: ResolvedAnimalScreen,
  turns: readonly QuarterTurns[] = [],
): Promise<SpeciesScores[]> {
  if (boxes.length === 0) return [];
  const size = o.inputSize;
  const per = size * size * 3;
  // One crop per face as it stands in the photo, plus one turned upright for each turned face.
  const views: { face: number; turns: QuarterTurns }[] = [];
  boxes.forEach((_, face) => {
    views.push({ face, turns: 0 });
    if ((turns[face] ?? 0) !== 0) views.push({ face, turns: turns[face]! });
  });
  const batch = new Float32Array(per * views.length);
  const cropped = views.map(({ face, turns }, v) => uprightCropInto(img, animalCropBox(boxes[face]!, o.cropScale), size, batch, v * per, turns) !== null);
  const out = await pool.run('object_centernet', batch, views.length, size, size);
  const scores = out.class_scores!.data;
  const result = boxes.map((): SpeciesScores => ({ person: 0, animal: 0, animalClass: '' }));
  views.forEach(({ face }, v) => {
    if (!cropped[v]) return;
    const s = speciesScores(scores, v * OBJECT_CLASS_COUNT);
    const r = result[face]!;
    r.person = Math.max(r.person, s.person);
    if (s.animal > r.animal) [r.animal, r.animalClass] = [s.animal, s.animalClass];
  });
  return result;
}

/** Whether a detection is set aside as NOT_A_FACE, from its mirror disagreement. */
export function isNotAFace(disagreement: number, o: ResolvedFaceScreen): boolean {
  return disagreement > o.maxMirrorDisagreement;
}

/**
 * 68 landmarks of each box's crop turned upright (`turns[i]`: the face's clockwise quarter turns in
 * the image) and mirrored left-right, in image pixels, in the mirrored crop's own point order:
 * compare with `mirrorDisagreement`. An empty box gives [].
 */
export function mirroredCropLandmarks(pool: InferencePool, img: RgbImage, boxes: readonly Box[], turns: readonly QuarterTurns[] = []): Promise<Point[][]> {
  return cropLandmarks(pool, img, boxes, turns, true);
}
