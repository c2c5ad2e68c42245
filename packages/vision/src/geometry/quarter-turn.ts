/**
 * Network inputs turned by quarter turns, and points mapped back. Turning the S×S letterboxed
 * input instead of the decoded photo costs S² copies, whatever the photo's size; the letterbox
 * padding just lands in another corner.
 */

/** Clockwise quarter turns: 0, 1 (90°), 2 (180°) or 3 (270°). */
export type QuarterTurns = 0 | 1 | 2 | 3;

/**
 * `src` (an S×S×3 NHWC image at `srcOffset`) turned clockwise by `turns` quarter turns into a
 * new S×S×3 array. Clockwise 90°: output row r, column c = input row S−1−c, column r.
 */
export function turnSquareNhwc(src: Float32Array, size: number, turns: QuarterTurns, srcOffset = 0): Float32Array {
  const out = new Float32Array(size * size * 3);
  const last = size - 1;
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      let sr: number, sc: number;
      if (turns === 0) [sr, sc] = [r, c];
      else if (turns === 1) [sr, sc] = [last - c, r];
      else if (turns === 2) [sr, sc] = [last - r, last - c];
      else [sr, sc] = [c, last - r];
      const s = srcOffset + (sr * size + sc) * 3;
      const o = (r * size + c) * 3;
      out[o] = src[s]!;
      out[o + 1] = src[s + 1]!;
      out[o + 2] = src[s + 2]!;
    }
  }
  return out;
}

/**
 * A point of the turned square (continuous coordinates, side `size`) → the same point in the
 * square before the turn. Clockwise 90° maps (x, y) to (size − y, x); this is its inverse.
 */
export function unturnPoint(x: number, y: number, size: number, turns: QuarterTurns): [number, number] {
  switch (turns) {
    case 0:
      return [x, y];
    case 1:
      return [y, size - x];
    case 2:
      return [size - x, size - y];
    case 3:
      return [size - y, x];
  }
}

/** A box `[x1, y1, x2, y2]` of the turned square → the box before the turn (corners re-sorted). */
export function unturnCorners(x1: number, y1: number, x2: number, y2: number, size: number, turns: QuarterTurns): [number, number, number, number] {
  const [ax, ay] = unturnPoint(x1, y1, size, turns);
  const [bx, by] = unturnPoint(x2, y2, size, turns);
  return [Math.min(ax, bx), Math.min(ay, by), Math.max(ax, bx), Math.max(ay, by)];
}

/**
 * `src` (an s×s×3 NHWC input) placed at (offset, offset) on a zero `size`×`size` canvas: the photo
 * at a reduced scale with a black border, so a face that filled the photo fills less of the input.
 */
export function placeOnCanvas(src: Float32Array, srcSize: number, size: number, offset: number): Float32Array {
  if (offset < 0 || offset + srcSize > size) throw new RangeError(`a ${srcSize} square does not fit at ${offset} in ${size}`);
  const out = new Float32Array(size * size * 3);
  for (let r = 0; r < srcSize; r++) out.set(src.subarray(r * srcSize * 3, (r + 1) * srcSize * 3), ((r + offset) * size + offset) * 3);
  return out;
}
