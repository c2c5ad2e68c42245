/**
 * The quality gate: which faces are good enough to be clustered and named automatically. A face
 * that fails it is kept, marked (`quality_ok = false` in the index, the reason in results) and
 * still searchable; it is never put in a cluster nor named without a person's word — blurred,
 * tiny, turned or half-cut faces are what chains clusters together and crowds the People page.
 */
export interface QualityGateOptions {
  /** Lowest detector score. @defaultValue 0.6 */
  minScore: number;
  /** Shortest box side, pixels. @defaultValue 40 */
  minFaceSize: number;
  /** Lowest chip sharpness (variance of the Laplacian). @defaultValue 8 */
  minSharpness: number;
  /** Largest head turn, degrees. @defaultValue 45 */
  maxYaw: number;
  /** Largest landmark-fit residual (profiles, occlusions, landmarks gone wrong). @defaultValue 0.3 */
  maxShapeResidual: number;
  /** Largest share of the box outside the photo (a face cut by the border). @defaultValue 0.15 */
  maxOutside: number;
}

export const defaultQualityGate: QualityGateOptions = { minScore: 0.5, minFaceSize: 40, minSharpness: 8, maxYaw: 45, maxShapeResidual: 0.3, maxOutside: 0.15 };

export interface GatedFace {
  box: readonly number[];
  score: number;
  quality?: { shapeResidual: number; yaw: number; pitch: number; sharpness: number } | null | undefined;
}

export type QualityFailure = 'score' | 'size' | 'sharpness' | 'pose' | 'landmarks' | 'border';

/** The first reason the face fails the gate, or null when it passes. Faces without quality attributes are judged on what they have. */
export function qualityFailure(face: GatedFace, image: { width: number; height: number }, gate: QualityGateOptions = defaultQualityGate): QualityFailure | null {
  const [x, y, w, h] = face.box as [number, number, number, number];
  if (face.score < gate.minScore) return 'score';
  if (Math.min(w, h) < gate.minFaceSize) return 'size';
  if (image.width > 0 && image.height > 0 && w > 0 && h > 0) {
    const insideW = Math.max(0, Math.min(x + w, image.width) - Math.max(x, 0));
    const insideH = Math.max(0, Math.min(y + h, image.height) - Math.max(y, 0));
    if (1 - (insideW * insideH) / (w * h) > gate.maxOutside) return 'border';
  }
  const q = face.quality;
  if (q) {
    if (q.sharpness < gate.minSharpness) return 'sharpness';
    if (Math.abs(q.yaw) > gate.maxYaw) return 'pose';
    if (q.shapeResidual > gate.maxShapeResidual) return 'landmarks';
  }
  return null;
}
