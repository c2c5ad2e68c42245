import sharp from 'sharp';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync, inflateRawSync, constants } from 'node:zlib';
import * as zlib from 'node:zlib';
sharp.concurrency(1);
const root = '../shared/data/recognition/lfw_library/lfw-deepfunneled';
const files: string[] = [];
for (const p of readdirSync(root).slice(0, 200)) for (const f of readdirSync(join(root, p))) files.push(join(root, p, f));
const chips: Buffer[] = [];
for (const f of files.slice(0, 120)) chips.push(await sharp(f).extract({ left: 50, top: 50, width: 150, height: 150 }).removeAlpha().raw().toBuffer());
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
async function time(name: string, fn: (c: Buffer) => Promise<number> | number) {
  let bytes = 0; const t = cpu(); const w = performance.now();
  for (const c of chips) bytes += await fn(c);
  console.log(name.padEnd(28), 'cpu ms/face', ((cpu() - t) / chips.length).toFixed(2), 'wall', ((performance.now() - w) / chips.length).toFixed(2), 'KB/face', (bytes / chips.length / 1024).toFixed(1));
}
const raw = { raw: { width: 150, height: 150, channels: 3 as const } };
const webpL = await Promise.all(chips.map((c) => sharp(c, raw).webp({ lossless: true, effort: 0 }).toBuffer()));
await time('webp lossless e0 encode', async (c) => (await sharp(c, raw).webp({ lossless: true, effort: 0 }).toBuffer()).length);
let i = 0;
await time('webp lossless decode', async () => (await sharp(webpL[i++]!).raw().toBuffer()).length * 0);
await time('webp q90 encode', async (c) => (await sharp(c, raw).webp({ quality: 90 }).toBuffer()).length);
await time('png zlib1 encode', async (c) => (await sharp(c, raw).png({ compressionLevel: 1 }).toBuffer()).length);
await time('deflate level1 (zlib)', (c) => deflateRawSync(c, { level: 1 }).length);
const z = (zlib as any).zstdCompressSync;
if (z) await time('zstd level1', (c) => z(c, { params: { [(zlib as any).constants.ZSTD_c_compressionLevel]: 1 } }).length);
await time('raw', (c) => c.length);
const psnr = async (enc: Buffer, c: Buffer) => { const d = await sharp(enc).removeAlpha().raw().toBuffer(); let se = 0; for (let k = 0; k < c.length; k++) { const e = d[k]! - c[k]!; se += e * e; } return 10 * Math.log10(255 * 255 / (se / c.length)); };
for (const [name, f] of [
  ['webp q90 e4', (s: sharp.Sharp) => s.webp({ quality: 90 })],
  ['webp q90 e0', (s: sharp.Sharp) => s.webp({ quality: 90, effort: 0 })],
  ['webp q90 e2', (s: sharp.Sharp) => s.webp({ quality: 90, effort: 2 })],
  ['jpeg q90 444', (s: sharp.Sharp) => s.jpeg({ quality: 90, chromaSubsampling: '4:4:4' })],
  ['jpeg q85 420', (s: sharp.Sharp) => s.jpeg({ quality: 85 })],
] as const) {
  let p = 0; let n = 0;
  await time(name, async (c) => { const b = await f(sharp(c, raw)).toBuffer(); if (n++ < 40) p += await psnr(b, c); return b.length; });
  console.log('   psnr', (p / 40).toFixed(2));
}
