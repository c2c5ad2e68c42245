/** A face box `[x, y, w, h]` in image pixels. */
type Box = readonly [number, number, number, number];

/**
 * The subject of a photo that is meant to show one person (LFW, enrollment-style photos): among
 * the boxes containing the image centre, the largest; when none contains it, the box whose
 * centre is nearest to the image centre (ties: the earlier, i.e. higher-scoring, face).
 * @returns the index into `boxes`, or -1 when there are none.
 */
export function pickCentralFace(boxes: readonly Box[], width: number, height: number): number {
  const cx = width / 2;
  const cy = height / 2;
  let best = -1;
  let bestArea = -1;
  boxes.forEach((b, i) => {
    const contains = b[0] <= cx && cx <= b[0] + b[2] && b[1] <= cy && cy <= b[1] + b[3];
    if (contains && b[2] * b[3] > bestArea) {
      best = i;
      bestArea = b[2] * b[3];
    }
  });
  if (best >= 0) return best;
  let bestDistance = Infinity;
  boxes.forEach((b, i) => {
    const d = Math.hypot(b[0] + b[2] / 2 - cx, b[1] + b[3] / 2 - cy);
    if (d < bestDistance) {
      best = i;
      bestDistance = d;
    }
  });
  return best;
}

/** A box as fractions of the image size, `[x/w, y/h, w/W, h/H]`. */
export function relativeBox(box: Box, width: number, height: number): [number, number, number, number] {
  return [box[0] / width, box[1] / height, box[2] / width, box[3] / height];
}

/** The element-wise mean of relative boxes, or `fallback` when there are none. */
export function meanBox(boxes: readonly Box[], fallback: Box): [number, number, number, number] {
  if (boxes.length === 0) return [...fallback];
  const sum = [0, 0, 0, 0];
  for (const b of boxes) for (let k = 0; k < 4; k++) sum[k]! += b[k]!;
  return sum.map((s) => s / boxes.length) as [number, number, number, number];
}
