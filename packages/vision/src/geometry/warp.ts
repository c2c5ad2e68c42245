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
 * Halves an RGB image by averaging 2×2 blocks (an odd last row/column is dropped). Output pixel
 * `i` covers input pixels `2i` and `2i+1`, so its centre is input coordinate `2i + 0.5`.
 */
export function downsample2x(src: RgbPixels, width: number, height: number): { data: Float32Array; width: number; height: number } {
  const w = Math.floor(width / 2);
  const h = Math.floor(height / 2);
  const out = new Float32Array(w * h * 3);
  const stride = width * 3;
  let o = 0;
  for (let r = 0; r < h; r++) {
    const top = 2 * r * stride;
    for (let x = 0; x < w; x++) {
      const p = top + 6 * x;
      for (let ch = 0; ch < 3; ch++, o++) {
        out[o] = (src[p + ch]! + src[p + 3 + ch]! + src[p + stride + ch]! + src[p + stride + 3 + ch]!) * 0.25;
      }
    }
  }
  return { data: out, width: w, height: h };
}
