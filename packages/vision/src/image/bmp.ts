/**
 * A small BMP / DIB decoder (sharp 0.35 has no BMP or ICO loader). It reads the uncompressed
 * layouts that cameras, scanners and paint programs write: 1, 4 and 8-bit palette; 16-bit (5-5-5
 * or bit fields); 24-bit BGR; 32-bit BGRX or bit fields with optional alpha. RLE, embedded JPEG/PNG
 * and OS/2 Huffman variants are reported as UNSUPPORTED_FORMAT. Every offset and size is checked
 * against the buffer before it is read, and the pixel count against the caller's limit before
 * anything is allocated.
 */
import { FacepipeError } from '@facepipe/core/light';
import type { FlattenBackground } from './types.js';

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_JPEG = 4;
const BI_PNG = 5;
const BI_ALPHABITFIELDS = 6;

/** The parsed header of a device-independent bitmap. */
export interface DibHeader {
  readonly width: number;
  /** Rows of the colour bitmap (for an icon entry: half the stored height). */
  readonly height: number;
  readonly topDown: boolean;
  readonly bitsPerPixel: number;
  readonly compression: number;
  /** Byte offset of the first palette entry. */
  readonly paletteOffset: number;
  readonly paletteEntries: number;
  /** 3 for the old OS/2 core header, else 4 (B, G, R, reserved). */
  readonly paletteEntrySize: number;
  /** Byte offset of the first pixel row. */
  readonly pixelOffset: number;
  /** Bytes per stored row, padded to 4. */
  readonly rowStride: number;
  /** Channel masks for 16/32-bit data. */
  readonly masks: { readonly r: number; readonly g: number; readonly b: number; readonly a: number } | null;
}

const corrupt = (why: string): FacepipeError => new FacepipeError('CORRUPT_IMAGE', `BMP: ${why}`);

function u16(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8);
}
function u32(b: Uint8Array, o: number): number {
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}
function i32(b: Uint8Array, o: number): number {
  return b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24);
}

/**
 * Parses the DIB header starting at `dibOffset`.
 * @param pixelOffset where the pixels start (from the file header), or null for an icon entry,
 *   where they follow the header, masks and palette directly.
 * @param isIconEntry icon entries store twice the height (colour bitmap + AND mask).
 */
export function parseDibHeader(bytes: Uint8Array, dibOffset: number, pixelOffset: number | null, isIconEntry: boolean): DibHeader {
  if (dibOffset + 16 > bytes.length) throw new FacepipeError('TRUNCATED_IMAGE', 'BMP: header cut short');
  const size = u32(bytes, dibOffset);
  if (size !== 12 && size < 16) throw corrupt(`unknown header size ${size}`);
  if (dibOffset + Math.min(size, 64) > bytes.length) throw new FacepipeError('TRUNCATED_IMAGE', 'BMP: header cut short');

  let width: number;
  let storedHeight: number;
  let bitsPerPixel: number;
  let compression = BI_RGB;
  let colorsUsed = 0;
  let paletteEntrySize = 4;
  if (size === 12) {
    width = u16(bytes, dibOffset + 4);
    storedHeight = (u16(bytes, dibOffset + 6) << 16) >> 16;
    bitsPerPixel = u16(bytes, dibOffset + 10);
    paletteEntrySize = 3;
  } else {
    width = i32(bytes, dibOffset + 4);
    storedHeight = i32(bytes, dibOffset + 8);
    bitsPerPixel = u16(bytes, dibOffset + 14);
    if (size >= 20) compression = u32(bytes, dibOffset + 16);
    if (size >= 36) colorsUsed = u32(bytes, dibOffset + 32);
  }
  const os2v2 = size === 16 || size === 64;
  if (compression === BI_RLE8 || compression === BI_RLE4 || compression === BI_JPEG || compression === BI_PNG || (os2v2 && compression !== BI_RGB)) {
    throw new FacepipeError('UNSUPPORTED_FORMAT', `BMP compression ${compression} is not supported`);
  }
  if (compression !== BI_RGB && compression !== BI_BITFIELDS && compression !== BI_ALPHABITFIELDS) {
    throw corrupt(`unknown compression ${compression}`);
  }
  if (![1, 4, 8, 16, 24, 32].includes(bitsPerPixel)) throw corrupt(`unsupported bit depth ${bitsPerPixel}`);
  if (compression !== BI_RGB && bitsPerPixel !== 16 && bitsPerPixel !== 32) throw corrupt('bit fields need 16 or 32 bits per pixel');

  const topDown = storedHeight < 0;
  let height = Math.abs(storedHeight);
  if (isIconEntry) height = Math.floor(height / 2);
  if (width <= 0 || height <= 0) throw corrupt(`invalid dimensions ${width}x${storedHeight}`);

  let masks: DibHeader['masks'] = null;
  let afterHeader = dibOffset + size;
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    const inHeader = size >= 52;
    const maskBase = dibOffset + 40;
    const maskCount = inHeader ? (size >= 56 ? 4 : 3) : compression === BI_ALPHABITFIELDS ? 4 : 3;
    if (maskBase + maskCount * 4 > bytes.length) throw new FacepipeError('TRUNCATED_IMAGE', 'BMP: bit masks cut short');
    masks = {
      r: u32(bytes, maskBase),
      g: u32(bytes, maskBase + 4),
      b: u32(bytes, maskBase + 8),
      a: maskCount === 4 ? u32(bytes, maskBase + 12) : 0,
    };
    if (!inHeader) afterHeader += maskCount * 4;
  } else if (bitsPerPixel === 16) {
    masks = { r: 0x7c00, g: 0x03e0, b: 0x001f, a: 0 };
  } else if (bitsPerPixel === 32) {
    // BI_RGB 32-bit is B,G,R,X. Icons use the fourth byte as alpha; plain BMP files do not.
    masks = { r: 0x00ff0000, g: 0x0000ff00, b: 0x000000ff, a: isIconEntry ? 0xff000000 : 0 };
  }

  let paletteEntries = 0;
  if (bitsPerPixel <= 8) {
    const maxEntries = 1 << bitsPerPixel;
    paletteEntries = colorsUsed > 0 && colorsUsed < maxEntries ? colorsUsed : maxEntries;
  }
  const paletteOffset = afterHeader;
  const paletteEnd = paletteOffset + paletteEntries * paletteEntrySize;
  if (paletteEnd > bytes.length) throw new FacepipeError('TRUNCATED_IMAGE', 'BMP: palette cut short');

  const rowStride = Math.floor((width * bitsPerPixel + 31) / 32) * 4;
  const pixels = pixelOffset ?? paletteEnd;
  if (pixels < 0 || pixels > bytes.length) throw corrupt(`pixel data offset ${pixels} is outside the file`);
  return { width, height, topDown, bitsPerPixel, compression, paletteOffset, paletteEntries, paletteEntrySize, pixelOffset: pixels, rowStride, masks };
}

/** Parses a BMP file's 14-byte file header and its DIB header. */
export function parseBmpHeader(bytes: Uint8Array): DibHeader {
  if (bytes.length < 26 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw corrupt('missing BM signature');
  return parseDibHeader(bytes, 14, u32(bytes, 10), false);
}

/** A contiguous bit mask as shift + width, for scaling a field to 0..255. */
interface MaskField {
  readonly mask: number;
  readonly shift: number;
  readonly max: number;
}

function maskField(mask: number): MaskField | null {
  if (mask === 0) return null;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  const bits = (mask >>> shift).toString(2);
  if (bits.includes('0')) throw corrupt(`non-contiguous bit mask 0x${mask.toString(16)}`);
  return { mask: mask >>> 0, shift, max: 2 ** bits.length - 1 };
}

function readField(value: number, f: MaskField): number {
  return Math.round((((value & f.mask) >>> 0) >>> f.shift) * 255 / f.max);
}

export interface DecodedBitmap {
  readonly width: number;
  readonly height: number;
  /** RGB, row-major, top row first. */
  readonly data: Uint8Array;
  readonly hadAlpha: boolean;
}

/**
 * Decodes the pixels a {@link DibHeader} describes into RGBA (top row first). Throws
 * TRUNCATED_IMAGE when the rows extend past the end of the buffer.
 */
function decodeDibRgba(bytes: Uint8Array, h: DibHeader): Uint8Array {
  const { width, height, rowStride, bitsPerPixel: bpp, pixelOffset } = h;
  if (pixelOffset + rowStride * height > bytes.length) throw new FacepipeError('TRUNCATED_IMAGE', 'BMP: pixel data cut short');
  const out = new Uint8Array(width * height * 4);
  const palette = new Uint8Array(256 * 3);
  for (let i = 0; i < h.paletteEntries; i++) {
    const o = h.paletteOffset + i * h.paletteEntrySize;
    palette[i * 3] = bytes[o + 2]!;
    palette[i * 3 + 1] = bytes[o + 1]!;
    palette[i * 3 + 2] = bytes[o]!;
  }
  const m = h.masks;
  const fr = m ? maskField(m.r) : null;
  const fg = m ? maskField(m.g) : null;
  const fb = m ? maskField(m.b) : null;
  const fa = m ? maskField(m.a) : null;

  for (let row = 0; row < height; row++) {
    const src = pixelOffset + (h.topDown ? row : height - 1 - row) * rowStride;
    let dst = row * width * 4;
    for (let x = 0; x < width; x++, dst += 4) {
      if (bpp <= 8) {
        const perByte = 8 / bpp;
        const byte = bytes[src + Math.floor(x / perByte)]!;
        const shift = 8 - bpp * ((x % perByte) + 1);
        const index = (byte >> shift) & ((1 << bpp) - 1);
        // Indices past the palette read as black, as browsers do.
        const ok = index < h.paletteEntries;
        out[dst] = ok ? palette[index * 3]! : 0;
        out[dst + 1] = ok ? palette[index * 3 + 1]! : 0;
        out[dst + 2] = ok ? palette[index * 3 + 2]! : 0;
        out[dst + 3] = 255;
      } else if (bpp === 24) {
        const o = src + x * 3;
        out[dst] = bytes[o + 2]!;
        out[dst + 1] = bytes[o + 1]!;
        out[dst + 2] = bytes[o]!;
        out[dst + 3] = 255;
      } else {
        const value = bpp === 16 ? u16(bytes, src + x * 2) : u32(bytes, src + x * 4);
        out[dst] = fr ? readField(value, fr) : 0;
        out[dst + 1] = fg ? readField(value, fg) : 0;
        out[dst + 2] = fb ? readField(value, fb) : 0;
        out[dst + 3] = fa ? readField(value, fa) : 255;
      }
    }
  }
  return out;
}

/** Applies an icon's 1-bit AND mask (1 = transparent) to RGBA, if the mask is present in full. */
function applyAndMask(bytes: Uint8Array, h: DibHeader, rgba: Uint8Array): void {
  const maskStride = Math.floor((h.width + 31) / 32) * 4;
  const maskOffset = h.pixelOffset + h.rowStride * h.height;
  if (maskOffset + maskStride * h.height > bytes.length) return;
  for (let row = 0; row < h.height; row++) {
    const src = maskOffset + (h.topDown ? row : h.height - 1 - row) * maskStride;
    for (let x = 0; x < h.width; x++) {
      if ((bytes[src + (x >> 3)]! >> (7 - (x & 7))) & 1) rgba[(row * h.width + x) * 4 + 3] = 0;
    }
  }
}

/** Composites RGBA onto a solid background and drops alpha. */
export function flattenRgba(rgba: Uint8Array, background: FlattenBackground): { data: Uint8Array; hadAlpha: boolean } {
  const n = rgba.length / 4;
  const bg = background === 'white' ? 255 : 0;
  const out = new Uint8Array(n * 3);
  let hadAlpha = false;
  for (let i = 0; i < n; i++) {
    const a = rgba[i * 4 + 3]!;
    if (a !== 255) hadAlpha = true;
    for (let c = 0; c < 3; c++) out[i * 3 + c] = Math.round((rgba[i * 4 + c]! * a + bg * (255 - a)) / 255);
  }
  return { data: out, hadAlpha };
}

function alphaAllZero(rgba: Uint8Array): boolean {
  for (let i = 3; i < rgba.length; i += 4) if (rgba[i] !== 0) return false;
  return true;
}

function setOpaque(rgba: Uint8Array): void {
  for (let i = 3; i < rgba.length; i += 4) rgba[i] = 255;
}

/**
 * Decodes a DIB described by `h` to RGB. An alpha channel that is zero everywhere is treated as
 * absent (many writers leave the fourth byte at 0); icon entries then fall back to their AND mask.
 */
export function decodeDib(bytes: Uint8Array, h: DibHeader, isIconEntry: boolean, background: FlattenBackground): DecodedBitmap {
  const rgba = decodeDibRgba(bytes, h);
  const hasAlphaField = h.masks !== null && h.masks.a !== 0;
  const alphaUsable = hasAlphaField && !alphaAllZero(rgba);
  if (hasAlphaField && !alphaUsable) setOpaque(rgba);
  if (isIconEntry && !alphaUsable) applyAndMask(bytes, h, rgba);
  const { data, hadAlpha } = flattenRgba(rgba, background);
  return { width: h.width, height: h.height, data, hadAlpha };
}
