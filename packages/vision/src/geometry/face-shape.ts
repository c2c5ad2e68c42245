/**
 * How well 68 landmarks look like a human face: the Procrustes fit of dlib's mean face shape
 * (points 17..67) to them, the face's roll from that fit, and a rough yaw/pitch from where the
 * nose tip sits between the eyes and the mouth.
 */
import type { Point } from './box.js';
import { DLIB_MEAN_FACE_X, DLIB_MEAN_FACE_Y } from './face-chip.js';
import type { QuarterTurns } from './quarter-turn.js';
import { applyAffine, estimateSimilarity, similarityParams } from './similarity.js';

/** dlib's mean face shape, landmarks 17..67 (eyebrows, nose, eyes, mouth), in a unit square. */
export const MEAN_FACE_SHAPE: readonly Point[] = DLIB_MEAN_FACE_X.map((x, i) => [x, DLIB_MEAN_FACE_Y[i]!]);

/** The fit of the mean face shape to a face's landmarks. */
export interface ShapeFit {
  /**
   * RMS distance between the landmarks 17..67 and the fitted mean shape, divided by the RMS
   * distance of those landmarks from their centroid: 0 for an exact (rotated, scaled) copy of the
   * mean face, about 1 for points with no face structure at all.
   */
  residual: number;
  /**
   * Roll of the face in the image, radians in (−π, π]: the rotation of the fit. Image coordinates
   * (y down), so a positive angle is a face turned clockwise as one looks at the photo.
   */
  roll: number;
}

function checkLandmarks(landmarks68: readonly Point[]): void {
  if (landmarks68.length !== 68) throw new RangeError(`a face shape needs 68 landmarks, got ${landmarks68.length}`);
}

/** The least-squares similarity fit of {@link MEAN_FACE_SHAPE} to landmarks 17..67. */
export function fitFaceShape(landmarks68: readonly Point[]): ShapeFit {
  checkLandmarks(landmarks68);
  const points = landmarks68.slice(17);
  const m = estimateSimilarity(MEAN_FACE_SHAPE, points);
  let cx = 0, cy = 0;
  for (const [x, y] of points) {
    cx += x;
    cy += y;
  }
  cx /= points.length;
  cy /= points.length;
  let err = 0, spread = 0;
  points.forEach((p, i) => {
    const [fx, fy] = applyAffine(m, MEAN_FACE_SHAPE[i]!);
    err += (fx - p[0]) ** 2 + (fy - p[1]) ** 2;
    spread += (p[0] - cx) ** 2 + (p[1] - cy) ** 2;
  });
  return { residual: spread === 0 ? 1 : Math.sqrt(err / spread), roll: similarityParams(m).angle };
}

/** The nearest quarter turn of a roll angle: how far the face is turned clockwise from upright. */
export function rollQuarter(roll: number): QuarterTurns {
  return ((((Math.round(roll / (Math.PI / 2)) % 4) + 4) % 4) as QuarterTurns);
}

/**
 * Nose depth used by {@link estimatePose}, as fractions of the outer-eye-corner distance (yaw) and
 * of the eye-to-mouth distance (pitch): the nose tip stands about 0.4 inter-ocular distances and
 * half an eye-to-mouth distance in front of the eyes (adult anthropometric averages).
 */
export const NOSE_DEPTH = { ofEyeDistance: 0.4, ofEyeToMouth: 0.5 } as const;

const mid = (a: Point, b: Point): Point => [(a[0] + b[0]) / 2, (a[1] + b[1]) / 2];

/** Where the nose tip (30) sits between eye centre and mouth centre in the mean face, as a fraction. */
const MEAN_NOSE_FRACTION = (() => {
  const y = (i: number) => DLIB_MEAN_FACE_Y[i - 17]!;
  const eyes = (y(36) + y(45)) / 2;
  const mouth = (y(48) + y(54)) / 2;
  return (y(30) - eyes) / (mouth - eyes);
})();

/**
 * A rough head pose from the 68 points, in degrees, by a weak-perspective model: the nose tip
 * (point 30) stands {@link NOSE_DEPTH} in front of the eye plane, so turning the head by θ moves it
 * by depth · sin θ while the distances in the face plane shrink by cos θ.
 * - yaw: the nose tip's offset from the outer eye corners' midpoint (36, 45) along the eye line,
 *   over 0.4 × their distance → atan; positive when the nose points to the right of the image
 *   (in a face rotated upright).
 * - pitch: the nose tip's position between the eye line and the mouth corners' midpoint (48, 54),
 *   against the mean face's, over 0.5 × the eye-to-mouth distance → atan; positive when the face
 *   looks down (the nose tip towards the mouth).
 */
export function estimatePose(landmarks68: readonly Point[]): { yaw: number; pitch: number } {
  checkLandmarks(landmarks68);
  const p = (i: number) => landmarks68[i]!;
  const eyes = mid(p(36), p(45));
  const mouth = mid(p(48), p(54));
  const ex = p(45)[0] - p(36)[0], ey = p(45)[1] - p(36)[1];
  const eyeDistance = Math.hypot(ex, ey);
  const vx = mouth[0] - eyes[0], vy = mouth[1] - eyes[1];
  const eyeToMouth = Math.hypot(vx, vy);
  if (eyeDistance === 0 || eyeToMouth === 0) return { yaw: 90, pitch: 90 };
  const nx = p(30)[0] - eyes[0], ny = p(30)[1] - eyes[1];
  // Offsets along the eye line and along the eye→mouth axis.
  const along = (nx * ex + ny * ey) / eyeDistance;
  const down = (nx * vx + ny * vy) / eyeToMouth;
  const deg = (r: number) => (r * 180) / Math.PI;
  const yaw = deg(Math.atan(along / (NOSE_DEPTH.ofEyeDistance * eyeDistance)));
  const pitch = deg(Math.atan((down / eyeToMouth - MEAN_NOSE_FRACTION) / NOSE_DEPTH.ofEyeToMouth));
  return { yaw, pitch };
}

/**
 * The iBUG 68-point index of each point's mirror image (left and right swapped): jaw 0↔16,
 * eyebrows 17↔26, nostrils 31↔35, eye corners 36↔45 and 39↔42, mouth corners 48↔54, …; points on
 * the middle line (27..30, 33, 51, 57, 62, 66) map to themselves.
 */
export const IBUG_MIRROR: readonly number[] = [
  16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
  26, 25, 24, 23, 22, 21, 20, 19, 18, 17,
  27, 28, 29, 30, 35, 34, 33, 32, 31,
  45, 44, 43, 42, 47, 46, 39, 38, 37, 36, 41, 40,
  54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55,
  64, 63, 62, 61, 60, 67, 66, 65,
];

/**
 * How far a face's landmarks and those found in its mirrored crop disagree: the mirrored crop's
 * points (already mapped back to image pixels, still in mirrored order) are re-ordered with
 * {@link IBUG_MIRROR}, then the mean distance over the 68 points is divided by the geometric mean
 * of the box's sides. 0 when the landmark net answers the mirror image with the mirrored face.
 */
export function mirrorDisagreement(landmarks68: readonly Point[], mirroredCropPoints68: readonly Point[], box: readonly [number, number, number, number]): number {
  checkLandmarks(landmarks68);
  checkLandmarks(mirroredCropPoints68);
  let sum = 0;
  for (let i = 0; i < 68; i++) {
    const [x, y] = landmarks68[i]!;
    const [mx, my] = mirroredCropPoints68[IBUG_MIRROR[i]!]!;
    sum += Math.hypot(x - mx, y - my);
  }
  return sum / 68 / Math.sqrt(Math.max(box[2] * box[3], 1e-9));
}
