import { readBoxes, type IsoBox } from '@facepipe/vision';

function find(bytes: Uint8Array, start: number, end: number, type: string): IsoBox {
  const found = readBoxes(bytes, start, end).find((b) => b.type === type);
  if (!found) throw new Error(`no ${type} box`);
  return found;
}

/**
 * Adds an `irot` property (quarter turns counter-clockwise) to the primary item (id 1) of a
 * HEIF file written by heif-enc: appends the box to `ipco`, associates it in `ipma` (version 0,
 * 8-bit indices), grows `iprp` and `meta`, and moves `iloc`'s base offsets by the bytes added
 * (the item data lies in `mdat` after `meta`). For tests of files that carry their rotation as
 * HEIF transforms, as cameras write them; heif-enc 1.15 cannot.
 */
export function addIrot(heic: Uint8Array, quarterTurns: number): Buffer {
  const bytes = Buffer.from(heic);
  const meta = find(bytes, 0, bytes.length, 'meta');
  const iloc = find(bytes, meta.payload + 4, meta.declaredEnd, 'iloc');
  const iprp = find(bytes, meta.payload + 4, meta.declaredEnd, 'iprp');
  const ipco = find(bytes, iprp.payload, iprp.declaredEnd, 'ipco');
  const ipma = find(bytes, iprp.payload, iprp.declaredEnd, 'ipma');
  if (!(iloc.start < ipco.start && ipco.declaredEnd === ipma.start)) throw new Error('unexpected box order');
  if (bytes[ipma.payload] !== 0 || (bytes[ipma.payload + 3]! & 1) !== 0) throw new Error('ipma must be version 0 with 8-bit indices');
  const irot = Buffer.from([0, 0, 0, 9, ...Buffer.from('irot', 'latin1'), quarterTurns & 3]);
  const newIndex = readBoxes(bytes, ipco.payload, ipco.declaredEnd).length + 1;
  const newIpco = Buffer.concat([bytes.subarray(ipco.start, ipco.declaredEnd), irot]);
  newIpco.writeUInt32BE(newIpco.length, 0);
  // ipma entries: item id (16), count (8), indices (8 each).
  const parts: Buffer[] = [Buffer.from(bytes.subarray(ipma.start, ipma.payload + 8))];
  let at = ipma.payload + 8;
  const entries = bytes.readUInt32BE(ipma.payload + 4);
  for (let i = 0; i < entries; i++) {
    const id = bytes.readUInt16BE(at);
    const n = bytes[at + 2]!;
    const indices = bytes.subarray(at + 3, at + 3 + n);
    parts.push(id === 1 ? Buffer.from([id >> 8, id & 0xff, n + 1, ...indices, 0x80 | newIndex]) : Buffer.from(bytes.subarray(at, at + 3 + n)));
    at += 3 + n;
  }
  const newIpma = Buffer.concat(parts);
  newIpma.writeUInt32BE(newIpma.length, 0);
  const delta = newIpco.length + newIpma.length - (ipma.declaredEnd - ipco.start);
  const out = Buffer.concat([bytes.subarray(0, ipco.start), newIpco, newIpma, bytes.subarray(ipma.declaredEnd)]);
  out.writeUInt32BE(meta.declaredEnd - meta.start + delta, meta.start);
  out.writeUInt32BE(iprp.declaredEnd - iprp.start + delta, iprp.start);
  // iloc version 0/1 with 4-byte offset, length and base offset fields.
  const version = out[iloc.payload]!;
  const sizes = out.readUInt16BE(iloc.payload + 4);
  if (version > 1 || sizes >> 4 !== 0x444) throw new Error('iloc layout not handled');
  let p = iloc.payload + 6;
  const count = out.readUInt16BE(p);
  p += 2;
  for (let i = 0; i < count; i++) {
    p += 2 + (version === 1 ? 2 : 0) + 2; // item id, construction method, data reference index
    out.writeUInt32BE(out.readUInt32BE(p) + delta, p);
    p += 4;
    const extents = out.readUInt16BE(p);
    p += 2 + extents * 8;
  }
  return out;
}
