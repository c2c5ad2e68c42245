/**
 * The crop of a face's optional second landmark pass (FaceAnalyzer's `landmarkRefine`): a crop
 * centred on the first pass's points instead of the detector's box, which sits off-centre on a
 * turned face. Measured on held-out LFW photos it did not help search (docs/models.md,
 * "Landmarks: a second pass"), so the pipeline leaves it off.
 */
import type { Box, Point } from './box.js';

/** Side of the second pass's crop, as a multiple of the first points' larger extent. */
export const LANDMARK_REFINE_SCALE = 1.6;

/**
 * A square box centred on the bounding box of `landmarks` (68 points, image pixels), its side
 * `scale` × the larger of their width and height. The box may reach past the image: the crop
 * clips it there as it clips a detector box.
 */
export function landmarkRefineBox(landmarks: readonly Point[], scale = LANDMARK_REFINE_SCALE): Box {
  if (landmarks.length === 0) throw new RangeError('landmarkRefineBox needs landmarks');
  if (!(scale > 0)) throw new RangeError(`landmarkRefineBox: scale must be positive, got ${scale}`);
  let x1 = Infinity, y1 = Infinity, x2 = -Infinity, y2 = -Infinity;
  for (const [x, y] of landmarks) {
    x1 = Math.min(x1, x);
    y1 = Math.min(y1, y);
    x2 = Math.max(x2, x);
    y2 = Math.max(y2, y);
  }
  const side = scale * Math.max(x2 - x1, y2 - y1);
  const cx = (x1 + x2) / 2;
  const cy = (y1 + y2) / 2;
  return [cx - side / 2, cy - side / 2, side, side];
}
