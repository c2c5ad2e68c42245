/**
 * Format detection from magic bytes, before any decoder sees the data. Only formats in
 * {@link SUPPORTED_FORMATS} are ever handed to a decoder; everything else recognised is reported as
 * unsupported (never rasterised), and unrecognised bytes as "not an image".
 */

/**
 * Formats facepipe decodes. `ico` covers icons with PNG or BMP (DIB) entries; `avif` is AV1-coded
 * HEIF; `heic` the other HEIF brands (HEVC-coded, iPhone photos), decoded by libheif-js.
 */
export const SUPPORTED_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'bmp', 'ico', 'avif', 'heic'] as const;
export type ImageFormat = (typeof SUPPORTED_FORMATS)[number];

/**
 * Image formats recognised by their signature but refused. SVG and PDF are documents that would
 * need a renderer (never run on untrusted input); the others have no decoder in this build.
 */
export const UNSUPPORTED_FORMATS = [
  'svg', 'pdf', 'jp2', 'jxl', 'psd', 'cur', 'pnm', 'exr', 'qoi', 'hdr', 'fits',
] as const;
export type UnsupportedImageFormat = (typeof UNSUPPORTED_FORMATS)[number];

export type SniffResult =
  | { kind: 'supported'; format: ImageFormat }
  | { kind: 'unsupported'; format: UnsupportedImageFormat }
  | { kind: 'unknown' };

function startsWith(bytes: Uint8Array, sig: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (bytes[offset + i] !== sig[i]) return false;
  return true;
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < Math.min(end, bytes.length); i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs', 'mif1', 'msf1', 'mif2']);
const AVIF_BRANDS = new Set(['avif', 'avis']);

/** ISO-BMFF `ftyp` box: AVIF if any brand says so, HEIC for the other HEIF brands, otherwise null. */
function sniffHeif(bytes: Uint8Array): 'avif' | 'heic' | null {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== 'ftyp') return null;
  const boxSize = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  const end = Math.min(bytes.length, boxSize >= 16 ? boxSize : 16, 4096);
  const brands = [ascii(bytes, 8, 12)];
  for (let off = 16; off + 4 <= end; off += 4) brands.push(ascii(bytes, off, off + 4));
  if (brands.some((b) => AVIF_BRANDS.has(b))) return 'avif';
  if (brands.some((b) => HEIC_BRANDS.has(b))) return 'heic';
  return null;
}

/** True when the bytes look like an XML/SVG text document (after an optional BOM and whitespace). */
function looksLikeSvg(bytes: Uint8Array): boolean {
  let i = 0;
  if (startsWith(bytes, [0xef, 0xbb, 0xbf])) i = 3;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x09 || bytes[i] === 0x0a || bytes[i] === 0x0d)) i++;
  if (bytes[i] !== 0x3c /* < */) return false;
  const head = ascii(bytes, i, i + 4096).toLowerCase();
  return head.startsWith('<svg') || ((head.startsWith('<?xml') || head.startsWith('<!doctype') || head.startsWith('<!--')) && head.includes('<svg'));
}

/**
 * Identifies the container format from its leading bytes. Pure and cheap: looks at most at the
 * first 4 KiB.
 */
export function sniffFormat(bytes: Uint8Array): SniffResult {
  const supported = (format: ImageFormat): SniffResult => ({ kind: 'supported', format });
  const unsupported = (format: UnsupportedImageFormat): SniffResult => ({ kind: 'unsupported', format });

  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return supported('jpeg');
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return supported('png');
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return supported('gif');
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return supported('webp');
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return supported('tiff');
  // BigTIFF: libtiff reads it, but it is rare in uploads and mostly used for huge scans.
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) return supported('tiff');
  if (ascii(bytes, 0, 2) === 'BM' && bytes.length >= 26) return supported('bmp');
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00]) && bytes.length >= 6 && (bytes[4]! | (bytes[5]! << 8)) > 0) return supported('ico');
  if (startsWith(bytes, [0x00, 0x00, 0x02, 0x00]) && bytes.length >= 6 && (bytes[4]! | (bytes[5]! << 8)) > 0) return unsupported('cur');

  const heif = sniffHeif(bytes);
  if (heif === 'avif') return supported('avif');
  if (heif === 'heic') return supported('heic');

  if (ascii(bytes, 0, 5) === '%PDF-') return unsupported('pdf');
  if (startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20]) || startsWith(bytes, [0xff, 0x4f, 0xff, 0x51])) return unsupported('jp2');
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0x00, 0x00, 0x00, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) return unsupported('jxl');
  if (ascii(bytes, 0, 4) === '8BPS') return unsupported('psd');
  if (startsWith(bytes, [0x76, 0x2f, 0x31, 0x01])) return unsupported('exr');
  if (ascii(bytes, 0, 4) === 'qoif') return unsupported('qoi');
  if (ascii(bytes, 0, 10) === '#?RADIANCE' || ascii(bytes, 0, 6) === '#?RGBE') return unsupported('hdr');
  if (ascii(bytes, 0, 9) === 'SIMPLE  =') return unsupported('fits');
  if (bytes.length >= 3 && bytes[0] === 0x50 /* P */ && bytes[1]! >= 0x31 && bytes[1]! <= 0x37 && [0x20, 0x09, 0x0a, 0x0d].includes(bytes[2]!)) {
    return unsupported('pnm');
  }
  if (looksLikeSvg(bytes)) return unsupported('svg');
  return { kind: 'unknown' };
}
