import sharp from 'sharp';
import { FacepipeError, type Point } from '@facepipe/core/light';
import { extractFaceChip } from '../geometry/index.js';
import type { RgbImage } from '../image/index.js';

/** dlib's face chip for the recognition network: 150×150 with 0.25 padding. */
export const CHIP_SIZE = 150;
export const CHIP_PADDING = 0.25;

/**
 * Aligned chips for faces of one image, as 8-bit RGB chips one after another
 * (`count × size × size × 3`). Chips are rounded to 8 bits here, once, so a chip embedded in
 * process and one stored as PNG and embedded by another worker give the same embedding.
 */
export function alignFaces(img: RgbImage, landmarks: readonly (readonly Point[])[], size = CHIP_SIZE, padding = CHIP_PADDING): Uint8Array {
  const per = size * size * 3;
  const chips = new Uint8Array(per * landmarks.length);
  const scratch = new Float32Array(per);
  landmarks.forEach((points, i) => {
    extractFaceChip(img.data, img.width, img.height, points, { size, padding, out: scratch, outOffset: 0 });
    const base = i * per;
    for (let j = 0; j < per; j++) {
      const v = scratch[j]!;
      // (v + 0.5) | 0 is Math.round(v) for 0 < v < 255, without the call.
      chips[base + j] = v <= 0 ? 0 : v >= 255 ? 255 : (v + 0.5) | 0;
    }
  });
  return chips;
}

/**
 * Stacks chips top to bottom into one lossless WebP: what versions before the raw chips stored
 * (bench/chip-formats.ts compares the two).
 */
export async function encodeChips(chips: Uint8Array, count: number, size = CHIP_SIZE): Promise<Buffer> {
  return sharp(chips, { raw: { width: size, height: size * count, channels: 3 } })
    .webp({ lossless: true, effort: 0 })
    .toBuffer();
}

/**
 * Raw RGB chips as stored (chip after chip): the same bytes, checked to hold a whole number of
 * `size`×`size` chips. A copy, so the stored buffer may be let go.
 */
export function rawChips(stored: Uint8Array, size = CHIP_SIZE): { chips: Uint8Array; count: number } {
  const per = size * size * 3;
  if (stored.length === 0 || stored.length % per !== 0) {
    throw new FacepipeError('CORRUPT_IMAGE', `raw chips of ${stored.length} bytes: not a whole number of ${size}×${size} RGB chips (${per} bytes each)`);
  }
  return { chips: new Uint8Array(stored), count: stored.length / per };
}

/**
 * The chips as kept for display once embedded: lossy WebP at quality 90, effort 2, ~3.0 KB a face
 * against 21 KB lossless, for 2.6 ms of CPU a face against 4.2 at the default effort 4
 * (bench/chip-formats.ts). Never embedded again: it moves embeddings by up to 0.18, so the embed
 * stage embeds the exact chips and only then writes this.
 */
export async function encodeChipsView(chips: Uint8Array, count: number, size = CHIP_SIZE): Promise<Buffer> {
  return sharp(chips, { raw: { width: size, height: size * count, channels: 3 } })
    .webp({ quality: 90, effort: 2 })
    .toBuffer();
}

/** Reads a stacked chips image (lossless WebP, or PNG, as earlier versions stored them) back into raw RGB chips. */
export async function decodeChips(image: Uint8Array, size = CHIP_SIZE): Promise<{ chips: Uint8Array; count: number }> {
  try {
    const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    if (info.width !== size || info.height % size !== 0 || info.channels !== 3) {
      throw new FacepipeError('CORRUPT_IMAGE', `chips image is ${info.width}×${info.height}×${info.channels}, expected ${size} wide, a multiple of ${size} high, RGB`);
    }
    return { chips: new Uint8Array(data.buffer, data.byteOffset, data.length), count: info.height / size };
  } catch (err) {
    throw FacepipeError.from(err, 'CORRUPT_IMAGE');
  }
}
