/**
 * Turning decoder failures into typed errors. libvips' messages do not always say that a file
 * was cut short (libpng reports "read error", libtiff "unsupported image format"), so after a
 * failure the container structure is checked for data that ends early.
 */
import { FacepipeError } from '@facepipe/core/light';
import { readHeifStructure } from './isobmff.js';
import type { ImageFormat } from './sniff.js';

const TRUNCATION_MESSAGE = /premature end|unexpected end|truncat|end of (file|data|stream|input)|not enough data|short read|outside of file bounds/i;

function lastIndexOfPair(bytes: Uint8Array, a: number, b: number, from = bytes.length - 2): number {
  for (let i = from; i >= 0; i--) if (bytes[i] === a && bytes[i + 1] === b) return i;
  return -1;
}

/** JPEG: no end-of-image marker after the last start-of-scan. */
function jpegTruncated(bytes: Uint8Array): boolean {
  const sos = lastIndexOfPair(bytes, 0xff, 0xda);
  if (sos < 0) return true;
  return lastIndexOfPair(bytes, 0xff, 0xd9) < sos;
}

function isChunkLetter(byte: number): boolean {
  return (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a);
}

/**
 * PNG: a well-formed chunk runs past the end, or the stream ends before IEND. A chunk whose type
 * is not four letters means damage, not truncation.
 */
function pngTruncated(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset);
    for (let i = 4; i < 8; i++) if (!isChunkLetter(bytes[offset + i]!)) return false;
    const type = String.fromCharCode(bytes[offset + 4]!, bytes[offset + 5]!, bytes[offset + 6]!, bytes[offset + 7]!);
    const next = offset + 12 + length;
    if (next > bytes.length) return length < 0x80000000;
    if (type === 'IEND') return false;
    offset = next;
  }
  return true;
}

/** WebP: the RIFF size field claims more bytes than there are. */
function webpTruncated(bytes: Uint8Array): boolean {
  if (bytes.length < 12) return true;
  const size = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(4, true);
  return 8 + size > bytes.length;
}

/** GIF: no trailer byte (0x3B) at the end. */
function gifTruncated(bytes: Uint8Array): boolean {
  return bytes[bytes.length - 1] !== 0x3b;
}

/** Bytes per value of each TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL, ..., LONG8, IFD8). */
const TIFF_TYPE_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8 };

/**
 * TIFF (classic, not BigTIFF): the first IFD, an out-of-line tag value (e.g. JPEG tables), or a
 * strip or tile it points to lies past the end.
 */
function tiffTruncated(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return true;
  const le = bytes[0] === 0x49;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(2, le) !== 42) return false;
  const ifd = view.getUint32(4, le);
  if (ifd + 2 > bytes.length) return true;
  const count = view.getUint16(ifd, le);
  if (ifd + 2 + count * 12 > bytes.length) return true;

  /** The entry's values (SHORT/LONG only), or null; Infinity marks values stored past the end. */
  const readEntry = (entry: number): number[] | null => {
    const type = view.getUint16(entry + 2, le);
    const n = view.getUint32(entry + 4, le);
    const size = TIFF_TYPE_SIZE[type];
    if (size === undefined) return null;
    const inline = n * size <= 4;
    const start = inline ? entry + 8 : view.getUint32(entry + 8, le);
    if (start + n * size > bytes.length) return [Number.POSITIVE_INFINITY];
    if (size !== 2 && size !== 4) return null;
    const values: number[] = [];
    for (let i = 0; i < n; i++) values.push(size === 2 ? view.getUint16(start + i * 2, le) : view.getUint32(start + i * 4, le));
    return values;
  };

  const tags = new Map<number, number[] | null>();
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    const values = readEntry(entry);
    if (values?.[0] === Number.POSITIVE_INFINITY) return true;
    tags.set(view.getUint16(entry, le), values);
  }
  for (const [offsetsTag, countsTag] of [[273, 279], [324, 325]] as const) {
    const offsets = tags.get(offsetsTag);
    const counts = tags.get(countsTag);
    if (!offsets || !counts) continue;
    for (let i = 0; i < offsets.length; i++) if (offsets[i]! + (counts[i] ?? 0) > bytes.length) return true;
  }
  return false;
}

/** Formats whose truncation {@link looksTruncated} can tell from the container structure. */
const STRUCTURE_CHECKED: ReadonlySet<ImageFormat> = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif', 'heic']);

/**
 * True when the container structure shows the data stops early. Only consulted after a decoder
 * failed, so a false positive on odd-but-valid files cannot reject them.
 */
export function looksTruncated(bytes: Uint8Array, format: ImageFormat): boolean {
  switch (format) {
    case 'jpeg': return jpegTruncated(bytes);
    case 'png': return pngTruncated(bytes);
    case 'webp': return webpTruncated(bytes);
    case 'gif': return gifTruncated(bytes);
    case 'tiff': return tiffTruncated(bytes);
    case 'avif':
    case 'heic': return readHeifStructure(bytes).truncation !== null;
    default: return false;
  }
}

/**
 * Maps anything a decoder threw to a typed error: pixel-limit → IMAGE_TOO_LARGE, data that ends
 * early → TRUNCATED_IMAGE, anything else → CORRUPT_IMAGE (the signature was recognised, so the
 * bytes claim to be this format and are not).
 *
 * Truncation is decided from the bytes alone ({@link looksTruncated}), never from the message:
 * libvips keeps one error buffer for the whole process, so when several decodes fail at once on
 * sharp's thread pool a failure can carry another file's message, or none ("Unknown error"), and
 * a message-based code would depend on load. The message is kept only as detail.
 */
export function classifyDecodeError(err: unknown, bytes: Uint8Array, format: ImageFormat): FacepipeError {
  if (err instanceof FacepipeError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const detail = message.replace(/\s+/g, ' ').trim().slice(0, 300);
  if (/exceeds pixel limit/i.test(message)) {
    return new FacepipeError('IMAGE_TOO_LARGE', `${format}: ${detail}`, { cause: err });
  }
  if (STRUCTURE_CHECKED.has(format) ? looksTruncated(bytes, format) : TRUNCATION_MESSAGE.test(message)) {
    return new FacepipeError('TRUNCATED_IMAGE', `${format} data is cut short: ${detail}`, { cause: err });
  }
  return new FacepipeError('CORRUPT_IMAGE', `${format} could not be decoded: ${detail}`, { cause: err });
}
