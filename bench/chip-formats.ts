/**
 * Stored bytes per face, and whether the stored chips give the same embedding.
 *
 * For each photo (default: the first 200 of lfw_library, one folder per person): the pipeline's
 * own detection and alignment (FaceAnalyzer), then the chips as the detect stage stores them (raw
 * RGB, chip after chip) and stacked into an image as earlier versions did: PNG, WebP lossless,
 * WebP lossy (the display rendition) and JPEG; each is decoded again and embedded, and its
 * embedding compared with the embedding of the exact chips (Euclidean distance: the same-person
 * threshold is 0.6). Encoding and decoding are timed as CPU of this process (sharp on one
 * thread; the model idle meanwhile). The JSON documents a face leaves behind are sized too.
 *
 *   npx tsx bench/chip-formats.ts [--photos 200]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { CHIP_SIZE, FaceAnalyzer, rawChips } from '@facepipe/vision';

const { values } = parseArgs({ options: { photos: { type: 'string', default: '200' } } });
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const dir = resolve(repoRoot, process.env.FACEPIPE_TEST_DATA ?? '../shared/data', 'recognition/lfw_library/lfw-deepfunneled');
const files = readdirSync(dir)
  .sort()
  .flatMap((p) => readdirSync(join(dir, p)).sort().map((f) => join(dir, p, f)))
  .slice(0, Number(values.photos));

type Format = { name: string; encode: (raw: Buffer, count: number) => Promise<Buffer>; decode?: (stored: Buffer) => Promise<Buffer> };
const raw = (buf: Buffer, count: number) => sharp(buf, { raw: { width: CHIP_SIZE, height: CHIP_SIZE * count, channels: 3 } });
sharp.concurrency(1);
const formats: Format[] = [
  { name: 'raw RGB', encode: async (b) => Buffer.from(b), decode: async (stored) => Buffer.from(rawChips(stored).chips) },
  { name: 'PNG (zlib 1)', encode: (b, n) => raw(b, n).png({ compressionLevel: 1 }).toBuffer() },
  { name: 'PNG (zlib 9)', encode: (b, n) => raw(b, n).png({ compressionLevel: 9 }).toBuffer() },
  { name: 'WebP lossless (effort 0)', encode: (b, n) => raw(b, n).webp({ lossless: true, effort: 0 }).toBuffer() },
  { name: 'WebP lossless (effort 1)', encode: (b, n) => raw(b, n).webp({ lossless: true, effort: 1 }).toBuffer() },
  { name: 'WebP lossless (effort 4)', encode: (b, n) => raw(b, n).webp({ lossless: true, effort: 4 }).toBuffer() },
  { name: 'WebP q90', encode: (b, n) => raw(b, n).webp({ quality: 90, effort: 4 }).toBuffer() },
  { name: 'WebP q90 (effort 2)', encode: (b, n) => raw(b, n).webp({ quality: 90, effort: 2 }).toBuffer() },
  { name: 'WebP q80', encode: (b, n) => raw(b, n).webp({ quality: 80, effort: 4 }).toBuffer() },
  { name: 'JPEG q90', encode: (b, n) => raw(b, n).jpeg({ quality: 90, chromaSubsampling: '4:4:4' }).toBuffer() },
  { name: 'JPEG q85, 4:2:0', encode: (b, n) => raw(b, n).jpeg({ quality: 85 }).toBuffer() },
];

const analyzer = await FaceAnalyzer.create();
const stats = formats.map(() => ({ bytes: 0, encodeMs: 0, decodeMs: 0, distances: [] as number[] }));
/** CPU ms of this process (every thread) since `from`. */
const cpuMs = (from = { user: 0, system: 0 }) => {
  const u = process.cpuUsage(from);
  return (u.user + u.system) / 1000;
};
let faces = 0;
let facesJson = 0;
let embeddingsJson = 0;
try {
  for (const file of files) {
    const a = await analyzer.analyze(readFileSync(file));
    if (a.faces.length === 0) continue;
    const n = a.faces.length;
    faces += n;
    const exact = await analyzer.embed(a.chips, n);
    facesJson += JSON.stringify({ faces: a.faces }).length;
    embeddingsJson += JSON.stringify({ embeddings: Array.from({ length: n }, (_, i) => Array.from(exact.subarray(i * 128, (i + 1) * 128))) }).length;
    const chips = Buffer.from(a.chips.buffer, a.chips.byteOffset, a.chips.length);
    for (const [k, format] of formats.entries()) {
      let t = process.cpuUsage();
      const encoded = await format.encode(chips, n);
      stats[k]!.encodeMs += cpuMs(t);
      stats[k]!.bytes += encoded.length;
      t = process.cpuUsage();
      const decoded = format.decode ? await format.decode(encoded) : await sharp(encoded).removeAlpha().raw().toBuffer();
      stats[k]!.decodeMs += cpuMs(t);
      const again = await analyzer.embed(new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.length), n);
      for (let i = 0; i < n; i++) {
        let s = 0;
        for (let d = 0; d < 128; d++) s += (exact[i * 128 + d]! - again[i * 128 + d]!) ** 2;
        stats[k]!.distances.push(Math.sqrt(s));
      }
    }
  }
} finally {
  await analyzer.close();
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
console.log(`${files.length} photos, ${faces} faces (${dir})`);
console.log(`faces.json ≈ ${(facesJson / faces / 1024).toFixed(1)} KB/face, embeddings.json ≈ ${(embeddingsJson / faces / 1024).toFixed(1)} KB/face (JSON, before the rest of each document)`);
console.log('| chips as | KB per face | vs raw | encode CPU ms per face | decode CPU ms per face | embedding change: mean / p99 / max |');
console.log('|---|---|---|---|---|---|');
for (const [k, f] of formats.entries()) {
  const s = stats[k]!;
  const mean = s.distances.reduce((x, y) => x + y, 0) / s.distances.length;
  console.log(
    `| ${f.name} | ${(s.bytes / faces / 1024).toFixed(1)} | ${(s.bytes / stats[0]!.bytes).toFixed(2)}× | ${(s.encodeMs / faces).toFixed(2)} | ${(s.decodeMs / faces).toFixed(2)} | ${mean.toFixed(4)} / ${pct(s.distances, 0.99).toFixed(4)} / ${Math.max(...s.distances).toFixed(4)} |`,
  );
}
