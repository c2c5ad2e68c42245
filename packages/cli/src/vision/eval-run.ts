import { FacepipeError, type FacepipeConfig } from '@facepipe/core/light';
import { FaceAnalyzer, type DetectorKind, type DetectPassOptions, type EvalImage, type Point } from '@facepipe/vision';
import { ProgressBar } from '../ui/progress.js';
import { readInputFile } from './inputs.js';
import { mapOrdered } from './ordered.js';
import { analyzerOptions, type DetectSettings } from './settings.js';

export { keepDetections, matchImage, type EvalDetection, type EvalImage } from '@facepipe/vision';

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
  passes?: DetectPassOptions,
): Promise<EvalImage[]> {
  const analyzer = await FaceAnalyzer.create({
    ...analyzerOptions(config, { ...settings, detector, minScore: lowestScore, minFaceSize: 0 }),
    stages: ['detect'],
    ...(passes ? { passes } : {}),
  });
  const bar = new ProgressBar(`detect (${detector})`, { unit: 'image' });
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
