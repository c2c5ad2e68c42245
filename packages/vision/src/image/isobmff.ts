/**
 * The ISO base media file format (ISO/IEC 14496-12) boxes of a HEIF/AVIF still image, read from
 * the bytes alone, before any decoder runs: whether the file is complete, the primary item's
 * rotation/mirror properties and its Exif block. Pure functions, no decoding.
 */

/** One box: its type and where its payload lies. `declaredEnd` may lie past the data (truncation). */
export interface IsoBox {
  readonly type: string;
  readonly start: number;
  /** First byte after the header. */
  readonly payload: number;
  /** End as the size field declares it. */
  readonly declaredEnd: number;
}

/** Where an item's bytes are (file offsets; construction method 0, or 1 = inside `idat`). */
export interface ItemExtent {
  readonly offset: number;
  readonly length: number;
}

/** What {@link readHeifStructure} finds. */
export interface HeifStructure {
  /** Why the bytes stop early (a box or an item's extent reaches past the end), or null when complete. */
  readonly truncation: string | null;
  readonly primaryItemId: number | null;
  /** The primary item has an `irot` or `imir` property: the decoder rotates/mirrors it, and EXIF orientation must be ignored. */
  readonly primaryHasTransforms: boolean;
  /** The primary image's `ispe` size as coded (before `irot`), when declared. */
  readonly primarySize: { readonly width: number; readonly height: number } | null;
  /** Quarter turns counter-clockwise of the primary item's `irot` (0..3). */
  readonly primaryQuarterTurns: number;
  /** The bytes of the Exif item describing the primary image, when there is one inside the file. */
  readonly exif: Uint8Array | null;
}

function ascii4(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

/**
 * The boxes laid one after another in `[start, end)`. Stops at a box whose header does not fit
 * or whose size is impossible (under 8); a box whose declared end passes `end` is returned as is.
 */
export function readBoxes(bytes: Uint8Array, start: number, end: number): IsoBox[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxes: IsoBox[] = [];
  let at = start;
  while (at + 8 <= end) {
    let size = view.getUint32(at);
    const type = ascii4(bytes, at + 4);
    let payload = at + 8;
    if (size === 1) {
      if (at + 16 > end) break;
      size = Number(view.getBigUint64(at + 8));
      payload = at + 16;
    } else if (size === 0) {
      size = end - at; // "to the end of the file"
    }
    if (size < payload - at) break;
    boxes.push({ type, start: at, payload, declaredEnd: at + size });
    at += size;
  }
  return boxes;
}

/** A reader over one box payload that never reads past `end` (throws RangeError instead). */
class Cursor {
  readonly #view: DataView;
  constructor(readonly bytes: Uint8Array, public at: number, readonly end: number) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  #take(n: number): number {
    if (this.at + n > this.end) throw new RangeError('box payload too short');
    const at = this.at;
    this.at += n;
    return at;
  }
  u8(): number { return this.#view.getUint8(this.#take(1)); }
  u16(): number { return this.#view.getUint16(this.#take(2)); }
  u32(): number { return this.#view.getUint32(this.#take(4)); }
  /** An unsigned integer of 0, 4 or 8 bytes (iloc's variable-size fields). */
  uint(size: number): number {
    if (size === 0) return 0;
    if (size === 4) return this.u32();
    if (size === 8) return Number(this.#view.getBigUint64(this.#take(8)));
    throw new RangeError(`unsupported field size ${size}`);
  }
  fourcc(): string { return ascii4(this.bytes, this.#take(4)); }
}

function child(boxes: readonly IsoBox[], type: string): IsoBox | undefined {
  return boxes.find((b) => b.type === type);
}

interface ItemLocation {
  constructionMethod: number;
  extents: ItemExtent[];
}

function parseIloc(bytes: Uint8Array, box: IsoBox): Map<number, ItemLocation> {
  const c = new Cursor(bytes, box.payload, box.declaredEnd);
  const version = c.u8();
  c.at += 3;
  const sizes = c.u16();
  const offsetSize = sizes >> 12;
  const lengthSize = (sizes >> 8) & 0xf;
  const baseOffsetSize = (sizes >> 4) & 0xf;
  const indexSize = version === 1 || version === 2 ? sizes & 0xf : 0;
  const count = version < 2 ? c.u16() : c.u32();
  const items = new Map<number, ItemLocation>();
  for (let i = 0; i < count; i++) {
    const id = version < 2 ? c.u16() : c.u32();
    const constructionMethod = version === 1 || version === 2 ? c.u16() & 0xf : 0;
    c.u16(); // data_reference_index
    const base = c.uint(baseOffsetSize);
    const extentCount = c.u16();
    const extents: ItemExtent[] = [];
    for (let e = 0; e < extentCount; e++) {
      if (indexSize > 0) c.uint(indexSize);
      const offset = base + c.uint(offsetSize);
      extents.push({ offset, length: c.uint(lengthSize) });
    }
    items.set(id, { constructionMethod, extents });
  }
  return items;
}

function parseInfeTypes(bytes: Uint8Array, box: IsoBox): Map<number, string> {
  const c = new Cursor(bytes, box.payload, box.declaredEnd);
  const version = c.u8();
  c.at += 3;
  c.at += version === 0 ? 2 : 4; // entry_count
  const types = new Map<number, string>();
  for (const infe of readBoxes(bytes, c.at, box.declaredEnd)) {
    if (infe.type !== 'infe') continue;
    const e = new Cursor(bytes, infe.payload, infe.declaredEnd);
    const v = e.u8();
    e.at += 3;
    if (v < 2) continue;
    const id = v === 2 ? e.u16() : e.u32();
    e.u16(); // protection index
    types.set(id, e.fourcc());
  }
  return types;
}

/** Property boxes of `ipco` (1-based in ipma) associated with `itemId`. */
function itemProperties(bytes: Uint8Array, iprp: IsoBox, itemId: number): IsoBox[] {
  const inner = readBoxes(bytes, iprp.payload, iprp.declaredEnd);
  const ipco = child(inner, 'ipco');
  const properties = ipco ? readBoxes(bytes, ipco.payload, ipco.declaredEnd) : [];
  const found: IsoBox[] = [];
  for (const ipma of inner.filter((b) => b.type === 'ipma')) {
    const c = new Cursor(bytes, ipma.payload, ipma.declaredEnd);
    const version = c.u8();
    const flags = (c.u8() << 16) | c.u16();
    const count = c.u32();
    for (let i = 0; i < count; i++) {
      const id = version < 1 ? c.u16() : c.u32();
      const n = c.u8();
      for (let k = 0; k < n; k++) {
        const index = flags & 1 ? c.u16() & 0x7fff : c.u8() & 0x7f;
        const property = properties[index - 1];
        if (id === itemId && property) found.push(property);
      }
    }
  }
  return found;
}

/** The `cdsc` references of `iref`: described item → describing items (Exif → image). */
function describedBy(bytes: Uint8Array, iref: IsoBox): Map<number, number[]> {
  const c = new Cursor(bytes, iref.payload, iref.declaredEnd);
  const version = c.u8();
  c.at += 3;
  const out = new Map<number, number[]>();
  for (const ref of readBoxes(bytes, c.at, iref.declaredEnd)) {
    if (ref.type !== 'cdsc') continue;
    const r = new Cursor(bytes, ref.payload, ref.declaredEnd);
    const from = version === 0 ? r.u16() : r.u32();
    const n = r.u16();
    for (let i = 0; i < n; i++) {
      const to = version === 0 ? r.u16() : r.u32();
      out.set(to, [...(out.get(to) ?? []), from]);
    }
  }
  return out;
}

/**
 * Reads the structure of a HEIF/AVIF file. A top-level box or an item extent that reaches past
 * the end of the bytes is a truncation; a structure that does not parse (damage) is not reported
 * as one: the decoder then decides, and its failure is CORRUPT_IMAGE.
 */
export function readHeifStructure(bytes: Uint8Array): HeifStructure {
  const none: HeifStructure = { truncation: null, primaryItemId: null, primaryHasTransforms: false, primarySize: null, primaryQuarterTurns: 0, exif: null };
  const top = readBoxes(bytes, 0, bytes.length);
  const cut = top.find((b) => b.declaredEnd > bytes.length);
  if (cut) return { ...none, truncation: `the ${cut.type} box declares ${cut.declaredEnd - cut.start} bytes, ${cut.declaredEnd - bytes.length} more than the file has` };
  const meta = child(top, 'meta');
  if (!meta) return bytes.length < 16 ? { ...none, truncation: 'the file ends before its meta box' } : none;
  try {
    const inner = readBoxes(bytes, meta.payload + 4, meta.declaredEnd);
    const innerCut = inner.find((b) => b.declaredEnd > meta.declaredEnd);
    if (innerCut) return { ...none, truncation: `the ${innerCut.type} box runs past the end of the meta box` };
    const pitm = child(inner, 'pitm');
    let primaryItemId: number | null = null;
    if (pitm) {
      const c = new Cursor(bytes, pitm.payload, pitm.declaredEnd);
      const version = c.u8();
      c.at += 3;
      primaryItemId = version === 0 ? c.u16() : c.u32();
    }
    const iloc = child(inner, 'iloc');
    const locations = iloc ? parseIloc(bytes, iloc) : new Map<number, ItemLocation>();
    const idat = child(inner, 'idat');
    for (const [id, location] of locations) {
      const limit = location.constructionMethod === 1 ? (idat ? idat.declaredEnd - idat.payload : 0) : bytes.length;
      const past = location.extents.find((e) => e.offset + e.length > limit);
      if (past && location.constructionMethod <= 1) {
        return { ...none, primaryItemId, truncation: `item ${id}'s data (bytes ${past.offset}..${past.offset + past.length}) lies past the end of the file (${bytes.length} bytes)` };
      }
    }
    const iprp = child(inner, 'iprp');
    const properties = iprp && primaryItemId !== null ? itemProperties(bytes, iprp, primaryItemId) : [];
    const ispe = properties.find((p) => p.type === 'ispe');
    let primarySize: HeifStructure['primarySize'] = null;
    if (ispe) {
      const c = new Cursor(bytes, ispe.payload + 4, ispe.declaredEnd);
      primarySize = { width: c.u32(), height: c.u32() };
    }
    const irot = properties.find((p) => p.type === 'irot');
    const primaryQuarterTurns = irot ? new Cursor(bytes, irot.payload, irot.declaredEnd).u8() & 3 : 0;
    const iinf = child(inner, 'iinf');
    const types = iinf ? parseInfeTypes(bytes, iinf) : new Map<number, string>();
    const iref = child(inner, 'iref');
    const refs = iref ? describedBy(bytes, iref) : new Map<number, number[]>();
    let exif: Uint8Array | null = null;
    for (const [id, type] of types) {
      if (type !== 'Exif') continue;
      const describes = refs.get(id);
      if (describes && primaryItemId !== null && !describes.includes(primaryItemId)) continue;
      const location = locations.get(id);
      const extent = location?.extents[0];
      if (!location || !extent || location.constructionMethod !== 0 || location.extents.length !== 1) continue;
      exif = bytes.subarray(extent.offset, extent.offset + extent.length);
      break;
    }
    const primaryHasTransforms = properties.some((p) => p.type === 'irot' || p.type === 'imir');
    return { truncation: null, primaryItemId, primaryHasTransforms, primarySize, primaryQuarterTurns, exif };
  } catch (err) {
    if (err instanceof RangeError) return none;
    throw err;
  }
}

/**
 * The EXIF orientation (1..8) in a HEIF Exif item: a 4-byte offset to the TIFF header, then
 * TIFF IFD0's tag 0x0112. 1 when absent or unreadable.
 */
export function exifOrientation(exif: Uint8Array): number {
  if (exif.length < 12) return 1;
  const view = new DataView(exif.buffer, exif.byteOffset, exif.byteLength);
  const tiff = 4 + view.getUint32(0);
  if (tiff + 8 > exif.length) return 1;
  const le = exif[tiff] === 0x49 && exif[tiff + 1] === 0x49;
  if (!le && !(exif[tiff] === 0x4d && exif[tiff + 1] === 0x4d)) return 1;
  if (view.getUint16(tiff + 2, le) !== 42) return 1;
  const ifd = tiff + view.getUint32(tiff + 4, le);
  if (ifd + 2 > exif.length) return 1;
  const count = view.getUint16(ifd, le);
  for (let i = 0; i < count; i++) {
    const entry = ifd + 2 + i * 12;
    if (entry + 12 > exif.length) return 1;
    if (view.getUint16(entry, le) === 0x0112) {
      const value = view.getUint16(entry + 8, le);
      return value >= 1 && value <= 8 ? value : 1;
    }
  }
  return 1;
}
