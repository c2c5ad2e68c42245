/**
 * Pixel resampling over RGB typed arrays (3 interleaved channels, row-major). Pure: no I/O, no
 * allocation beyond the returned buffers.
 */
import type { Affine } from './similarity.js';

/** An RGB pixel buffer of `width * height * 3` values, 8-bit or float. */
export type RgbPixels = Uint8Array | Uint8ClampedArray | Float32Array;

/** Options for {@link warpAffineBilinear}. */
export interface WarpOptions {
  /** Output height when it differs from the width. @defaultValue the output size */
  readonly outHeight?: number;
  /** Write into this buffer instead of allocating (e.g. one slot of a batch tensor). */
  readonly out?: Float32Array;
  /** Offset in `out`, in elements. @defaultValue 0 */
  readonly outOffset?: number;
}

/**
 * Warps `src` into an `outSize`×`outSize` (or `outSize`×`outHeight`) float32 RGB image (values in
 * the source's range, 0..255 for 8-bit input, not rounded).
 *
 * `outToSrc` maps OUTPUT pixel coordinates to SOURCE coordinates (an inverse map, like dlib's
 * `transform_image` or OpenCV's `WARP_INVERSE_MAP`); pixel centres are at integer coordinates.
 * Each output pixel is the bilinear interpolation of the four source pixels around its mapped
 * position; positions outside `[0, W-1] × [0, H-1]` give 0 (black). (dlib also blacks out the last
 * row and column; this does not.)
 */
export function warpAffineBilinear(src: RgbPixels, srcWidth: number, srcHeight: number, outToSrc: Affine, outSize: number, opts: WarpOptions = {}): Float32Array {
  const outW = outSize;
  const outH = opts.outHeight ?? outSize;
  if (src.length < srcWidth * srcHeight * 3) throw new RangeError(`source has ${src.length} values, fewer than ${srcWidth}x${srcHeight}x3`);
  const offset = opts.outOffset ?? 0;
  const out = opts.out ?? new Float32Array(outW * outH * 3);
  if (offset < 0 || offset + outW * outH * 3 > out.length) throw new RangeError('output buffer too small');
  const [a, b, c, d, e, f] = outToSrc;
  const maxX = srcWidth - 1;
  const maxY = srcHeight - 1;
  const stride = srcWidth * 3;
  let o = offset;
  for (let r = 0; r < outH; r++) {
    let sx = b * r + c;
    let sy = e * r + f;
    for (let col = 0; col < outW; col++, sx += a, sy += d, o += 3) {
      if (!(sx >= 0 && sy >= 0 && sx <= maxX && sy <= maxY)) {
        out[o] = 0; out[o + 1] = 0; out[o + 2] = 0;
        continue;
      }
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const dx = x0 < maxX ? 3 : 0;
      const dy = y0 < maxY ? stride : 0;
      const p = y0 * stride + x0 * 3;
      const w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
      out[o] = w00 * src[p]! + w01 * src[p + dx]! + w10 * src[p + dy]! + w11 * src[p + dy + dx]!;
      out[o + 1] = w00 * src[p + 1]! + w01 * src[p + dx + 1]! + w10 * src[p + dy + 1]! + w11 * src[p + dy + dx + 1]!;
      out[o + 2] = w00 * src[p + 2]! + w01 * src[p + dx + 2]! + w10 * src[p + dy + 2]! + w11 * src[p + dy + dx + 2]!;
    }
  }
  return out;
}

/**
 * Mirrors an RGB image left↔right (for test-time flip averaging of embeddings). Returns a new
 * buffer of the same type.
 */
export function flipHorizontal<T extends RgbPixels>(src: T, width: number, height: number): T {
  const out = new (src.constructor as new (n: number) => T)(width * height * 3);
  for (let r = 0; r < height; r++) {
    const row = r * width * 3;
    for (let x = 0; x < width; x++) {
      const s = row + x * 3;
      const t = row + (width - 1 - x) * 3;
      out[t] = src[s]!; out[t + 1] = src[s + 1]!; out[t + 2] = src[s + 2]!;
    }
  }
  return out;
}

/**
 * Shrinks a rectangle of an RGB image by an integer `factor`, averaging `factor`×`factor` blocks
 * (a partial last block is dropped). Output pixel `i` covers input pixels
 * `[rx + i·factor, rx + (i+1)·factor)`, so its centre is input coordinate
 * `rx + i·factor + (factor − 1)/2`. Reads the source in place; no copy of the rectangle is made.
 *
 * @param rect `[x, y, w, h]`, integers, inside the image. @defaultValue the whole image
 */
export function downsampleBox(
  src: RgbPixels, width: number, height: number, factor: number, rect: readonly [number, number, number, number] = [0, 0, width, height],
): { data: Float32Array; width: number; height: number } {
  const [rx, ry, rw, rh] = rect;
  if (!(Number.isInteger(factor) && factor >= 1)) throw new RangeError(`factor must be a positive integer, got ${factor}`);
  if (rx < 0 || ry < 0 || rx + rw > width || ry + rh > height) throw new RangeError('rectangle lies outside the image');
  const w = Math.floor(rw / factor);
  const h = Math.floor(rh / factor);
  const out = new Float32Array(w * h * 3);
  const inv = 1 / (factor * factor);
  for (let oy = 0; oy < h; oy++) {
    const base = oy * w * 3;
    for (let dy = 0; dy < factor; dy++) {
      let s = ((ry + oy * factor + dy) * width + rx) * 3;
      for (let o = base; o < base + w * 3; o += 3) {
        let r = 0, g = 0, b = 0;
        for (let dx = 0; dx < factor; dx++, s += 3) {
          r += src[s]!; g += src[s + 1]!; b += src[s + 2]!;
        }
        out[o] = out[o]! + r; out[o + 1] = out[o + 1]! + g; out[o + 2] = out[o + 2]! + b;
      }
    }
    for (let i = base; i < base + w * 3; i++) out[i] = out[i]! * inv;
  }
  return { data: out, width: w, height: h };
}

/** Halves an RGB image by averaging 2×2 blocks: {@link downsampleBox} with factor 2. */
export function downsample2x(src: RgbPixels, width: number, height: number): { data: Float32Array; width: number; height: number } {
  return downsampleBox(src, width, height, 2);
}
