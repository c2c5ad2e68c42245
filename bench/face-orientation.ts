/**
 * The landmark-orientation check on sideways photos: `npx tsx bench/face-orientation.ts [--limit N] [--keep]`.
 *
 * The 233 LFW dev photos (FACEPIPE_TEST_DATA, default ../shared/data) are turned 90° clockwise and
 * 270° (no EXIF tag; lossless PNG copies in a temporary folder, removed at the end unless --keep).
 * For each photo the subject's face (the central-face rule of `facepipe verify`) is embedded in
 * the upright photo and in each turned copy, with the orientation check off and on (same
 * models, same NOT_A_FACE screen); the turned face counts as correctly aligned when its embedding
 * lies within 0.4 of the upright one (same photo, so a correct alignment gives nearly the same
 * chip). On the upright photos it reports how many faces the check looked at, the extra
 * landmark-net runs, and whether any landmark or embedding changed; on every set, the detections
 * set aside as NOT_A_FACE (each photo holds a real face, so each is a face lost).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { FaceAnalyzer, pickCentralFace, type AnalyzedImage } from '@facepipe/vision';

const { values } = parseArgs({ options: { limit: { type: 'string' }, keep: { type: 'boolean', default: false } } });
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const lfw = resolve(repoRoot, process.env.FACEPIPE_TEST_DATA ?? '../shared/data', 'recognition/lfw_dev/lfw-deepfunneled');
const files = readdirSync(lfw)
  .flatMap((person) => readdirSync(join(lfw, person)).filter((f) => f.endsWith('.jpg')).map((f) => join(lfw, person, f)))
  .sort()
  .slice(0, values.limit ? Number(values.limit) : undefined);
const CLOSE = 0.4;
const tmp = mkdtempSync(join(tmpdir(), 'facepipe-sideways-'));

const off = await FaceAnalyzer.create({ orientationCheck: false });
const on = await FaceAnalyzer.create({});

const distance = (a: Float32Array, b: Float32Array) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]!) ** 2, 0));
/** The subject's embedding, or null without a face. */
async function subject(a: AnalyzedImage): Promise<Float32Array | null> {
  if (a.faces.length === 0) return null;
  const i = pickCentralFace(a.faces.map((f) => f.box), a.width, a.height);
  return (await on.embed(a.chips.subarray(i * 150 * 150 * 3, (i + 1) * 150 * 150 * 3), 1)).slice(0, 128);
}

interface Tally { photos: number; face: number; close: number; checked: number; changed: number; extraRuns: number; notAFace: number }
const tally = (): Tally => ({ photos: 0, face: 0, close: 0, checked: 0, changed: 0, extraRuns: 0, notAFace: 0 });
const rows: Record<string, { off: Tally; on: Tally }> = { upright: { off: tally(), on: tally() }, '90° clockwise': { off: tally(), on: tally() }, '270° clockwise': { off: tally(), on: tally() } };
let uprightSameLandmarks = 0, uprightSameEmbedding = 0, uprightCompared = 0;

function count(t: Tally, a: AnalyzedImage, d: number | null): void {
  t.photos++;
  if (d !== null) t.face++;
  if (d !== null && d < CLOSE) t.close++;
  t.checked += a.checks.orientationChecked;
  // Every LFW photo holds a real face: a NOT_A_FACE here is a face lost.
  t.notAFace += a.rejected.filter((r) => r.reason === 'NOT_A_FACE').length;
  t.changed += a.checks.orientationChanged;
  // The NOT_A_FACE screen's run is the same with the check off and on; count the orientation check's.
  t.extraRuns += a.checks.orientationChecked > 0 ? 1 : 0;
}

const started = performance.now();
for (const file of files) {
  const bytes = readFileSync(file);
  const [a0, a1] = [await off.analyze(bytes), await on.analyze(bytes)];
  const [ref, ref1] = [await subject(a0), await subject(a1)];
  if (!ref || !ref1) {
    process.stderr.write(`no upright face in ${file}\n`);
    continue;
  }
  uprightCompared++;
  if (JSON.stringify(a0.faces.map((f) => f.landmarks)) === JSON.stringify(a1.faces.map((f) => f.landmarks))) uprightSameLandmarks++;
  if (distance(ref, ref1) === 0) uprightSameEmbedding++;
  count(rows.upright!.off, a0, 0);
  count(rows.upright!.on, a1, 0);
  for (const [label, degrees] of [['90° clockwise', 90], ['270° clockwise', 270]] as const) {
    const path = join(tmp, `${degrees}-${file.split('/').pop()!.replace(/\.jpg$/, '.png')}`);
    writeFileSync(path, await sharp(bytes).rotate(degrees).png().toBuffer());
    const turned = readFileSync(path);
    for (const [which, analyzer] of [['off', off], ['on', on]] as const) {
      const a = await analyzer.analyze(turned);
      const e = await subject(a);
      count(rows[label]![which], a, e === null ? null : distance(ref, e));
    }
  }
}
const seconds = (performance.now() - started) / 1000;
await Promise.all([off.close(), on.close()]);
if (values.keep) process.stdout.write(`turned copies kept in ${tmp}\n`);
else rmSync(tmp, { recursive: true, force: true });

process.stdout.write(`LFW dev, ${uprightCompared} photos with an upright face (of ${files.length}), ${seconds.toFixed(0)} s\n\n`);
process.stdout.write(`| photos | check | face found | embedding within ${CLOSE} of the upright one | faces checked | landmarks replaced | extra landmark-net runs | set aside as NOT_A_FACE |\n|---|---|---|---|---|---|---|---|\n`);
for (const [label, r] of Object.entries(rows)) {
  for (const which of ['off', 'on'] as const) {
    const t = r[which];
    process.stdout.write(`| ${label} | ${which} | ${t.face} / ${t.photos} | ${t.close} | ${t.checked} | ${t.changed} | ${t.extraRuns} | ${t.notAFace} |\n`);
  }
}
process.stdout.write(`\nupright photos, check off vs on: same landmarks in ${uprightSameLandmarks} / ${uprightCompared}, same subject embedding in ${uprightSameEmbedding} / ${uprightCompared}\n`);
