import { iou, type Box } from './box.js';

/** Options for {@link nonMaxSuppression}. */
export interface NmsOptions {
  /** A candidate is dropped when its IoU with an already kept box is above this. */
  readonly iouThreshold: number;
  /** Keep at most this many boxes. @defaultValue Infinity */
  readonly maxResults?: number;
  /** Ignore candidates scoring below this. @defaultValue -Infinity */
  readonly scoreThreshold?: number;
}

/**
 * Greedy non-maximum suppression: take candidates in order of decreasing score (ties: lower
 * index first), keep one unless it overlaps a kept box with IoU > `iouThreshold`.
 *
 * @returns indices of the kept boxes, highest score first.
 */
export function nonMaxSuppression(boxes: readonly Box[], scores: ArrayLike<number>, opts: NmsOptions): number[] {
  if (boxes.length !== scores.length) throw new RangeError(`${boxes.length} boxes but ${scores.length} scores`);
  const maxResults = opts.maxResults ?? Number.POSITIVE_INFINITY;
  const scoreThreshold = opts.scoreThreshold ?? Number.NEGATIVE_INFINITY;
  const order: number[] = [];
  for (let i = 0; i < boxes.length; i++) if (scores[i]! >= scoreThreshold) order.push(i);
  order.sort((a, b) => scores[b]! - scores[a]! || a - b);

  const kept: number[] = [];
  for (const i of order) {
    if (kept.length >= maxResults) break;
    const box = boxes[i]!;
    if (kept.every((k) => iou(boxes[k]!, box) <= opts.iouThreshold)) kept.push(i);
  }
  return kept;
}
