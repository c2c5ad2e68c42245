/**
 * Detection and landmark evaluation maths: matching detections to ground truth (PASCAL VOC
 * style, IoU ≥ 0.5, greedy by score), recall/precision, and landmark error normalised by the
 * inter-ocular distance.
 */
import { iou, type Box, type Point } from '../geometry/box.js';

/** A detection to evaluate: a box in image pixels and its score. */
export interface ScoredBox {
  readonly box: Box;
  readonly score: number;
}

/** The outcome of matching one image's detections to its ground truth. */
export interface DetectionMatch {
  /** `[detectionIndex, groundTruthIndex, iou]` for each true positive. */
  readonly matches: readonly (readonly [number, number, number])[];
  readonly truePositives: number;
  /** Detections matched to no ground-truth box. */
  readonly falsePositives: number;
  /** Ground-truth boxes no detection matched. */
  readonly falseNegatives: number;
  /** TP / ground truth (NaN when there is none). */
  readonly recall: number;
  /** TP / detections (NaN when there are none). */
  readonly precision: number;
}

/**
 * Greedy matching: detections in order of decreasing score each take the still-unmatched
 * ground-truth box they overlap most, if that IoU is at least `iouThreshold`.
 */
export function matchDetections(detections: readonly ScoredBox[], groundTruth: readonly Box[], iouThreshold = 0.5): DetectionMatch {
  const order = detections.map((_, i) => i).sort((a, b) => detections[b]!.score - detections[a]!.score || a - b);
  const taken = new Array<boolean>(groundTruth.length).fill(false);
  const matches: [number, number, number][] = [];
  for (const d of order) {
    let bestGt = -1;
    let bestIou = iouThreshold;
    for (let g = 0; g < groundTruth.length; g++) {
      if (taken[g]) continue;
      const overlap = iou(detections[d]!.box, groundTruth[g]!);
      if (overlap >= bestIou && (bestGt < 0 || overlap > bestIou)) {
        bestGt = g;
        bestIou = overlap;
      }
    }
    if (bestGt >= 0) {
      taken[bestGt] = true;
      matches.push([d, bestGt, bestIou]);
    }
  }
  return summarise(matches, detections.length, groundTruth.length);
}

function summarise(matches: [number, number, number][], nDetections: number, nGroundTruth: number): DetectionMatch {
  const tp = matches.length;
  return {
    matches,
    truePositives: tp,
    falsePositives: nDetections - tp,
    falseNegatives: nGroundTruth - tp,
    recall: nGroundTruth > 0 ? tp / nGroundTruth : Number.NaN,
    precision: nDetections > 0 ? tp / nDetections : Number.NaN,
  };
}

/** Totals over several images: sums TP/FP/FN, then recall and precision from the sums. */
export function combineDetectionMatches(results: readonly DetectionMatch[]): Omit<DetectionMatch, 'matches'> {
  const tp = results.reduce((s, r) => s + r.truePositives, 0);
  const fp = results.reduce((s, r) => s + r.falsePositives, 0);
  const fn = results.reduce((s, r) => s + r.falseNegatives, 0);
  return {
    truePositives: tp,
    falsePositives: fp,
    falseNegatives: fn,
    recall: tp + fn > 0 ? tp / (tp + fn) : Number.NaN,
    precision: tp + fp > 0 ? tp / (tp + fp) : Number.NaN,
  };
}

/** iBUG 68-point indices (0-based) of the outer eye corners, the inter-ocular normaliser. */
export const OUTER_EYE_CORNERS = [36, 45] as const;

/**
 * Normalised mean error of one face's landmarks: the mean Euclidean distance between predicted
 * and true points divided by the inter-ocular distance, i.e. the distance between the true outer
 * eye corners (points 36 and 45, 0-based; the 300-W convention). Needs 68 points each.
 */
export function landmarkError(predicted: readonly Point[], truth: readonly Point[]): number {
  if (predicted.length !== truth.length) throw new RangeError(`${predicted.length} predicted points but ${truth.length} true points`);
  if (truth.length !== 68) throw new RangeError(`inter-ocular normalisation needs the 68-point scheme, got ${truth.length} points`);
  const [l, r] = [truth[OUTER_EYE_CORNERS[0]]!, truth[OUTER_EYE_CORNERS[1]]!];
  const interOcular = Math.hypot(r[0] - l[0], r[1] - l[1]);
  if (interOcular === 0) throw new RangeError('outer eye corners coincide');
  let sum = 0;
  for (let i = 0; i < truth.length; i++) sum += Math.hypot(predicted[i]![0] - truth[i]![0], predicted[i]![1] - truth[i]![1]);
  return sum / truth.length / interOcular;
}

/** Per-face normalised errors and their mean (NaN for no faces). */
export function landmarkErrors(predicted: readonly (readonly Point[])[], truth: readonly (readonly Point[])[]): { perFace: number[]; mean: number } {
  if (predicted.length !== truth.length) throw new RangeError(`${predicted.length} predicted faces but ${truth.length} true faces`);
  const perFace = truth.map((t, i) => landmarkError(predicted[i]!, t));
  const mean = perFace.length > 0 ? perFace.reduce((s, e) => s + e, 0) / perFace.length : Number.NaN;
  return { perFace, mean };
}
