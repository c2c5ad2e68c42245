/**
 * SSD MobileNetV1 post-processing, exactly face-api's ssdMobilenetv1/outputLayer.ts:
 * anchors and boxes are (ymin, xmin, ymax, xmax); encodings (ty, tx, th, tw) are decoded with
 * the usual SSD variances 10, 10, 5, 5, and the face score is sigmoid(class_logits[1]).
 */
import type { DetectionCandidates } from './types.js';

export interface DecodeSsdOptions {
  /**
   * Keep candidates with score > scoreThreshold (face-api's NMS filters `score > minConfidence`).
   * @defaultValue 0 (keep all 5118)
   */
  scoreThreshold?: number;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * Decodes one image of a batch.
 * @param boxEncodings `box_encodings` output, [N, 5118, 4]
 * @param classLogits `class_logits` output, [N, 5118, 3]
 * @param anchors [5118, 4] from the manifest's extras (ymin, xmin, ymax, xmax); its length sets the anchor count
 * @param batchIndex which image of the batch
 * @returns candidates with boxes as [x1, y1, x2, y2] normalised to the 512×512 input
 */
export function decodeSsd(
  boxEncodings: Float32Array,
  classLogits: Float32Array,
  anchors: Float32Array,
  batchIndex = 0,
  options: DecodeSsdOptions = {},
): DetectionCandidates {
  const n = anchors.length / 4;
  if (!Number.isInteger(n) || n === 0) throw new RangeError(`decodeSsd: anchors must be [count, 4], got ${anchors.length} values`);
  if (boxEncodings.length < (batchIndex + 1) * n * 4 || classLogits.length < (batchIndex + 1) * n * 3) {
    throw new RangeError(`decodeSsd: batch index ${batchIndex} is outside the outputs`);
  }
  const threshold = options.scoreThreshold ?? 0;
  const boxes = new Float32Array(n * 4);
  const scores = new Float32Array(n);
  const indices = new Uint32Array(n);
  const e0 = batchIndex * n * 4;
  const c0 = batchIndex * n * 3;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const score = sigmoid(classLogits[c0 + i * 3 + 1]!);
    if (threshold && !(score > threshold)) continue;
    const a = i * 4;
    const e = e0 + i * 4;
    const height = anchors[a + 2]! - anchors[a]!;
    const width = anchors[a + 3]! - anchors[a + 1]!;
    const centerY = anchors[a]! + height / 2;
    const centerX = anchors[a + 1]! + width / 2;
    const halfH = (Math.exp(boxEncodings[e + 2]! / 5) * height) / 2;
    const halfW = (Math.exp(boxEncodings[e + 3]! / 5) * width) / 2;
    const y = (boxEncodings[e]! / 10) * height + centerY;
    const x = (boxEncodings[e + 1]! / 10) * width + centerX;
    boxes[count * 4] = x - halfW;
    boxes[count * 4 + 1] = y - halfH;
    boxes[count * 4 + 2] = x + halfW;
    boxes[count * 4 + 3] = y + halfH;
    scores[count] = score;
    indices[count] = i;
    count++;
  }
  return { count, boxes: boxes.subarray(0, count * 4), scores: scores.subarray(0, count), indices: indices.subarray(0, count) };
}
