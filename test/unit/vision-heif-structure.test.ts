import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exifOrientation, orientRgb, readBoxes, readHeifStructure } from '@facepipe/vision';

/** A box: 32-bit size, type, payload. */
function box(type: string, ...payload: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(payload);
  const out = Buffer.alloc(8 + body.length);
  out.writeUInt32BE(out.length, 0);
  out.write(type, 4, 'latin1');
  body.copy(out, 8);
  return out;
}
const u8 = (...v: number[]) => Uint8Array.from(v);
const u16 = (v: number) => u8(v >> 8, v & 0xff);
const u32 = (v: number) => u8(v >>> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff);
const full = (version: number) => u8(version, 0, 0, 0);
const fourcc = (s: string) => Buffer.from(s, 'latin1');

/** A minimal HEIC: primary item 1 (hvc1) with ispe 40×30 and optional irot, item 2 Exif; both located at `offsets`. */
function heic(options: { irot?: number; exifOffset: number; exifLength: number; imageOffset: number; imageLength: number }): Uint8Array {
  const ftyp = box('ftyp', fourcc('heic'), u32(0), fourcc('mif1'), fourcc('heic'));
  const pitm = box('pitm', full(0), u16(1));
  const iinf = box('iinf', full(0), u16(2), box('infe', full(2), u16(1), u16(0), fourcc('hvc1')), box('infe', full(2), u16(2), u16(0), fourcc('Exif')));
  const iloc = box('iloc', full(0), u8(0x44, 0x00), u16(2),
    u16(1), u16(0), u16(1), u32(options.imageOffset), u32(options.imageLength),
    u16(2), u16(0), u16(1), u32(options.exifOffset), u32(options.exifLength));
  const properties = [box('ispe', full(0), u32(40), u32(30)), ...(options.irot === undefined ? [] : [box('irot', u8(options.irot))])];
  const ipco = box('ipco', ...properties);
  const ipma = box('ipma', full(0), u32(1), u16(1), u8(properties.length), ...properties.map((_, i) => u8(0x80 | (i + 1))));
  const iref = box('iref', full(0), box('cdsc', u16(2), u16(1), u16(1)));
  const meta = box('meta', full(0), box('hdlr', full(0), u32(0), fourcc('pict'), u32(0), u32(0), u32(0), u8(0)), pitm, iloc, iinf, iref, box('iprp', ipco, ipma));
  return Buffer.concat([ftyp, meta]);
}

/** An Exif item payload: 4-byte offset 0, then a big-endian TIFF with IFD0 holding Orientation. */
function exifItem(orientation: number): Uint8Array {
  return Buffer.concat([u32(0), fourcc('MM'), u16(42), u32(8), u16(1), u16(0x0112), u16(3), u32(1), u16(orientation), u16(0), u32(0)]);
}

/** The boxes, then an mdat holding the Exif item and the image data (the boxes' size does not depend on the offsets). */
function withData(exif: Uint8Array, image: Uint8Array): Uint8Array {
  const start = heic({ exifOffset: 0, exifLength: 0, imageOffset: 0, imageLength: 0 }).length + 8;
  const layout = { exifOffset: start, exifLength: exif.length, imageOffset: start + exif.length, imageLength: image.length };
  return Buffer.concat([heic(layout), box('mdat', exif, image)]);
}

test('readBoxes: sizes, size 0 (to the end), a box declaring more than there is', () => {
  const bytes = Buffer.concat([box('ftyp', fourcc('heic')), box('free'), u32(0), fourcc('mdat'), u8(1, 2, 3)]);
  assert.deepEqual(readBoxes(bytes, 0, bytes.length).map((b) => [b.type, b.start, b.declaredEnd]), [['ftyp', 0, 12], ['free', 12, 20], ['mdat', 20, 31]]);
  const cut = box('mdat', u8(...new Array(20).fill(7))).subarray(0, 15);
  assert.deepEqual(readBoxes(cut, 0, cut.length).map((b) => [b.type, b.declaredEnd]), [['mdat', 28]]);
});

test('readHeifStructure: primary size, transforms, Exif orientation; truncation by box or by item extent', () => {
  const exif = exifItem(6);
  const image = u8(...new Array(50).fill(1));
  const bytes = withData(exif, image);
  const s = readHeifStructure(bytes);
  assert.equal(s.truncation, null);
  assert.equal(s.primaryItemId, 1);
  assert.deepEqual(s.primarySize, { width: 40, height: 30 });
  assert.equal(s.primaryHasTransforms, false);
  assert.equal(exifOrientation(s.exif!), 6);
  assert.match(readHeifStructure(bytes.subarray(0, bytes.length - 1)).truncation!, /mdat box declares/);

  const irot = heic({ irot: 1, exifOffset: 0, exifLength: 0, imageOffset: 0, imageLength: 0 });
  const r = readHeifStructure(irot);
  assert.equal(r.primaryHasTransforms, true);
  assert.equal(r.primaryQuarterTurns, 1);

  // Extents pointing past the end, with every box complete: the data was cut, the boxes rewritten.
  const past = heic({ exifOffset: 10_000, exifLength: 10, imageOffset: 20, imageLength: 10 });
  assert.match(readHeifStructure(past).truncation!, /item 2's data .* past the end/);
});

test('exifOrientation: absent, little-endian, out of range', () => {
  assert.equal(exifOrientation(new Uint8Array(4)), 1);
  const le = Buffer.concat([u32(0), fourcc('II'), u8(42, 0), u8(8, 0, 0, 0), u8(1, 0), u8(0x12, 0x01), u8(3, 0), u8(1, 0, 0, 0), u8(8, 0), u8(0, 0), u32(0)]);
  assert.equal(exifOrientation(le), 8);
  assert.equal(exifOrientation(exifItem(9)), 1);
});

test('orientRgb: the stored top-left pixel lands where each EXIF orientation says (3×2 image)', () => {
  // Pixel value = index + 1 in every channel, stored 3 wide, 2 high: 1 2 3 / 4 5 6.
  const data = new Uint8Array(18);
  for (let i = 0; i < 6; i++) data.fill(i + 1, i * 3, i * 3 + 3);
  const rows = (o: number) => {
    const out = orientRgb({ width: 3, height: 2, data }, o);
    const values = Array.from({ length: out.width * out.height }, (_, i) => out.data[i * 3]!);
    return Array.from({ length: out.height }, (_, y) => values.slice(y * out.width, (y + 1) * out.width));
  };
  assert.deepEqual(rows(1), [[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(rows(2), [[3, 2, 1], [6, 5, 4]]);
  assert.deepEqual(rows(3), [[6, 5, 4], [3, 2, 1]]);
  assert.deepEqual(rows(4), [[4, 5, 6], [1, 2, 3]]);
  assert.deepEqual(rows(5), [[1, 4], [2, 5], [3, 6]]);
  assert.deepEqual(rows(6), [[4, 1], [5, 2], [6, 3]]);
  assert.deepEqual(rows(7), [[6, 3], [5, 2], [4, 1]]);
  assert.deepEqual(rows(8), [[3, 6], [2, 5], [1, 4]]);
});
