/**
 * What could tell a face from a non-face, measured: `npx tsx bench/face-screen.ts [--nonfaces <dir>…] [--extra <dir>…]`.
 *
 * Every SSD detection at score ≥ 0.4 (the default) in the shared data's face sets (AFW, the dlib
 * boxes, LFW dev, the face_recognition examples, the hard cases) is taken as a real face; the
 * detections in `--nonfaces` folders (photos known to hold no human face, e.g. animals) as
 * non-faces; `--extra` folders add more real-face photos. The analyzer runs with the NOT_A_FACE
 * screen off, so every detection is measured. Per detection it prints nothing; per group the
 * distribution of:
 * - shape residual: the landmarks' Procrustes fit to the mean face (`fitFaceShape`);
 * - mirror disagreement: the landmark net on the mirrored crop vs on the crop (`mirrorDisagreement`,
 *   crops turned as the screen turns them), what the NOT_A_FACE screen thresholds;
 * - tiny IoU: the best IoU of a tiny-detector box (score ≥ 0.2) with the SSD box — a second detector's agreement;
 * - embedding distance to the mean LFW dev embedding — distance to "the space of human faces";
 * - |yaw|, |pitch|, sharpness: the quality attributes (candidates for EXTREME_POSE, LOW_SHARPNESS);
 * - person and animal scores of the object detector on the face's surroundings, and animal − person:
 *   the animal check of NOT_A_FACE (`speciesOfFaces`, default settings: animal ≥ minScore and
 *   animal − person ≥ minMargin).
 * `--animal-input N` measures the check at another crop input side. Non-face detections are also listed one by one. Animal photos from Debian's packages:
 * `bash scripts/animal-photos.sh DIR` (docs/accuracy.md).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { FaceAnalyzer, fitFaceShape, InferencePool, iou, isAnimalFace, mirrorDisagreement, mirroredCropLandmarks, resolveFaceScreen, rollQuarter, speciesOfFaces, type ResolvedAnimalScreen } from '@facepipe/vision';

const { values } = parseArgs({
  options: {
    nonfaces: { type: 'string', multiple: true, default: [] },
    extra: { type: 'string', multiple: true, default: [] },
    // The animal check's crop input side (default: the check's own default).
    'animal-input': { type: 'string' },
  },
});
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const data = resolve(repoRoot, process.env.FACEPIPE_TEST_DATA ?? '../shared/data');
const faceSets = ['landmarks/afw_subset_68pt', 'detection/dlib_pascal_training', 'recognition/lfw_dev/lfw-deepfunneled', 'recognition/face_recognition_examples', 'hard_cases']
  .map((d) => join(data, d))
  .concat(values.extra.map((d) => resolve(d)));
const walk = (d: string): string[] =>
  readdirSync(d).sort().flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walk(p) : /\.(jpe?g|png|bmp|gif|webp|tiff?)$/i.test(n) ? [p] : [];
  });

const ssd = await FaceAnalyzer.create({ screen: false });
const tiny = await FaceAnalyzer.create({ detector: 'tiny', stages: ['detect'], minScore: 0.2, screen: false });
const screen = { maxResidual: 0.2 };
const objects = new InferencePool({ models: ['object_centernet'], manifest: ssd.manifest, workers: 1 });
await objects.start();
const defaults = resolveFaceScreen(values['animal-input'] ? { animals: { inputSize: Number(values['animal-input']) } } : {}).animals;
if (!defaults) throw new Error('the animal check is off by default');
const animalCheck: ResolvedAnimalScreen = defaults;

interface Row { file: string; score: number; residual: number; mirror: number | null; tinyIou: number; embedding: Float32Array; yaw: number; pitch: number; sharpness: number; person: number; animal: number; animalClass: string }
async function measure(dirs: readonly string[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const dir of dirs) {
    for (const file of walk(dir)) {
      let img;
      try {
        img = await ssd.decode(readFileSync(file));
      } catch {
        continue; // the hard cases' broken files
      }
      const a = await ssd.analyzeDecoded(img);
      if (a.faces.length === 0) continue;
      const t = await tiny.analyzeDecoded(img);
      const embeddings = await ssd.embed(a.chips, a.faces.length);
      const fits = a.faces.map((f) => fitFaceShape(f.landmarks));
      const mirrored = await mirroredCropLandmarks(ssd.pool, img, a.faces.map((f) => f.box), fits.map((f) => rollQuarter(f.roll)));
      const species = await speciesOfFaces(objects, img, a.faces.map((f) => f.box), animalCheck, fits.map((f) => rollQuarter(f.roll)));
      a.faces.forEach((f, i) => {
        rows.push({
          file: relative(data, file).startsWith('..') ? file : relative(data, file),
          score: f.score,
          residual: fits[i]!.residual,
          mirror: fits[i]!.residual <= screen.maxResidual ? mirrorDisagreement(f.landmarks, mirrored[i]!, f.box) : null,
          tinyIou: Math.max(0, ...t.faces.map((g) => iou(g.box, f.box))),
          embedding: embeddings.slice(i * 128, (i + 1) * 128),
          yaw: Math.abs(f.quality!.yaw),
          pitch: Math.abs(f.quality!.pitch),
          sharpness: f.quality!.sharpness,
          ...species[i]!,
        });
      });
    }
  }
  return rows;
}

const faces = await measure(faceSets);
const nonfaces = await measure(values.nonfaces.map((d) => resolve(d)));
await Promise.all([ssd.close(), tiny.close(), objects.close()]);

const lfw = faces.filter((r) => r.file.startsWith('recognition/lfw_dev'));
const mean = new Float32Array(128);
for (const r of lfw) r.embedding.forEach((v, k) => (mean[k] = mean[k]! + v / lfw.length));
const toMean = (r: Row) => Math.sqrt(r.embedding.reduce((s, v, k) => s + (v - mean[k]!) ** 2, 0));

const q = (v: number[], p: number) => {
  const s = [...v].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};
const signals: [string, (r: Row) => number | null][] = [
  ['shape residual', (r) => r.residual],
  [`mirror disagreement (residual ≤ ${screen.maxResidual})`, (r) => r.mirror],
  ['tiny IoU', (r) => r.tinyIou],
  ['embedding distance to the LFW mean', toMean],
  ['yaw, absolute (°)', (r) => r.yaw],
  ['pitch, absolute (°)', (r) => r.pitch],
  ['sharpness', (r) => r.sharpness],
  ['object detector: person', (r) => r.person],
  ['object detector: best animal class', (r) => r.animal],
  ['object detector: animal − person', (r) => r.animal - r.person],
];
process.stdout.write(`${faces.length} real-face detections (score ≥ 0.4) in ${faceSets.length} folders; ${nonfaces.length} non-face detections\n\n`);
process.stdout.write('| signal | faces: n | min | 1 % | median | 99 % | max | non-faces |\n|---|---|---|---|---|---|---|---|\n');
for (const [name, f] of signals) {
  const v = faces.map(f).filter((x): x is number => x !== null);
  const nf = nonfaces.map((r) => f(r)).map((x) => (x === null ? '–' : x.toFixed(3))).join(', ');
  process.stdout.write(`| ${name} | ${v.length} | ${Math.min(...v).toFixed(3)} | ${q(v, 0.01).toFixed(3)} | ${q(v, 0.5).toFixed(3)} | ${q(v, 0.99).toFixed(3)} | ${Math.max(...v).toFixed(3)} | ${nf || '–'} |\n`);
}
const rejected = (r: Row) => isAnimalFace(r, animalCheck);
const lost = faces.filter(rejected);
process.stdout.write(`\nanimal check (animal ≥ ${animalCheck.minScore}, animal − person ≥ ${animalCheck.minMargin}): ${lost.length} of ${faces.length} real faces rejected, ${nonfaces.filter(rejected).length} of ${nonfaces.length} non-faces\n`);
for (const r of lost) process.stdout.write(`  real face rejected: ${r.file} person ${r.person.toFixed(3)} ${r.animalClass} ${r.animal.toFixed(3)}\n`);
const closest = [...faces].sort((x, y) => y.animal - y.person - (x.animal - x.person)).slice(0, 5);
for (const r of closest) process.stdout.write(`  closest real face: ${r.file} person ${r.person.toFixed(3)} ${r.animalClass} ${r.animal.toFixed(3)}\n`);
process.stdout.write('\nnon-face detections:\n');
for (const r of nonfaces) process.stdout.write(`  ${r.file} score ${r.score} residual ${r.residual.toFixed(3)} mirror ${r.mirror?.toFixed(3) ?? '–'} tiny IoU ${r.tinyIou.toFixed(2)} to LFW mean ${toMean(r).toFixed(3)} person ${r.person.toFixed(3)} ${r.animalClass} ${r.animal.toFixed(3)}\n`);
