/**
 * ICO container parsing: a directory of images, each either a PNG or a headerless DIB. facepipe
 * decodes the largest entry (most pixels, then most bits per pixel).
 */
import { FacepipeError } from '@facepipe/core/light';

/** One entry of an icon directory. Width/height 0 in the file mean 256. */
export interface IcoEntry {
  readonly width: number;
  readonly height: number;
  readonly bitsPerPixel: number;
  readonly offset: number;
  readonly size: number;
}

/** Reads the icon directory; entries whose data lies outside the file are dropped. */
export function readIcoDirectory(bytes: Uint8Array): IcoEntry[] {
  if (bytes.length < 6) throw new FacepipeError('TRUNCATED_IMAGE', 'ICO: directory cut short');
  const count = bytes[4]! | (bytes[5]! << 8);
  if (6 + count * 16 > bytes.length) throw new FacepipeError('TRUNCATED_IMAGE', 'ICO: directory cut short');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: IcoEntry[] = [];
  let outside = 0;
  for (let i = 0; i < count; i++) {
    const o = 6 + i * 16;
    const entry: IcoEntry = {
      width: bytes[o] || 256,
      height: bytes[o + 1] || 256,
      bitsPerPixel: view.getUint16(o + 6, true),
      size: view.getUint32(o + 8, true),
      offset: view.getUint32(o + 12, true),
    };
    if (entry.size === 0 || entry.offset < 6 + count * 16) continue;
    if (entry.offset + entry.size > bytes.length) {
      outside++;
      continue;
    }
    entries.push(entry);
  }
  if (entries.length === 0) {
    throw outside > 0
      ? new FacepipeError('TRUNCATED_IMAGE', 'ICO: image data cut short')
      : new FacepipeError('CORRUPT_IMAGE', 'ICO: no usable image entry');
  }
  return entries;
}

/** The entry facepipe decodes: most pixels, then deepest colour. */
export function selectIcoEntry(entries: readonly IcoEntry[]): IcoEntry {
  return entries.reduce((best, e) => {
    const a = e.width * e.height;
    const b = best.width * best.height;
    return a > b || (a === b && e.bitsPerPixel > best.bitsPerPixel) ? e : best;
  });
}

/** The bytes of one entry (a view, not a copy). */
export function icoEntryBytes(bytes: Uint8Array, entry: IcoEntry): Uint8Array {
  return bytes.subarray(entry.offset, entry.offset + entry.size);
}
