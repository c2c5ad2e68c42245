/**
 * Tiles for finding small faces in large photos: the detector sees each tile at its full input
 * size, so a face covers more input pixels than in the whole photo shrunk to that size.
 */
import type { Box } from './box.js';

/**
 * Start offsets of `count` windows of `window` pixels covering `[0, length)`, first at 0 and last
 * flush with the end, evenly spread (so neighbours overlap by the same amount, give or take one).
 */
function axisStarts(length: number, window: number, count: number): number[] {
  if (count <= 1 || window >= length) return [0];
  const step = (length - window) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(i * step));
}

/**
 * Square tiles `[x, y, w, h]` (whole pixels inside the photo) of `tile` pixels, clipped at the
 * photo's edges, covering a `width`×`height` photo with neighbours overlapping by at least
 * `overlap` pixels: a face smaller than the overlap lies whole inside at least one tile. Row by
 * row, left to right.
 */
export function tileGrid(width: number, height: number, tile: number, overlap: number): Box[] {
  if (!(width > 0 && height > 0 && tile > 0)) throw new RangeError(`tileGrid needs a photo and a tile size, got ${width}x${height}, tile ${tile}`);
  if (!(overlap >= 0 && overlap < tile)) throw new RangeError(`tile overlap must be in [0, ${tile}), got ${overlap}`);
  const count = (length: number) => (length <= tile ? 1 : Math.ceil((length - overlap) / (tile - overlap)));
  const xs = axisStarts(width, tile, count(width));
  const ys = axisStarts(height, tile, count(height));
  return ys.flatMap((y) => xs.map((x): Box => [x, y, Math.min(tile, width - x), Math.min(tile, height - y)]));
}
