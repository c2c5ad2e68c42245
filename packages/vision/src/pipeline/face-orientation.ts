import { fitFaceShape, type Box, type Point, type QuarterTurns, type ShapeFit } from '../geometry/index.js';

/**
 * The landmark-orientation check: a face the SSD found in a sideways photo's upright pass gets its
 * landmarks from an unturned crop, which the 68-point net (trained on upright faces) answers with
 * a shape that fits a face badly. Cheap evidence (no model run) says when to look again; then the
 * landmark net runs on the crop upright and turned by 90° and 270°, and the best-fitting shape wins. Thresholds
 * measured on LFW dev, upright and turned (docs/accuracy.md, `bench/face-orientation.ts`).
 */
export interface OrientationCheckOptions {
  /**
   * Look again at a face whose landmarks fit the mean face with a residual
   * ({@link fitFaceShape}) above this. Upright LFW faces: median 0.094, 99th percentile 0.21.
   * @defaultValue 0.2
   */
  maxResidual?: number;
  /**
   * Look again at a face whose box is wider than tall by more than this (width / height): the
   * SSD's boxes of upright faces are taller than wide (LFW: median 0.78, 99th percentile 0.92).
   * @defaultValue 1
   */
  maxAspect?: number;
  /** Look again at a face whose fitted roll is further than this from upright, in radians. @defaultValue 0.3 */
  maxRoll?: number;
  /**
   * Landmarks of a crop turned by 90° or 270° are taken only for a box at least this wide for its
   * height, and those of an upright or upside-down crop only for a box at least this tall for its
   * width: a profile found upright (a tall box) sometimes fits a turned crop's hallucinated shape
   * better than its own.
   * @defaultValue 0.75
   */
  minTurnedAspect?: number;
}

export type ResolvedOrientationCheck = Required<OrientationCheckOptions>;

export function resolveOrientationCheck(o: OrientationCheckOptions = {}): ResolvedOrientationCheck {
  return { maxResidual: o.maxResidual ?? 0.2, maxAspect: o.maxAspect ?? 1, maxRoll: o.maxRoll ?? 0.3, minTurnedAspect: o.minTurnedAspect ?? 0.75 };
}

/** Short form for the detect version: results of other thresholds are stale. */
export function orientationCheckTag(o: ResolvedOrientationCheck): string {
  return `orient(r>${o.maxResidual},a>${o.maxAspect},roll>${o.maxRoll};${o.minTurnedAspect})`;
}

/** Whether a face's landmarks deserve another look: a poor fit, a box wider than tall, or a tilted fit. */
export function needsOrientationCheck(box: Box, fit: ShapeFit, o: ResolvedOrientationCheck): boolean {
  return fit.residual > o.maxResidual || box[2] > o.maxAspect * box[3] || Math.abs(fit.roll) > o.maxRoll;
}

/**
 * Of landmark sets for the same box from crops turned by `turns`, the best-fitting one that the
 * box's shape allows (see {@link OrientationCheckOptions.minTurnedAspect}); -1 when none is allowed.
 */
export function chooseOrientation(box: Box, candidates: readonly { turns: QuarterTurns; fit: ShapeFit }[], o: ResolvedOrientationCheck): number {
  let best = -1;
  candidates.forEach((c, i) => {
    const allowed = c.turns % 2 === 1 ? box[2] >= o.minTurnedAspect * box[3] : box[3] >= o.minTurnedAspect * box[2];
    if (allowed && (best < 0 || c.fit.residual < candidates[best]!.fit.residual)) best = i;
  });
  return best;
}

/**
 * The crops tried: upright and both quarter turns. Not upside down: a sideways face is never
 * upside down in its photo, and an upright profile's upside-down crop can fit the mean face better
 * than its own (the 180° pass, run only when nothing else finds a face, covers upside-down photos).
 */
const TRIED_TURNS: readonly QuarterTurns[] = [0, 1, 3];
/**
 * How much better another turn must fit to replace the landmarks: the crop at the face's own turn
 * is among the candidates and gives the same shape up to the box's rounding (about 1e-4).
 */
const MIN_GAIN = 0.005;

/** What the check did on one image. */
export interface OrientationCheckResult {
  /** The landmarks per face (the given array where kept), replaced where another turn fitted better. */
  landmarks: (readonly Point[])[];
  /** Faces looked at again (3 crops each, in one landmark-net run for the whole image). */
  checked: number;
  /** Faces whose landmarks were replaced. */
  changed: number;
  /** Extra landmark-net runs (0 or 1). */
  runs: number;
}

/**
 * The check over one image's faces. `runLandmarks(boxes, turns)` runs the landmark net on each
 * box's crop turned upright from `turns` clockwise quarter turns, points mapped back to the image
 * (`FaceDetector.landmarks`). A face keeps its landmarks unless another turn fits better by more than rounding.
 */
export async function checkOrientation(
  faces: readonly { box: Box; landmarks: readonly Point[] }[],
  runLandmarks: (boxes: Box[], turns: QuarterTurns[]) => Promise<(readonly Point[])[]>,
  o: ResolvedOrientationCheck,
): Promise<OrientationCheckResult> {
  const landmarks: (readonly Point[])[] = faces.map((f) => f.landmarks);
  const fits = faces.map((f) => fitFaceShape(f.landmarks));
  const look = faces.map((f, i) => i).filter((i) => needsOrientationCheck(faces[i]!.box, fits[i]!, o));
  if (look.length === 0) return { landmarks, checked: 0, changed: 0, runs: 0 };
  const boxes = look.flatMap((i) => TRIED_TURNS.map(() => faces[i]!.box));
  const turns = look.flatMap(() => TRIED_TURNS);
  const points = await runLandmarks(boxes, turns);
  let changed = 0;
  look.forEach((faceIndex, k) => {
    const box = faces[faceIndex]!.box;
    const candidates = TRIED_TURNS.map((t, j) => ({ turns: t, points: points[k * TRIED_TURNS.length + j]! }))
      .filter((c) => c.points.length === 68)
      .map((c) => ({ ...c, fit: fitFaceShape(c.points) }));
    const best = chooseOrientation(box, candidates, o);
    if (best >= 0 && candidates[best]!.fit.residual < fits[faceIndex]!.residual - MIN_GAIN) {
      landmarks[faceIndex] = candidates[best]!.points;
      changed++;
    }
  });
  return { landmarks, checked: look.length, changed, runs: 1 };
}
