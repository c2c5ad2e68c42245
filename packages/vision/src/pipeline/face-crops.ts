import type { Point } from '@facepipe/core/light';
import { fitFaceShape, LANDMARK_REFINE_SCALE, landmarkRefineBox, letterboxToImage, rollQuarter, turnSquareNhwc, unturnPoint, type Box, type QuarterTurns } from '../geometry/index.js';
import { cropAndResize, type LetterboxedInput, type RgbImage } from '../image/index.js';
import type { InferencePool } from '../models/index.js';

/** The landmark net's input side. */
export const LANDMARK_INPUT = 112;

/** The quarter turns that bring a face turned `turns` clockwise back upright. */
export const undoTurns = (turns: QuarterTurns): QuarterTurns => ((4 - turns) % 4) as QuarterTurns;

/**
 * `cropAndResize(img, box, size)` written into `batch` at `offset`, then turned upright for a face
 * turned `turns` clockwise quarter turns in the image. Null when the clipped box is empty.
 */
export function uprightCropInto(img: RgbImage, box: Box, size: number, batch: Float32Array, offset: number, turns: QuarterTurns = 0): LetterboxedInput | null {
  const crop = cropAndResize(img, box, size, { out: batch, outOffset: offset });
  if (crop && turns !== 0) batch.set(turnSquareNhwc(batch, size, undoTurns(turns), offset), offset);
  return crop;
}

/**
 * 68 landmarks of each box in image pixels, all boxes in one landmark-net run. Each crop is turned
 * upright (`turns[i]`: the face's clockwise quarter turns in the image) and, with `mirrored`,
 * mirrored left-right — then the points come back in the mirrored crop's own order (compare with
 * `mirrorDisagreement`). An empty box gives [].
 */
export async function cropLandmarks(
  pool: InferencePool,
  img: RgbImage,
  boxes: readonly Box[],
  turns: readonly QuarterTurns[] = [],
  mirrored = false,
): Promise<Point[][]> {
  if (boxes.length === 0) return [];
  const per = LANDMARK_INPUT * LANDMARK_INPUT * 3;
  const batch = new Float32Array(per * boxes.length);
  const geometries = boxes.map((box, i) => {
    const crop = uprightCropInto(img, box, LANDMARK_INPUT, batch, i * per, turns[i] ?? 0);
    if (crop && mirrored) mirrorRowsInPlace(batch, i * per, LANDMARK_INPUT);
    return crop?.geometry;
  });
  const out = await pool.run('face_landmark_68', batch, boxes.length, LANDMARK_INPUT, LANDMARK_INPUT);
  const raw = out.landmarks!.data;
  return geometries.map((g, i) => {
    if (!g) return [];
    const undo = undoTurns(turns[i] ?? 0);
    const points: Point[] = [];
    for (let p = 0; p < 68; p++) {
      // A point at x in the mirrored crop is at size − x in the upright crop; then turned back.
      const x = raw[i * 136 + p * 2]! * LANDMARK_INPUT;
      const [cx, cy] = unturnPoint(mirrored ? LANDMARK_INPUT - x : x, raw[i * 136 + p * 2 + 1]! * LANDMARK_INPUT, LANDMARK_INPUT, undo);
      const [px, py] = letterboxToImage(g, [cx, cy]);
      points.push([px, py]);
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

/**
 * The second landmark pass: each face's 68 points again, from a crop centred on its first points
 * ({@link landmarkRefineBox}) and turned the way those points say the face is turned. All faces in
 * one landmark-net run. A face whose second answer is empty (its crop fell outside the image)
 * keeps its first points.
 */
export async function refineLandmarks(pool: InferencePool, img: RgbImage, landmarks: readonly (readonly Point[])[], scale = LANDMARK_REFINE_SCALE): Promise<Point[][]> {
  if (landmarks.length === 0) return [];
  const boxes = landmarks.map((points) => landmarkRefineBox(points, scale));
  const turns = landmarks.map((points) => rollQuarter(fitFaceShape(points).roll));
  const second = await cropLandmarks(pool, img, boxes, turns);
  return second.map((points, i) => (points.length === 68 ? points : [...landmarks[i]!]));
}
