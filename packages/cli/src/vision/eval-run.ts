import { FacepipeError, type ErrorRecord, type FacepipeConfig } from '@facepipe/core';
import { FaceAnalyzer, matchDetections, type DetectionMatch, type DetectorKind } from '@facepipe/vision';
import { ProgressBar } from '../ui/progress.js';
import type { AnnotatedImage, Box, Point } from './eval-data.js';
import { readInputFile } from './inputs.js';
import { mapOrdered } from './ordered.js';
import { analyzerOptions, type DetectSettings } from './settings.js';

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

/**
 * Runs one detector over images once, at the lowest score threshold of interest and no face-size
 * limit; {@link keepDetections} then gives the result at any higher threshold or size limit. This
 * equals running at that threshold: greedy NMS visits boxes by decreasing score and a box is only
 * suppressed by a kept box of higher score, so the boxes ≥ t kept at a lower threshold are exactly
 * those kept at t (up to the 100-faces-per-image cap, far above what these photos reach).
 */
export async function detectImages(
  config: FacepipeConfig,
  settings: DetectSettings,
  detector: DetectorKind,
  lowestScore: number,
  files: readonly string[],
): Promise<EvalImage[]> {
  const analyzer = await FaceAnalyzer.create({
    ...analyzerOptions(config, { ...settings, detector, minScore: lowestScore, minFaceSize: 0 }),
    stages: ['detect'],
  });
  const bar = new ProgressBar(`detect (${detector})`);
  const out: EvalImage[] = [];
  try {
    await mapOrdered(
      files,
      async (file): Promise<EvalImage> => {
        const t = performance.now();
        try {
          const a = await analyzer.analyze(await readInputFile(file, settings.maxBytes));
          return {
            file,
            ms: performance.now() - t,
            detections: a.faces.map((f) => ({ box: [...f.box], score: f.score, landmarks: f.landmarks.map(([x, y]): Point => [x, y]) })),
          };
        } catch (err) {
          return { file, ms: performance.now() - t, detections: [], error: FacepipeError.from(err).toRecord() };
        }
      },
      (r) => {
        out.push(r);
        bar.update(out.length, files.length);
      },
      { concurrency: settings.concurrency },
    );
  } finally {
    bar.done();
    await analyzer.close();
  }
  return out;
}

/** The detections a run at `minScore` / `minFaceSize` keeps. */
export function keepDetections(detections: readonly EvalDetection[], minScore: number, minFaceSize: number): EvalDetection[] {
  return detections.filter((d) => d.score >= minScore && Math.min(d.box[2], d.box[3]) >= Math.max(1, minFaceSize));
}

/** Matches one image's kept detections to its ground truth. */
export function matchImage(truth: AnnotatedImage, detections: readonly EvalDetection[], iouThreshold: number): DetectionMatch {
  return matchDetections(detections.map((d) => ({ box: d.box, score: d.score })), truth.boxes, iouThreshold);
}
