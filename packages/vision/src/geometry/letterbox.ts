/**
 * Letterbox geometry: how a rectangular region of an image is padded to a square and scaled to a
 * network's S×S input, and how network coordinates map back to image pixels. This is face-api's
 * `NetInput.toBatchTensor(size, isCenterImage)` (`padToSquare` then `resizeBilinear`) as numbers.
 */
import type { Box, Point } from './box.js';

/** Where an image region sits inside a square network input. */
export interface LetterboxGeometry {
  /** Side of the square network input, in network pixels. */
  readonly size: number;
  /** The image region that was letterboxed, `[x, y, w, h]` in image pixels (whole image: `[0, 0, W, H]`). */
  readonly region: Box;
  /** Side of the padded square, in image pixels: `max(w, h)`. */
  readonly paddedSize: number;
  /** Zero columns added left of the region, in image pixels (only when centred). */
  readonly padLeft: number;
  /** Zero rows added above the region, in image pixels (only when centred). */
  readonly padTop: number;
  /** Network pixels per image pixel: `size / paddedSize`. */
  readonly scale: number;
  /** Padding split on both sides (true) or all at the bottom/right (false). */
  readonly centred: boolean;
}

/**
 * Computes the letterbox of `region` into a `size`×`size` input.
 *
 * Not centred: the region is padded with zeros at the bottom or right to a square. Centred: as
 * face-api, `round(diff / 2)` zeros go after (bottom/right) and the rest before (top/left).
 */
export function letterboxGeometry(region: Box, size: number, centred = false): LetterboxGeometry {
  const [, , w, h] = region;
  if (!(w > 0 && h > 0)) throw new RangeError(`letterbox region must be non-empty, got ${w}x${h}`);
  if (!(size > 0)) throw new RangeError(`letterbox size must be positive, got ${size}`);
  const paddedSize = Math.max(w, h);
  const diff = Math.abs(w - h);
  const before = centred ? diff - Math.round(diff * 0.5) : 0;
  return {
    size,
    region,
    paddedSize,
    padLeft: w < h ? before : 0,
    padTop: h < w ? before : 0,
    scale: size / paddedSize,
    centred,
  };
}

/** A point in network input pixels → image pixels. */
export function letterboxToImage(g: LetterboxGeometry, p: Point): Point {
  return [g.region[0] + p[0] / g.scale - g.padLeft, g.region[1] + p[1] / g.scale - g.padTop];
}

/** A point in image pixels → network input pixels. */
export function imageToLetterbox(g: LetterboxGeometry, p: Point): Point {
  return [(p[0] - g.region[0] + g.padLeft) * g.scale, (p[1] - g.region[1] + g.padTop) * g.scale];
}

/**
 * A box in network input pixels → image pixels. For outputs relative to the input square
 * (0..1), scale by `g.size` first (`scaleBox(box, g.size)`).
 */
export function letterboxBoxToImage(g: LetterboxGeometry, box: Box): Box {
  const [x, y] = letterboxToImage(g, [box[0], box[1]]);
  return [x, y, box[2] / g.scale, box[3] / g.scale];
}
