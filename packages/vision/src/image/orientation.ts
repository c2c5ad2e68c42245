import type { RgbImage } from './types.js';

/**
 * Applies an EXIF orientation (1..8) to RGB pixels stored as `width × height`, giving the upright
 * image (for 5..8 width and height swap). 1 (or any other value) returns the input unchanged.
 * Stored pixel (x, y) lands at: 2 (W-1-x, y) · 3 (W-1-x, H-1-y) · 4 (x, H-1-y) · 5 (y, x) ·
 * 6 (H-1-y, x) · 7 (H-1-y, W-1-x) · 8 (y, W-1-x).
 */
export function orientRgb(image: RgbImage, orientation: number): RgbImage {
  const { width: w, height: h, data } = image;
  if (!(orientation >= 2 && orientation <= 8) || !Number.isInteger(orientation)) return image;
  const swap = orientation >= 5;
  const outW = swap ? h : w;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let dx: number;
      let dy: number;
      switch (orientation) {
        case 2: dx = w - 1 - x; dy = y; break;
        case 3: dx = w - 1 - x; dy = h - 1 - y; break;
        case 4: dx = x; dy = h - 1 - y; break;
        case 5: dx = y; dy = x; break;
        case 6: dx = h - 1 - y; dy = x; break;
        case 7: dx = h - 1 - y; dy = w - 1 - x; break;
        default: dx = y; dy = w - 1 - x; break;
      }
      const s = (y * w + x) * 3;
      const d = (dy * outW + dx) * 3;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
    }
  }
  return { width: outW, height: swap ? w : h, data: out };
}
