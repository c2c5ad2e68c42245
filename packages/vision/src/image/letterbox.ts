/**
 * Network inputs from decoded RGB: pad to a square with zeros, then resize bilinearly to S×S, in
 * one pass with no intermediate padded image. The sampling is tfjs' `resizeBilinear` with
 * `alignCorners = false, halfPixelCenters = false` (source = output index × in/out), which is what
 * face-api's `toBatchTensor` runs, so the tensors match face-api's value for value (to float32
 * rounding). Values stay in 0..255; per-model normalisation is the model adapter's job.
 */
import { cropRectForBox, type Box } from '../geometry/box.js';
import { letterboxGeometry, type LetterboxGeometry } from '../geometry/letterbox.js';
import type { RgbImage } from './types.js';

/** Options for {@link letterboxRgb} and {@link cropAndResize}. */
export interface LetterboxOptions {
  /** Pad equally on both sides (face-api `isCenterImage`) instead of bottom/right only. @defaultValue false */
  readonly centred?: boolean;
  /** Write into this buffer (e.g. one slot of a batch tensor) instead of allocating. */
  readonly out?: Float32Array;
  /** Offset in `out`, in elements. @defaultValue 0 */
  readonly outOffset?: number;
}

/** An S×S×3 float32 NHWC input (values 0..255) and the geometry to map its coordinates back. */
export interface LetterboxedInput {
  readonly tensor: Float32Array;
  /** Offset of this input inside `tensor` (non-zero when writing into a batch buffer). */
  readonly offset: number;
  readonly geometry: LetterboxGeometry;
}

/**
 * Per output index along one axis: the two source indices (absolute image pixels, or -1 where
 * the sample falls in the zero padding) and the interpolation fraction.
 */
interface AxisSamples {
  readonly i0: Int32Array;
  readonly i1: Int32Array;
  readonly frac: Float64Array;
}

function axisSamples(size: number, paddedSize: number, pad: number, regionStart: number, regionLength: number): AxisSamples {
  const ratio = paddedSize / size;
  const i0 = new Int32Array(size);
  const i1 = new Int32Array(size);
  const frac = new Float64Array(size);
  const toImage = (p: number): number => {
    const local = p - pad;
    return local >= 0 && local < regionLength ? regionStart + local : -1;
  };
  for (let o = 0; o < size; o++) {
    const s = ratio * o;
    const lo = Math.max(0, Math.floor(s));
    const hi = Math.min(paddedSize - 1, Math.ceil(s));
    i0[o] = toImage(lo);
    i1[o] = toImage(hi);
    frac[o] = s - lo;
  }
  return { i0, i1, frac };
}

/** Byte offset of pixel `index` within a row (`index * 3`), or -1 for padding. */
function pixelOffsets(indices: Int32Array): Int32Array {
  return indices.map((i) => (i < 0 ? -1 : i * 3));
}

/**
 * Resamples the geometry's region of `img` into `out` at `offset`. Output pixels whose four
 * samples all lie inside the image take a branch-free path; the rest read 0 for padding.
 */
function resampleInto(img: RgbImage, g: LetterboxGeometry, out: Float32Array, offset: number, rows = g.size, cols = g.size): void {
  const [rx, ry, rw, rh] = g.region;
  const xs = axisSamples(g.size, g.paddedSize, g.padLeft, rx, rw);
  const ys = axisSamples(g.size, g.paddedSize, g.padTop, ry, rh);
  const x0s = pixelOffsets(xs.i0);
  const x1s = pixelOffsets(xs.i1);
  const fxs = xs.frac;
  const data = img.data;
  const rowStride = img.width * 3;
  let o = offset;
  for (let r = 0; r < rows; r++) {
    const top = ys.i0[r]! < 0 ? -1 : ys.i0[r]! * rowStride;
    const bottom = ys.i1[r]! < 0 ? -1 : ys.i1[r]! * rowStride;
    const fy = ys.frac[r]!;
    if (top < 0 && bottom < 0) {
      out.fill(0, o, o + cols * 3);
      o += cols * 3;
      continue;
    }
    for (let c = 0; c < cols; c++, o += 3) {
      const x0 = x0s[c]!;
      const x1 = x1s[c]!;
      const fx = fxs[c]!;
      if (top >= 0 && bottom >= 0 && x1 >= 0 && x0 >= 0) {
        const tl = top + x0, tr = top + x1, bl = bottom + x0, br = bottom + x1;
        const u0 = data[tl]! + (data[tr]! - data[tl]!) * fx;
        const l0 = data[bl]! + (data[br]! - data[bl]!) * fx;
        const u1 = data[tl + 1]! + (data[tr + 1]! - data[tl + 1]!) * fx;
        const l1 = data[bl + 1]! + (data[br + 1]! - data[bl + 1]!) * fx;
        const u2 = data[tl + 2]! + (data[tr + 2]! - data[tl + 2]!) * fx;
        const l2 = data[bl + 2]! + (data[br + 2]! - data[bl + 2]!) * fx;
        out[o] = u0 + (l0 - u0) * fy;
        out[o + 1] = u1 + (l1 - u1) * fy;
        out[o + 2] = u2 + (l2 - u2) * fy;
        continue;
      }
      for (let ch = 0; ch < 3; ch++) {
        const vtl = top >= 0 && x0 >= 0 ? data[top + x0 + ch]! : 0;
        const vtr = top >= 0 && x1 >= 0 ? data[top + x1 + ch]! : 0;
        const vbl = bottom >= 0 && x0 >= 0 ? data[bottom + x0 + ch]! : 0;
        const vbr = bottom >= 0 && x1 >= 0 ? data[bottom + x1 + ch]! : 0;
        const upper = vtl + (vtr - vtl) * fx;
        const lower = vbl + (vbr - vbl) * fx;
        out[o + ch] = upper + (lower - upper) * fy;
      }
    }
  }
}

function outputBuffer(size: number, opts: LetterboxOptions): { tensor: Float32Array; offset: number } {
  const offset = opts.outOffset ?? 0;
  const needed = size * size * 3;
  if (!opts.out) return { tensor: new Float32Array(needed), offset: 0 };
  if (offset < 0 || offset + needed > opts.out.length) {
    throw new RangeError(`output buffer of ${opts.out.length} floats cannot hold ${needed} at offset ${offset}`);
  }
  return { tensor: opts.out, offset };
}

/** Letterboxes an integer pixel region of `img` (must lie inside the image). */
export function letterboxRegion(img: RgbImage, region: Box, size: number, opts: LetterboxOptions = {}): LetterboxedInput {
  const [x, y, w, h] = region;
  if (![x, y, w, h].every(Number.isInteger) || x < 0 || y < 0 || x + w > img.width || y + h > img.height) {
    throw new RangeError(`region [${region.join(', ')}] is not an integer rectangle inside ${img.width}x${img.height}`);
  }
  const geometry = letterboxGeometry(region, size, opts.centred ?? false);
  const { tensor, offset } = outputBuffer(size, opts);
  resampleInto(img, geometry, tensor, offset);
  return { tensor, offset, geometry };
}

/**
 * The whole image as a `size`×`size` detector input: zero padding at the bottom/right (or both
 * sides when `centred`), bilinear resize — face-api's `toBatchTensor(size, centred)`.
 */
export function letterboxRgb(img: RgbImage, size: number, opts: LetterboxOptions = {}): LetterboxedInput {
  return letterboxRegion(img, [0, 0, img.width, img.height], size, opts);
}

/**
 * The landmark-net input for a face: crop `box` (image pixels, clipped and floored as face-api's
 * `extractFaceTensors` does), pad to a square (centred by default), resize to `size`×`size`
 * (default 112). Map the net's points back with `letterboxToImage(result.geometry, p)`.
 *
 * @returns null when the clipped box is empty.
 */
export function cropAndResize(img: RgbImage, box: Box, size = 112, opts: LetterboxOptions = {}): LetterboxedInput | null {
  const rect = cropRectForBox(box, img.width, img.height);
  if (rect[2] <= 0 || rect[3] <= 0) return null;
  return letterboxRegion(img, rect, size, { centred: true, ...opts });
}

/**
 * The top-left `width`×`height` of {@link letterboxRgb}'s `side`×`side` input: the whole image at
 * the same scale, without the padding rows or columns beyond it (`width`, `height` ≤ `side`). For
 * fully convolutional detectors, whose cost grows with the input's area: a 3:2 photo at side 512
 * costs a 512×352 run, not 512×512. `geometry` is the square one, so coordinates map back alike.
 */
export function letterboxRgbRect(img: RgbImage, side: number, width: number, height: number): LetterboxedInput {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 && width <= side && height <= side)) {
    throw new RangeError(`letterbox extent ${width}x${height} must be whole and inside the ${side}x${side} input`);
  }
  const geometry = letterboxGeometry([0, 0, img.width, img.height], side, false);
  const tensor = new Float32Array(width * height * 3);
  resampleInto(img, geometry, tensor, 0, height, width);
  return { tensor, offset: 0, geometry };
}
