import type { Point } from '@facepipe/core/light';
import { letterboxToImage, turnSquareNhwc, unturnPoint, type Box, type QuarterTurns } from '../geometry/index.js';
import { cropAndResize, type RgbImage } from '../image/index.js';
import type { InferencePool } from '../models/index.js';

const LANDMARK_INPUT = 112;

/**
 * NOT_A_FACE screening: the 68-point net answers a real face's mirror image with the mirrored
 * face; a detection where the mirrored crop's answer lands far from the crop's own is not a face
 * the net can read. Calibrated on the human side only: the threshold sits above every real face
 * of the shared data (docs/accuracy.md). It is NOT calibrated on animals and does not reject the
 * two real animal photos measured (a cat and a dog, both under the threshold), nor crops of the
 * negatives' textures: it catches gross disagreement only.
 */
export interface FaceScreenOptions {
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
}

export type ResolvedFaceScreen = Required<FaceScreenOptions>;

export function resolveFaceScreen(o: FaceScreenOptions = {}): ResolvedFaceScreen {
  return { maxMirrorDisagreement: o.maxMirrorDisagreement ?? 0.35, maxResidual: o.maxResidual ?? 0.2 };
}

/** Short form for the detect version. */
export function faceScreenTag(o: ResolvedFaceScreen): string {
  return `notface(mirror>${o.maxMirrorDisagreement};r<=${o.maxResidual})`;
}

/** Whether a detection is set aside as NOT_A_FACE, from its mirror disagreement. */
export function isNotAFace(disagreement: number, o: ResolvedFaceScreen): boolean {
  return disagreement > o.maxMirrorDisagreement;
}

/**
 * 68 landmarks of each box's crop, turned upright (`turns[i]`: the face's clockwise quarter turns
 * in the image) and mirrored left-right, mapped back to image pixels (in the mirrored crop's own
 * point order: compare with `mirrorDisagreement`). All boxes in one landmark-net run; crops
 * as `FaceDetector.landmarks` makes them. An empty box gives [].
 */
export async function mirroredCropLandmarks(pool: InferencePool, img: RgbImage, boxes: readonly Box[], turns: readonly QuarterTurns[] = []): Promise<Point[][]> {
  if (boxes.length === 0) return [];
  const per = LANDMARK_INPUT * LANDMARK_INPUT * 3;
  const batch = new Float32Array(per * boxes.length);
  const undo = boxes.map((_, i) => ((4 - (turns[i] ?? 0)) % 4) as QuarterTurns);
  const geometries = boxes.map((box, i) => {
    const crop = cropAndResize(img, box, LANDMARK_INPUT, { out: batch, outOffset: i * per });
    if (crop && undo[i] !== 0) batch.set(turnSquareNhwc(batch, LANDMARK_INPUT, undo[i]!, i * per), i * per);
    if (crop) mirrorRowsInPlace(batch, i * per, LANDMARK_INPUT);
    return crop?.geometry;
  });
  const out = await pool.run('face_landmark_68', batch, boxes.length, LANDMARK_INPUT, LANDMARK_INPUT);
  const raw = out.landmarks!.data;
  return geometries.map((g, i) => {
    if (!g) return [];
    const points: Point[] = [];
    for (let p = 0; p < 68; p++) {
      // A point at x in the mirrored crop is at size − x in the upright crop, then turned back.
      const [cx, cy] = unturnPoint(LANDMARK_INPUT - raw[i * 136 + p * 2]! * LANDMARK_INPUT, raw[i * 136 + p * 2 + 1]! * LANDMARK_INPUT, LANDMARK_INPUT, undo[i]!);
      const [x, y] = letterboxToImage(g, [cx, cy]);
      points.push([x, y]);
    }
    return points;
  });
}

/** Mirrors a size×size×3 NHWC image at `offset` left-right, in place. */
export function mirrorRowsInPlace(data: Float32Array, offset: number, size: number): void {
  for (let r = 0; r < size; r++) {
    const row = offset + r * size * 3;
    for (let a = 0, b = size - 1; a < b; a++, b--) {
      for (let c = 0; c < 3; c++) {
        const t = data[row + a * 3 + c]!;
        data[row + a * 3 + c] = data[row + b * 3 + c]!;
        data[row + b * 3 + c] = t;
      }
    }
  }
}
