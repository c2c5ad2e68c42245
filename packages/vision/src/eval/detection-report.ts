/**
 * Detection evaluation over annotated sets: which detections a run at a score / size limit keeps,
 * their match to the ground truth, and one report row per operating point. `facepipe
 * eval-detection` and `eval-landmarks` read the files and print; the rules live here.
 */
import type { ErrorRecord } from '@facepipe/core/light';
import type { Box, Point } from '../geometry/box.js';
import type { DetectorKind } from '../pipeline/detector.js';
import { combineDetectionMatches, matchDetections, type DetectionMatch } from './detection.js';

/** One detection with its landmarks, as `FaceAnalyzer.analyze` returns it. */
export interface EvalDetection {
  readonly box: Box;
  readonly score: number;
  readonly landmarks: Point[];
}

/** Detections in one image at the run's lowest score threshold. */
export interface EvalImage {
  readonly file: string;
  readonly detections: EvalDetection[];
  /** Decode + detect + landmarks + align, ms. */
  readonly ms: number;
  readonly error?: ErrorRecord;
}

/** One photo and the faces annotated in it. */
export interface AnnotatedFaces {
  readonly file: string;
  readonly boxes: readonly Box[];
}

/** The detections a run at `minScore` / `minFaceSize` keeps. */
export function keepDetections(detections: readonly EvalDetection[], minScore: number, minFaceSize: number): EvalDetection[] {
  return detections.filter((d) => d.score >= minScore && Math.min(d.box[2], d.box[3]) >= Math.max(1, minFaceSize));
}

/** Matches one image's kept detections to its ground truth. */
export function matchImage(truth: AnnotatedFaces, detections: readonly EvalDetection[], iouThreshold: number): DetectionMatch {
  return matchDetections(detections.map((d) => ({ box: d.box, score: d.score })), truth.boxes, iouThreshold);
}

/** One operating point of one detector. */
export interface DetectionEvalRow {
  /** facepipe's detector, or a baseline's name (the benchmarks' `dlib-hog`). */
  detector: DetectorKind | 'dlib-hog';
  minScore: number;
  minFaceSize: number;
  /** Recall over the faces of the boxes CSV and the annotated AFW faces together. */
  recall: number;
  /** Boxes CSV: every clearly visible face is boxed, so unmatched detections are false positives. */
  boxes?: { images: number; faces: number; found: number; recall: number; falsePositives: number };
  /** AFW: not every face is annotated, so unmatched detections are counted apart, not as false positives. */
  afw?: { images: number; faces: number; found: number; recall: number; unannotated: number };
  /** Images without faces: every detection is a false positive. */
  negatives?: { images: number; falsePositives: number; imagesWithDetections: number };
}

/** The annotated sets of one evaluation. */
export interface DetectionEvalSets {
  boxes: readonly AnnotatedFaces[];
  afw: readonly AnnotatedFaces[];
  negatives: readonly AnnotatedFaces[];
}

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** Recall and false positives of one detector run at `minScore` / `minFaceSize`. */
export function detectionEvalRow(
  detector: DetectionEvalRow['detector'],
  minScore: number,
  minFaceSize: number,
  sets: DetectionEvalSets,
  results: ReadonlyMap<string, EvalImage>,
  iou: number,
): DetectionEvalRow {
  const kept = (file: string) => keepDetections(results.get(file)!.detections, minScore, minFaceSize);
  const row: DetectionEvalRow = { detector, minScore, minFaceSize, recall: Number.NaN };
  let found = 0;
  let faces = 0;
  if (sets.boxes.length > 0) {
    const m = combineDetectionMatches(sets.boxes.map((img) => matchImage(img, kept(img.file), iou)));
    row.boxes = { images: sets.boxes.length, faces: m.truePositives + m.falseNegatives, found: m.truePositives, recall: round4(m.recall), falsePositives: m.falsePositives };
    found += m.truePositives;
    faces += m.truePositives + m.falseNegatives;
  }
  if (sets.afw.length > 0) {
    const m = combineDetectionMatches(sets.afw.map((img) => matchImage(img, kept(img.file), iou)));
    row.afw = { images: sets.afw.length, faces: m.truePositives + m.falseNegatives, found: m.truePositives, recall: round4(m.recall), unannotated: m.falsePositives };
    found += m.truePositives;
    faces += m.truePositives + m.falseNegatives;
  }
  if (sets.negatives.length > 0) {
    const counts = sets.negatives.map((img) => kept(img.file).length);
    row.negatives = { images: counts.length, falsePositives: counts.reduce((s, n) => s + n, 0), imagesWithDetections: counts.filter((n) => n > 0).length };
  }
  row.recall = faces > 0 ? round4(found / faces) : Number.NaN;
  return row;
}
