/**
 * Tiny face detector post-processing, as face-api's TinyYolov2Base.extractBoxes: per cell and
 * anchor, centre = (cell + sigmoid(t)) / cells, size = exp(t) · anchor / cells, score = sigmoid.
 *
 * face-api multiplies by a "correction factor" (input size / resized image size) to express boxes
 * relative to the unpadded image; here boxes stay relative to the square input, which gives the
 * same pixels after `× max(w, h)` (see {@link DetectionCandidates}).
 */
import { TINY_FACE_DETECTOR_ANCHORS, TINY_FACE_DETECTOR_BOX_ENCODING_SIZE } from './contract.js';
import type { DetectionCandidates } from './types.js';

export interface DecodeTinyYoloOptions {
  /**
   * Keep candidates with score > scoreThreshold (face-api's TinyYolov2Options default is 0.5).
   * @defaultValue 0 (keep all)
   */
  scoreThreshold?: number;
  /**
   * Anchor sizes in grid cells.
   * @defaultValue TINY_FACE_DETECTOR_ANCHORS
   */
  anchors?: readonly { readonly x: number; readonly y: number }[];
  /** @defaultValue 0 */
  batchIndex?: number;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * @param grid the `grid` output, NHWC [N, gridH, gridW, anchors × 5]
 * @param gridH rows (input height / 32)
 * @param gridW columns (input width / 32)
 */
export function decodeTinyYolo(grid: Float32Array, gridH: number, gridW: number, options: DecodeTinyYoloOptions = {}): DetectionCandidates {
  const anchors = options.anchors ?? TINY_FACE_DETECTOR_ANCHORS;
  const threshold = options.scoreThreshold ?? 0;
  const batchIndex = options.batchIndex ?? 0;
  const enc = TINY_FACE_DETECTOR_BOX_ENCODING_SIZE;
  const perImage = gridH * gridW * anchors.length * enc;
  if (grid.length < (batchIndex + 1) * perImage) throw new RangeError(`decodeTinyYolo: batch index ${batchIndex} is outside the grid`);
  const max = gridH * gridW * anchors.length;
  const boxes = new Float32Array(max * 4);
  const scores = new Float32Array(max);
  const indices = new Uint32Array(max);
  let count = 0;
  for (let row = 0; row < gridH; row++) {
    for (let col = 0; col < gridW; col++) {
      for (let a = 0; a < anchors.length; a++) {
        const cell = (row * gridW + col) * anchors.length + a;
        const o = batchIndex * perImage + cell * enc;
        const score = sigmoid(grid[o + 4]!);
        if (threshold && !(score > threshold)) continue;
        const cx = (col + sigmoid(grid[o]!)) / gridW;
        const cy = (row + sigmoid(grid[o + 1]!)) / gridH;
        const w = (Math.exp(grid[o + 2]!) * anchors[a]!.x) / gridW;
        const h = (Math.exp(grid[o + 3]!) * anchors[a]!.y) / gridH;
        const x = cx - w / 2;
        const y = cy - h / 2;
        boxes[count * 4] = x;
        boxes[count * 4 + 1] = y;
        boxes[count * 4 + 2] = x + w;
        boxes[count * 4 + 3] = y + h;
        scores[count] = score;
        indices[count] = cell;
        count++;
      }
    }
  }
  return { count, boxes: boxes.subarray(0, count * 4), scores: scores.subarray(0, count), indices: indices.subarray(0, count) };
}
