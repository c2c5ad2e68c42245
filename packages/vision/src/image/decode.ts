/**
 * Untrusted bytes → upright 8-bit sRGB pixels, or a typed error.
 *
 * Order of checks (each before any pixel memory is allocated): empty → EMPTY_INPUT; over
 * `maxBytes` → FILE_TOO_LARGE; magic bytes → NOT_AN_IMAGE / UNSUPPORTED_FORMAT; header
 * dimensions against `maxPixels` → IMAGE_TOO_LARGE. Only then is the image decoded, once, straight
 * to raw RGB with EXIF orientation applied, alpha flattened and colour converted to sRGB.
 * JPEG, PNG, WebP, GIF (first frame), TIFF (first page) and AVIF go through sharp/libvips; BMP and
 * ICO, which sharp 0.35 cannot read, through the small decoders in `bmp.ts` / `ico.ts`; HEIC
 * (HEVC), which sharp's prebuilt libvips cannot decode, through libheif-js in a worker thread.
 *
 * HEIF files (AVIF and HEIC) have their box structure checked first (`isobmff.ts`): a box or an
 * item's data that reaches past the end is TRUNCATED_IMAGE before any decoder runs, so the code
 * depends on the bytes alone (libheif/aom under sharp's thread pool reported the same truncated
 * AVIF as "Unknown error" or as truncated depending on load).
 */
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { FacepipeError } from '@facepipe/core/light';
import { decodeDib, parseBmpHeader, parseDibHeader, type DibHeader } from './bmp.js';
import { classifyDecodeError } from './decode-errors.js';
import { sharedHeifDecodePool } from './heif-decode-pool.js';
import { icoEntryBytes, readIcoDirectory, selectIcoEntry } from './ico.js';
import { exifOrientation, readHeifStructure, type HeifStructure } from './isobmff.js';
import { orientRgb } from './orientation.js';
import { sniffFormat, type ImageFormat } from './sniff.js';
import type { DecodedImage, DecodeOptions, FlattenBackground, ImageProbe } from './types.js';

/** The libvips loader name each sharp-decoded format must report. */
const SHARP_FORMAT: Partial<Record<ImageFormat, string>> = {
  jpeg: 'jpeg', png: 'png', webp: 'webp', gif: 'gif', tiff: 'tiff', avif: 'heif',
};

function validateOptions(opts: DecodeOptions): void {
  if (!(Number.isFinite(opts.maxPixels) && opts.maxPixels >= 1)) throw new RangeError(`maxPixels must be a positive number, got ${opts.maxPixels}`);
  if (opts.maxBytes !== undefined && !(opts.maxBytes >= 1)) throw new RangeError(`maxBytes must be a positive number, got ${opts.maxBytes}`);
}

/** Cheap checks on the raw bytes: emptiness, size, signature. Returns the supported format. */
function checkInput(bytes: Uint8Array, opts: DecodeOptions): ImageFormat {
  validateOptions(opts);
  if (bytes.length === 0) throw new FacepipeError('EMPTY_INPUT', 'the input has 0 bytes');
  if (opts.maxBytes !== undefined && bytes.length > opts.maxBytes) {
    throw new FacepipeError('FILE_TOO_LARGE', `the input has ${bytes.length} bytes, more than the limit of ${opts.maxBytes}`);
  }
  const sniffed = sniffFormat(bytes);
  if (sniffed.kind === 'unknown') throw new FacepipeError('NOT_AN_IMAGE', 'the bytes match no known image format');
  if (sniffed.kind === 'unsupported') throw new FacepipeError('UNSUPPORTED_FORMAT', `${sniffed.format} images are not supported`);
  return sniffed.format;
}

function checkPixels(width: number, height: number, opts: DecodeOptions, format: string): void {
  if (width * height > opts.maxPixels) {
    throw new FacepipeError('IMAGE_TOO_LARGE', `${format} is ${width}x${height} = ${width * height} pixels, more than the limit of ${opts.maxPixels}`);
  }
}

function normaliseOrientation(value: number | undefined): number {
  return value !== undefined && Number.isInteger(value) && value >= 1 && value <= 8 ? value : 1;
}

function probeOf(format: ImageFormat, originalWidth: number, originalHeight: number, orientation: number): ImageProbe {
  const swap = orientation >= 5;
  return {
    format,
    width: swap ? originalHeight : originalWidth,
    height: swap ? originalWidth : originalHeight,
    orientation,
    originalWidth,
    originalHeight,
  };
}

// --- sharp path -------------------------------------------------------------------------------

/** Reads the header through libvips (no pixel decoding) and checks it is the sniffed format. */
async function sharpHeader(bytes: Uint8Array, format: ImageFormat): Promise<Metadata> {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { failOn: 'error', limitInputPixels: false }).metadata();
  } catch (err) {
    throw classifyDecodeError(err, bytes, format);
  }
  if (meta.format !== SHARP_FORMAT[format]) {
    throw new FacepipeError('CORRUPT_IMAGE', `the bytes start like ${format} but decode as ${meta.format}`);
  }
  if (format === 'avif' && meta.compression !== 'av1') {
    throw new FacepipeError('UNSUPPORTED_FORMAT', `HEIF with ${meta.compression ?? 'unknown'} compression is not supported`);
  }
  if (!(meta.width > 0 && meta.height > 0)) throw new FacepipeError('CORRUPT_IMAGE', `${format} header has no dimensions`);
  return meta;
}

function sharpProbe(meta: Metadata, format: ImageFormat, reportAs: ImageFormat): ImageProbe {
  // Multi-page inputs (animated GIF/WebP, multi-page TIFF): only the first page is decoded.
  const height = meta.pageHeight ?? meta.height;
  return probeOf(reportAs, meta.width, height, normaliseOrientation(meta.orientation));
}

async function sharpDecode(bytes: Uint8Array, format: ImageFormat, reportAs: ImageFormat, opts: DecodeOptions): Promise<DecodedImage> {
  const meta = await sharpHeader(bytes, format);
  const probe = sharpProbe(meta, format, reportAs);
  checkPixels(probe.originalWidth, probe.originalHeight, opts, reportAs);
  const background = opts.background === 'white' ? '#ffffff' : '#000000';
  let result: { data: Buffer; info: OutputInfo };
  try {
    let pipeline = sharp(bytes, { failOn: 'error', limitInputPixels: Math.max(1, Math.floor(opts.maxPixels)), autoOrient: true, pages: 1 });
    if (meta.hasAlpha) pipeline = pipeline.flatten({ background });
    result = await pipeline.toColourspace('srgb').raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw classifyDecodeError(err, bytes, format);
  }
  const { data, info } = result;
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
    throw new FacepipeError('CORRUPT_IMAGE', `${reportAs} decoded to ${info.width}x${info.height}x${info.channels}, expected 3 channels`);
  }
  return {
    ...probe,
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    hadAlpha: meta.hasAlpha,
  };
}

// --- HEIF path ---------------------------------------------------------------------------------

/** The box structure of an AVIF/HEIC file; TRUNCATED_IMAGE when it shows the bytes stop early. */
function heifStructure(bytes: Uint8Array, format: ImageFormat): HeifStructure {
  const structure = readHeifStructure(bytes);
  if (structure.truncation) throw new FacepipeError('TRUNCATED_IMAGE', `${format} data is cut short: ${structure.truncation}`);
  return structure;
}

/**
 * HEIC size and orientation from the container. With `irot`/`imir` the decoder turns the image
 * itself (and EXIF orientation, which then describes the coded image, must be ignored); without
 * them the EXIF orientation is applied, as for JPEG.
 */
function heicProbe(structure: HeifStructure): ImageProbe {
  if (!structure.primarySize) throw new FacepipeError('CORRUPT_IMAGE', 'heic primary image declares no size (ispe)');
  const { width, height } = structure.primarySize;
  if (structure.primaryHasTransforms) {
    const swap = structure.primaryQuarterTurns % 2 === 1;
    return probeOf('heic', swap ? height : width, swap ? width : height, 1);
  }
  return probeOf('heic', width, height, structure.exif ? exifOrientation(structure.exif) : 1);
}

async function heicDecode(bytes: Uint8Array, opts: DecodeOptions): Promise<DecodedImage> {
  const probe = heicProbe(heifStructure(bytes, 'heic'));
  checkPixels(probe.originalWidth, probe.originalHeight, opts, 'heic');
  const coded = await sharedHeifDecodePool().decode(bytes, Math.max(1, Math.floor(opts.maxPixels)), opts.background ?? 'black');
  const upright = orientRgb(coded, probe.orientation);
  return { ...probe, width: upright.width, height: upright.height, data: upright.data, hadAlpha: coded.hadAlpha };
}

// --- BMP / ICO path ---------------------------------------------------------------------------

type IcoPayload = { kind: 'png'; bytes: Uint8Array } | { kind: 'dib'; bytes: Uint8Array; header: DibHeader };

function icoPayload(bytes: Uint8Array): IcoPayload {
  const entry = selectIcoEntry(readIcoDirectory(bytes));
  const payload = icoEntryBytes(bytes, entry);
  const sniffed = sniffFormat(payload);
  if (sniffed.kind === 'supported' && sniffed.format === 'png') return { kind: 'png', bytes: payload };
  return { kind: 'dib', bytes: payload, header: parseDibHeader(payload, 0, null, true) };
}

function decodeBitmap(bytes: Uint8Array, header: DibHeader, isIcon: boolean, format: ImageFormat, background: FlattenBackground): DecodedImage {
  const bitmap = decodeDib(bytes, header, isIcon, background);
  return { ...probeOf(format, bitmap.width, bitmap.height, 1), data: bitmap.data, hadAlpha: bitmap.hadAlpha };
}

// --- public API -------------------------------------------------------------------------------

/**
 * Reads the format, dimensions and EXIF orientation from the header only (no pixel decoding),
 * for validating uploads. Throws the same typed errors as {@link decodeImage} for empty, oversized,
 * unrecognised, unsupported and over-the-pixel-limit inputs; damage inside the pixel data is only
 * found by decoding.
 */
export async function probeImage(bytes: Uint8Array, opts: DecodeOptions): Promise<ImageProbe> {
  const format = checkInput(bytes, opts);
  let probe: ImageProbe;
  if (format === 'bmp') {
    const h = parseBmpHeader(bytes);
    probe = probeOf('bmp', h.width, h.height, 1);
  } else if (format === 'ico') {
    const payload = icoPayload(bytes);
    probe = payload.kind === 'png'
      ? sharpProbe(await sharpHeader(payload.bytes, 'png'), 'png', 'ico')
      : probeOf('ico', payload.header.width, payload.header.height, 1);
  } else if (format === 'heic') {
    probe = heicProbe(heifStructure(bytes, format));
  } else {
    if (format === 'avif') heifStructure(bytes, format);
    probe = sharpProbe(await sharpHeader(bytes, format), format, format);
  }
  checkPixels(probe.originalWidth, probe.originalHeight, opts, format);
  return probe;
}

/**
 * Decodes an image once into upright 8-bit sRGB.
 *
 * - EXIF orientation (1..8) is applied; `width`/`height` are after it, `originalWidth`/
 *   `originalHeight` as stored, and `orientation` is the value that was applied (1 if none).
 * - Alpha is composited onto `opts.background` (default black, as face-api's canvas input saw it).
 * - Grayscale, CMYK, 16-bit, palette and ICC-tagged inputs are converted to 8-bit sRGB.
 * - Animated GIF/WebP and multi-page TIFF: the first frame/page.
 *
 * @throws FacepipeError with EMPTY_INPUT, FILE_TOO_LARGE, NOT_AN_IMAGE, UNSUPPORTED_FORMAT,
 *   IMAGE_TOO_LARGE, TRUNCATED_IMAGE or CORRUPT_IMAGE.
 */
export async function decodeImage(bytes: Uint8Array, opts: DecodeOptions): Promise<DecodedImage> {
  const format = checkInput(bytes, opts);
  const background = opts.background ?? 'black';
  if (format === 'bmp') {
    const header = parseBmpHeader(bytes);
    checkPixels(header.width, header.height, opts, format);
    return decodeBitmap(bytes, header, false, format, background);
  }
  if (format === 'ico') {
    const payload = icoPayload(bytes);
    if (payload.kind === 'png') return sharpDecode(payload.bytes, 'png', 'ico', opts);
    checkPixels(payload.header.width, payload.header.height, opts, format);
    return decodeBitmap(payload.bytes, payload.header, true, format, background);
  }
  if (format === 'heic') return heicDecode(bytes, opts);
  if (format === 'avif') heifStructure(bytes, format);
  return sharpDecode(bytes, format, format, opts);
}
