import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { FacepipeError, type ErrorCode } from '@facepipe/core';
import { decodeImage, probeImage, sniffFormat, type DecodedImage } from '@facepipe/vision';
import { dataPath, missingData } from '../helpers/data.js';

const LIMITS = { maxPixels: 40_000_000 };
const FORMATS_DIR = 'hard_cases/compreface_formats';
const EXIF_DIR = 'negatives/exif_orientation_examples';

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof FacepipeError, `expected a FacepipeError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.equal(err.retryable, false);
    return true;
  });
}

function assertRgb(img: DecodedImage, width: number, height: number): void {
  assert.equal(img.width, width);
  assert.equal(img.height, height);
  assert.ok(img.data instanceof Uint8Array);
  assert.equal(img.data.length, width * height * 3);
}

/** Mean absolute difference per channel value between two equally sized RGB buffers. */
function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

async function downscaled(img: DecodedImage, w: number, h: number): Promise<Uint8Array> {
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).resize(w, h, { fit: 'fill' }).raw().toBuffer();
  return new Uint8Array(buf);
}

function solidPng(width: number, height: number, channels: 3 | 4, background: string | { r: number; g: number; b: number; alpha?: number }): Promise<Buffer> {
  return sharp({ create: { width, height, channels, background } }).png().toBuffer();
}

test('einstein in every readable format decodes to the same upright 256x256 RGB', { skip: missingData(FORMATS_DIR) }, async () => {
  const reference = await decodeImage(readFileSync(dataPath(FORMATS_DIR, 'einstein.png')), LIMITS);
  assertRgb(reference, 256, 256);
  for (const ext of ['jpeg', 'png', 'bmp', 'gif', 'tiff', 'webp', 'ico']) {
    const bytes = readFileSync(dataPath(FORMATS_DIR, `einstein.${ext}`));
    const img = await decodeImage(bytes, LIMITS);
    assert.equal(img.format, ext === 'jpeg' ? 'jpeg' : ext, `format of einstein.${ext}`);
    assertRgb(img, 256, 256);
    assert.equal(img.orientation, 1);
    // Same picture: lossy formats (JPEG, WebP, GIF's palette) stay within a few levels on average.
    const diff = meanAbsDiff(img.data, reference.data);
    assert.ok(diff < 4, `einstein.${ext} differs from the PNG by ${diff.toFixed(2)} per value`);
    const probe = await probeImage(bytes, LIMITS);
    assert.deepEqual([probe.format, probe.width, probe.height], [img.format, 256, 256]);
  }
});

test('broken files give their typed codes', { skip: missingData(FORMATS_DIR) }, async () => {
  await rejectsWith(decodeImage(readFileSync(dataPath(FORMATS_DIR, 'corrupted.png')), LIMITS), 'CORRUPT_IMAGE');
  // empty.png is 5 bytes of text ("test\n"), not zero bytes.
  await rejectsWith(decodeImage(readFileSync(dataPath(FORMATS_DIR, 'empty.png')), LIMITS), 'NOT_AN_IMAGE');
  await rejectsWith(decodeImage(readFileSync(dataPath(FORMATS_DIR, 'truncated.jpg')), LIMITS), 'TRUNCATED_IMAGE');
  // The truncated JPEG's header is intact, so a header-only probe accepts it.
  const probe = await probeImage(readFileSync(dataPath(FORMATS_DIR, 'truncated.jpg')), LIMITS);
  assert.deepEqual([probe.format, probe.width, probe.height], ['jpeg', 225, 225]);
});

test('zero bytes → EMPTY_INPUT, over maxBytes → FILE_TOO_LARGE, random bytes → NOT_AN_IMAGE', async () => {
  await rejectsWith(decodeImage(new Uint8Array(0), LIMITS), 'EMPTY_INPUT');
  await rejectsWith(probeImage(new Uint8Array(0), LIMITS), 'EMPTY_INPUT');
  const png = await solidPng(4, 4, 3, '#808080');
  await rejectsWith(decodeImage(png, { ...LIMITS, maxBytes: png.length - 1 }), 'FILE_TOO_LARGE');
  assertRgb(await decodeImage(png, { ...LIMITS, maxBytes: png.length }), 4, 4);
  let seed = 12345;
  const random = Uint8Array.from({ length: 4096 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 255);
  random[0] = 0x13; // make sure it does not start with a real signature by chance
  await rejectsWith(decodeImage(random, LIMITS), 'NOT_AN_IMAGE');
});

test('SVG and PDF are recognised and refused without rendering; a HEIC without its meta box is corrupt', async () => {
  const svg = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
  await rejectsWith(decodeImage(svg, LIMITS), 'UNSUPPORTED_FORMAT');
  await rejectsWith(probeImage(Buffer.from('  <svg width="1" height="1"></svg>'), LIMITS), 'UNSUPPORTED_FORMAT');
  await rejectsWith(decodeImage(Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n'), LIMITS), 'UNSUPPORTED_FORMAT');
  const heic = Buffer.alloc(64);
  heic.writeUInt32BE(24, 0);
  heic.write('ftypheic', 4, 'latin1');
  heic.write('mif1heic', 16, 'latin1');
  await rejectsWith(decodeImage(heic, LIMITS), 'CORRUPT_IMAGE');
  assert.deepEqual(sniffFormat(heic), { kind: 'supported', format: 'heic' });
});

test('a PNG header claiming 50000x50000 is rejected from the header alone', async () => {
  const png = Buffer.from(await solidPng(8, 8, 3, '#000000'));
  png.writeUInt32BE(50_000, 16);
  png.writeUInt32BE(50_000, 20);
  const before = process.memoryUsage().rss;
  await rejectsWith(decodeImage(png, LIMITS), 'IMAGE_TOO_LARGE');
  await rejectsWith(probeImage(png, LIMITS), 'IMAGE_TOO_LARGE');
  // 2.5 G pixels would be 7.5 GB of RGB; nothing near that was allocated.
  assert.ok(process.memoryUsage().rss - before < 200e6);
});

test('a JPEG over the pixel limit is rejected before decoding; at the limit it decodes', async () => {
  const jpeg = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#336699' } }).jpeg().toBuffer();
  await rejectsWith(decodeImage(jpeg, { maxPixels: 300 * 200 - 1 }), 'IMAGE_TOO_LARGE');
  assertRgb(await decodeImage(jpeg, { maxPixels: 300 * 200 }), 300, 200);
});

test('truncated PNG, WebP, GIF and TIFF give TRUNCATED_IMAGE', async () => {
  const base = sharp({ create: { width: 64, height: 48, channels: 3, background: '#000000' } })
    .composite([{ input: Buffer.alloc(32 * 24 * 3, 200), raw: { width: 32, height: 24, channels: 3 }, left: 5, top: 7 }]);
  const encoded = {
    png: await base.clone().png({ compressionLevel: 0 }).toBuffer(),
    webp: await base.clone().webp().toBuffer(),
    gif: await base.clone().gif().toBuffer(),
    tiff: await base.clone().tiff().toBuffer(),
    jpeg: await base.clone().jpeg().toBuffer(),
  };
  for (const [format, bytes] of Object.entries(encoded)) {
    assertRgb(await decodeImage(bytes, LIMITS), 64, 48);
    await rejectsWith(decodeImage(bytes.subarray(0, Math.floor(bytes.length * 0.6)), LIMITS), 'TRUNCATED_IMAGE').catch((err: unknown) => {
      throw new Error(`${format}: ${String(err)}`);
    });
  }
});

test('orientation: Portrait_0..8 all decode upright and agree pixel-wise', { skip: missingData(EXIF_DIR) }, async () => {
  const images: DecodedImage[] = [];
  for (let i = 0; i <= 8; i++) {
    const img = await decodeImage(readFileSync(dataPath(EXIF_DIR, `Portrait_${i}.jpg`)), LIMITS);
    assertRgb(img, 1200, 1800);
    assert.equal(img.orientation, i === 0 ? 1 : i, `Portrait_${i}`);
    assert.deepEqual([img.originalWidth, img.originalHeight], i >= 5 ? [1800, 1200] : [1200, 1800]);
    const probe = await probeImage(readFileSync(dataPath(EXIF_DIR, `Portrait_${i}.jpg`)), LIMITS);
    assert.deepEqual([probe.width, probe.height, probe.orientation], [1200, 1800, img.orientation]);
    images.push(img);
  }
  const small = await Promise.all(images.map((img) => downscaled(img, 60, 90)));
  for (let i = 1; i <= 8; i++) {
    const diff = meanAbsDiff(small[i]!, small[1]!);
    assert.ok(diff < 4, `Portrait_${i} differs from Portrait_1 by ${diff.toFixed(2)} per value after orientation`);
  }
  // And a wrongly oriented copy would not pass the same bar.
  const flipped = await sharp(small[1]!, { raw: { width: 60, height: 90, channels: 3 } }).flop().raw().toBuffer();
  assert.ok(meanAbsDiff(new Uint8Array(flipped), small[1]!) > 10);
});

test('grayscale PNGs become RGB with R = G = B', { skip: missingData('negatives/scikit-image') }, async () => {
  for (const name of ['camera.png', 'coins.png', 'page.png']) {
    const dir = name === 'camera.png' ? 'hard_cases/scikit-image' : 'negatives/scikit-image';
    if (missingData(`${dir}/${name}`)) continue;
    const meta = await sharp(dataPath(dir, name)).metadata();
    assert.equal(meta.channels, 1, `${name} is stored as grayscale`);
    const img = await decodeImage(readFileSync(dataPath(dir, name)), LIMITS);
    assertRgb(img, meta.width, meta.height);
    for (let i = 0; i < img.data.length; i += 3 * 97) {
      assert.equal(img.data[i], img.data[i + 1]);
      assert.equal(img.data[i], img.data[i + 2]);
    }
  }
});

test('RGBA is flattened onto black by default, white on request', async () => {
  const rgba = await sharp({ create: { width: 2, height: 1, channels: 4, background: { r: 255, g: 0, b: 0, alpha: 0 } } })
    .composite([{ input: Buffer.from([10, 200, 30, 255]), raw: { width: 1, height: 1, channels: 4 }, left: 1, top: 0 }])
    .png()
    .toBuffer();
  const black = await decodeImage(rgba, LIMITS);
  assert.equal(black.hadAlpha, true);
  assert.deepEqual([...black.data], [0, 0, 0, 10, 200, 30]);
  const white = await decodeImage(rgba, { ...LIMITS, background: 'white' });
  assert.deepEqual([...white.data], [255, 255, 255, 10, 200, 30]);
});

test('the 32-bit RGBA probe photo decodes to RGB', { skip: missingData('recognition/face_recognition_examples/extra_probes/32bit.png') }, async () => {
  const bytes = readFileSync(dataPath('recognition/face_recognition_examples/extra_probes/32bit.png'));
  const meta = await sharp(bytes).metadata();
  assert.equal(meta.channels, 4);
  const img = await decodeImage(bytes, LIMITS);
  assertRgb(img, meta.width, meta.height);
  assert.equal(img.hadAlpha, true);
});

test('CMYK JPEG, 16-bit PNG and palette PNG convert to 8-bit sRGB', async () => {
  const colour = { r: 200, g: 60, b: 40 };
  const rgb = sharp({ create: { width: 16, height: 16, channels: 3, background: colour } });
  const cmyk = await rgb.clone().toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
  const png16 = await rgb.clone().toColourspace('rgb16').png().toBuffer();
  assert.equal((await sharp(png16).metadata()).depth, 'ushort');
  const palette = await rgb.clone().png({ palette: true }).toBuffer();
  assert.equal((await sharp(palette).metadata()).isPalette, true);
  // CMYK goes through sharp's CMYK profile and back, which moves the colour (200,60,40 → about
  // 200,48,13); it must still be the same red, in 3 channels.
  for (const [name, bytes, tolerance] of [['cmyk', cmyk, 30], ['png16', png16, 1], ['palette', palette, 4]] as const) {
    const img = await decodeImage(bytes, LIMITS);
    assertRgb(img, 16, 16);
    const centre = (8 * 16 + 8) * 3;
    const got = [img.data[centre]!, img.data[centre + 1]!, img.data[centre + 2]!];
    got.forEach((v, i) => assert.ok(Math.abs(v - [colour.r, colour.g, colour.b][i]!) <= tolerance, `${name}: ${got.join(',')}`));
  }
});

test('AVIF decodes; animated GIF gives its first frame', async () => {
  const avif = await sharp({ create: { width: 32, height: 24, channels: 3, background: '#20a040' } }).avif().toBuffer();
  assert.equal(sniffFormat(avif).kind, 'supported');
  assertRgb(await decodeImage(avif, LIMITS), 32, 24);

  const frame = (colour: string) => sharp({ create: { width: 10, height: 6, channels: 3, background: colour } }).png().toBuffer();
  const gif = await sharp([await frame('#ff0000'), await frame('#0000ff')], { join: { animated: true } }).gif().toBuffer();
  assert.equal((await sharp(gif).metadata()).pages, 2);
  const img = await decodeImage(gif, LIMITS);
  assertRgb(img, 10, 6);
  assert.ok(img.data[0]! > 200 && img.data[2]! < 50, `first frame is red, got ${img.data.subarray(0, 3).join(',')}`);
});

/** A BMP file built by hand: 14-byte file header + 40-byte BITMAPINFOHEADER + palette + rows. */
function bmp(width: number, height: number, bpp: number, rows: number[][], palette: number[][] = []): Uint8Array {
  const stride = Math.floor((width * bpp + 31) / 32) * 4;
  const pixelOffset = 14 + 40 + palette.length * 4;
  const bytes = new Uint8Array(pixelOffset + stride * Math.abs(height));
  const view = new DataView(bytes.buffer);
  bytes.set([0x42, 0x4d]);
  view.setUint32(2, bytes.length, true);
  view.setUint32(10, pixelOffset, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, width, true);
  view.setInt32(22, height, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, bpp, true);
  view.setUint32(46, palette.length, true);
  palette.forEach(([r, g, b], i) => bytes.set([b!, g!, r!, 0], 54 + i * 4));
  rows.forEach((row, i) => bytes.set(row, pixelOffset + i * stride));
  return bytes;
}

test('hand-made BMPs: 24-bit bottom-up, 8-bit palette, 1-bit, top-down; truncated and RLE refused', async () => {
  // 2x2, 24-bit BGR, bottom-up: stored rows are bottom row first.
  const b24 = bmp(2, 2, 24, [[0, 0, 255, 0, 255, 0], [255, 0, 0, 255, 255, 255]]);
  assert.deepEqual([...(await decodeImage(b24, LIMITS)).data], [0, 0, 255, 255, 255, 255, 255, 0, 0, 0, 255, 0]);
  // 3x1, 8-bit palette, top-down (negative height).
  const b8 = bmp(3, -1, 8, [[2, 0, 1]], [[10, 20, 30], [40, 50, 60], [70, 80, 90]]);
  assert.deepEqual([...(await decodeImage(b8, LIMITS)).data], [70, 80, 90, 10, 20, 30, 40, 50, 60]);
  // 9x1, 1-bit: bits 1,0,1,... MSB first across two bytes.
  const b1 = bmp(9, 1, 1, [[0b10100000, 0b10000000]], [[0, 0, 0], [255, 255, 255]]);
  const px = (await decodeImage(b1, LIMITS)).data.filter((_, i) => i % 3 === 0);
  assert.deepEqual([...px], [255, 0, 255, 0, 0, 0, 0, 0, 255]);

  await rejectsWith(decodeImage(b24.subarray(0, b24.length - 3), LIMITS), 'TRUNCATED_IMAGE');
  const rle = Uint8Array.from(b8);
  new DataView(rle.buffer).setUint32(30, 1, true); // BI_RLE8
  await rejectsWith(decodeImage(rle, LIMITS), 'UNSUPPORTED_FORMAT');
  const huge = Uint8Array.from(b24);
  new DataView(huge.buffer).setInt32(18, 100_000, true);
  new DataView(huge.buffer).setInt32(22, 100_000, true);
  await rejectsWith(decodeImage(huge, LIMITS), 'IMAGE_TOO_LARGE');
  await rejectsWith(probeImage(huge, LIMITS), 'IMAGE_TOO_LARGE');
  const zeroWidth = Uint8Array.from(b24);
  new DataView(zeroWidth.buffer).setInt32(18, 0, true);
  await rejectsWith(decodeImage(zeroWidth, LIMITS), 'CORRUPT_IMAGE');
});

/** An ICO with one 2x2 entry stored as a DIB: 40-byte header (height doubled), pixels, AND mask. */
function icoWithDib(bpp: 24 | 32, pixelsBottomUp: number[][], andMaskRows: number[]): Uint8Array {
  const stride = Math.floor((2 * bpp + 31) / 32) * 4;
  const dibSize = 40 + stride * 2 + 4 * 2;
  const bytes = new Uint8Array(6 + 16 + dibSize);
  const view = new DataView(bytes.buffer);
  view.setUint16(2, 1, true); // type: icon
  view.setUint16(4, 1, true); // one entry
  bytes.set([2, 2, 0, 0], 6);
  view.setUint16(6 + 6, bpp, true);
  view.setUint32(6 + 8, dibSize, true);
  view.setUint32(6 + 12, 22, true);
  view.setUint32(22, 40, true);
  view.setInt32(26, 2, true);
  view.setInt32(30, 4, true); // XOR + AND
  view.setUint16(34, 1, true);
  view.setUint16(36, bpp, true);
  pixelsBottomUp.forEach((row, i) => bytes.set(row, 22 + 40 + i * stride));
  andMaskRows.forEach((bits, i) => (bytes[22 + 40 + stride * 2 + i * 4] = bits));
  return bytes;
}

test('ICO entries stored as DIBs: 32-bit alpha, or the AND mask for 24-bit', async () => {
  // Bottom row: opaque red, fully transparent green; top row: half-transparent white, opaque blue.
  const ico32 = icoWithDib(32, [[0, 0, 255, 255, 0, 255, 0, 0], [255, 255, 255, 128, 255, 0, 0, 255]], [0, 0]);
  const a = await decodeImage(ico32, LIMITS);
  assert.equal(a.format, 'ico');
  assert.equal(a.hadAlpha, true);
  assert.deepEqual([...a.data], [128, 128, 128, 0, 0, 255, 255, 0, 0, 0, 0, 0]);
  // 24-bit: bottom-right pixel masked out by the AND bitmap (bit 1 = transparent).
  const ico24 = icoWithDib(24, [[0, 0, 255, 0, 255, 0], [255, 0, 0, 255, 255, 255]], [0b01000000, 0]);
  const b = await decodeImage(ico24, { ...LIMITS, background: 'white' });
  assert.deepEqual([...b.data], [0, 0, 255, 255, 255, 255, 255, 0, 0, 255, 255, 255]);
  const probe = await probeImage(ico24, LIMITS);
  assert.deepEqual([probe.format, probe.width, probe.height], ['ico', 2, 2]);
  await rejectsWith(decodeImage(ico24.subarray(0, 40), LIMITS), 'TRUNCATED_IMAGE');
});
