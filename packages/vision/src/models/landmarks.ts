/**
 * Maps the landmark net's raw outputs back to original-image pixels, as face-api's
 * FaceLandmark68NetBase.postProcess followed by FaceLandmarks.shiftBy(box.x, box.y).
 */

/** A box `[x, y, width, height]` in original-image pixels. */
export type PixelBox = readonly [x: number, y: number, width: number, height: number];

export interface LandmarksFromOutputOptions {
  /** @defaultValue 0 */
  batchIndex?: number;
  /**
   * Where the crop sits inside the padded square, in crop pixels. face-api's postProcess assumes
   * a centred crop: `left = (side - width) / 2`, `top = (side - height) / 2` with
   * `side = max(width, height)`, which is the default.
   */
  padding?: { left: number; top: number };
}

/**
 * The crop `cropBox` was padded to a square of side `max(width, height)` and resized to 112×112;
 * the net gave `raw` ([N, 136]: x0, y0, x1, y1, … in 0..1 of that square). Returns the 68 points
 * as a Float32Array(136) `x0, y0, x1, y1, …` in original-image pixels:
 * `x = cropX - left + rawX · side`, `y = cropY - top + rawY · side`.
 */
export function landmarksFromOutput(raw: Float32Array, cropBox: PixelBox, options: LandmarksFromOutputOptions = {}): Float32Array {
  const batchIndex = options.batchIndex ?? 0;
  if (raw.length < (batchIndex + 1) * 136) throw new RangeError(`landmarksFromOutput: batch index ${batchIndex} is outside the output`);
  const [x, y, width, height] = cropBox;
  if (!(width > 0 && height > 0)) throw new RangeError(`landmarksFromOutput: empty crop box ${width}×${height}`);
  const side = Math.max(width, height);
  const left = options.padding?.left ?? (side - width) / 2;
  const top = options.padding?.top ?? (side - height) / 2;
  const out = new Float32Array(136);
  const o = batchIndex * 136;
  for (let i = 0; i < 136; i += 2) {
    out[i] = x - left + raw[o + i]! * side;
    out[i + 1] = y - top + raw[o + i + 1]! * side;
  }
  return out;
}
