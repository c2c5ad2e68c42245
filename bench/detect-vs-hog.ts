/**
 * facepipe's detection against the classic front end, on the same photos in the same run:
 * `npx tsx bench/detect-vs-hog.ts [--iou 0.5] [--json]`.
 *
 * Baseline: dlib's HOG frontal face detector with one upsample and its 68-point shape predictor
 * (bench/_dlib-hog.ts; Debian's libdlib-dev and libdlib-data). facepipe: `FaceAnalyzer.analyze`
 * with the workers' settings (FACEPIPE_* from the environment, defaults otherwise), one photo at
 * a time. The two run interleaved, photo by photo, so load on the machine hits both alike.
 *
 * Sets (FACEPIPE_TEST_DATA, default ../shared/data): the 233 dev LFW photos (faces must be
 * found: photos without one are counted), the dlib boxes CSV, the AFW 68-point set (ground truth
 * box = extent of the points) and the negatives (every detection is a false positive). Recall is
 * at IoU ≥ `--iou`, also printed at 0.3: dlib's boxes run from the eyebrows to the chin like the
 * annotations, the SSD's include the forehead.
 *
 * Whole processes, as a user runs them (`--whole N`, default 150): `facepipe detect --json` on the
 * first N LFW photos and on the AFW photos, against the HOG program on the same list, wall time
 * from spawn to exit (model loading included), each run twice, alternating.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LocalInputWalker, loadConfig, readLocalFile } from '@facepipe/core';
import {
  analyzerOptionsFromConfig, detectionEvalRow, FaceAnalyzer, readBoxesCsv, readNegativesFolder, readPtsFolder,
  type DetectionEvalRow, type EvalImage,
} from '@facepipe/vision';
import { DlibHog } from './_dlib-hog.js';

const { values } = parseArgs({ options: { iou: { type: 'string', default: '0.5' }, whole: { type: 'string', default: '150' }, json: { type: 'boolean', default: false } } });
const iou = Number(values.iou);
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const dataDir = resolve(repoRoot, process.env.FACEPIPE_TEST_DATA ?? '../shared/data');
const paths = {
  lfw: resolve(dataDir, 'recognition/lfw_dev/lfw-deepfunneled'),
  boxes: resolve(dataDir, 'detection/dlib_pascal_training/boxes.csv'),
  afw: resolve(dataDir, 'landmarks/afw_subset_68pt'),
  negatives: resolve(dataDir, 'negatives'),
};
const missing = Object.entries(paths).filter(([, p]) => !existsSync(p)).map(([k, p]) => `${k} (${p})`);
if (missing.length > 0) {
  console.error(`bench/detect-vs-hog: missing test data: ${missing.join(', ')}`);
  process.exit(2);
}
const started = await DlibHog.start();
if (!(started instanceof DlibHog)) {
  console.error(`bench/detect-vs-hog: the dlib HOG baseline cannot run here: missing ${started.missing}`);
  process.exit(2);
}
const hog = started;
const config = loadConfig(process.env);
const analyzer = await FaceAnalyzer.create({ ...analyzerOptionsFromConfig(config), stages: ['detect'] });

const lfw: string[] = [];
for await (const entry of new LocalInputWalker().paths([paths.lfw])) lfw.push(entry.path);
const sets = { boxes: await readBoxesCsv(paths.boxes), afw: await readPtsFolder(paths.afw), negatives: await readNegativesFolder(paths.negatives) };
const files = [...new Set([...lfw, ...sets.boxes.map((i) => i.file), ...sets.afw.map((i) => i.file), ...sets.negatives.map((i) => i.file)])];

const results = { facepipe: new Map<string, EvalImage>(), hog: new Map<string, EvalImage>() };
console.error(`bench/detect-vs-hog: ${files.length} photos, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
try {
  for (const file of files) {
    const h = await hog.detect(file);
    results.hog.set(file, { file, ms: h.decodeMs + h.detectMs + h.landmarksMs, detections: h.faces.map((f) => ({ box: f.box, score: f.score, landmarks: f.points })) });
    const bytes = await readLocalFile(file);
    const t = performance.now();
    const a = await analyzer.analyze(bytes);
    results.facepipe.set(file, { file, ms: performance.now() - t, detections: a.faces.map((f) => ({ box: [...f.box], score: f.score, landmarks: f.landmarks.map(([x, y]) => [x, y]) })) });
  }
} finally {
  await hog.close();
  await analyzer.close();
}

interface Report {
  detector: string;
  lfwWithoutFace: number;
  lfwImages: number;
  lfwMsPerPhoto: number;
  afwMsPerPhoto: number;
  rows: DetectionEvalRow[];
}
const sum = (xs: number[]) => xs.reduce((s, v) => s + v, 0);
const reports: Report[] = (['facepipe', 'hog'] as const).map((name) => {
  const r = results[name];
  const detector = name === 'hog' ? 'dlib-hog' : config.detect.detector;
  // HOG's scores are SVM margins (its threshold is 0) and it finds nothing under ~40 px with one
  // upsample: no further limits. facepipe's kept faces already passed its own score and size limits.
  const rows = [iou, 0.3].filter((v, i, all) => all.indexOf(v) === i).map((threshold) => detectionEvalRow(detector, 0, 0, sets, r, threshold));
  return {
    detector,
    lfwWithoutFace: lfw.filter((f) => r.get(f)!.detections.length === 0).length,
    lfwImages: lfw.length,
    lfwMsPerPhoto: sum(lfw.map((f) => r.get(f)!.ms)) / lfw.length,
    afwMsPerPhoto: sum(sets.afw.map((i) => r.get(i.file)!.ms)) / sets.afw.length,
    rows,
  };
});

if (values.json) console.log(JSON.stringify(reports));
console.log(`\n| detector | LFW dev photos without a face (of ${lfw.length}) | IoU | boxes found / ${reports[0]!.rows[0]!.boxes!.faces} | boxes FP | afw found / ${reports[0]!.rows[0]!.afw!.faces} | afw unannotated | negatives FP (${sets.negatives.length} images) | ms per LFW photo (250 px) | ms per AFW photo |`);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of reports) {
  for (const row of r.rows) {
    console.log(`| ${r.detector} | ${r.lfwWithoutFace} | ${row === r.rows[0] ? iou : 0.3} | ${row.boxes!.found} | ${row.boxes!.falsePositives} | ${row.afw!.found} | ${row.afw!.unannotated} | ${row.negatives!.falsePositives} in ${row.negatives!.imagesWithDetections} | ${r.lfwMsPerPhoto.toFixed(1)} | ${r.afwMsPerPhoto.toFixed(1)} |`);
  }
}
const [fp, h] = reports as [Report, Report];
console.log(`\nHOG / facepipe time per photo: LFW ${(h.lfwMsPerPhoto / fp.lfwMsPerPhoto).toFixed(2)}×, AFW ${(h.afwMsPerPhoto / fp.afwMsPerPhoto).toFixed(2)}× (decode + detect + landmarks each; facepipe's also aligns). Load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}.`);

// --- whole processes -------------------------------------------------------------------------------
const cli = resolve(repoRoot, 'packages/cli/bin/facepipe.js');
const built = DlibHog.build();
const hogBinary = 'binary' in built ? built.binary : undefined;
/** Wall time of one process from spawn to exit; its stdout is counted, not kept. */
const wall = (command: string, args: string[], stdin?: string) => new Promise<{ s: number; lines: number }>((done, fail) => {
  const t = performance.now();
  const child = spawn(command, args, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'inherit'] });
  let lines = 0;
  child.stdout!.on('data', (chunk: Buffer) => (lines += chunk.toString().split('\n').length - 1));
  if (stdin !== undefined) child.stdin!.end(stdin);
  child.once('error', fail);
  child.once('exit', (code) => (code === 0 ? done({ s: (performance.now() - t) / 1000, lines }) : fail(new Error(`${command} exited with ${code}`))));
});
const lists = { [`${Math.min(Number(values.whole), lfw.length)} LFW photos (250×250)`]: lfw.slice(0, Number(values.whole)), [`${sets.afw.length} AFW photos (0.3–6 MP)`]: sets.afw.map((i) => i.file) };
console.log('\n### whole processes: wall seconds from spawn to exit, best of 2 (models loaded in each)\n');
console.log('| photos | `facepipe detect --json` | dlib HOG program | HOG / facepipe |');
console.log('|---|---|---|---|');
for (const [name, list] of Object.entries(lists)) {
  const fp: number[] = [];
  const hs: number[] = [];
  for (let run = 0; run < 2; run++) {
    fp.push((await wall(process.execPath, [cli, 'detect', '--json', ...list])).s);
    if (hogBinary) hs.push((await wall(hogBinary, [DlibHog.predictor, '1'], `${list.join('\n')}\n`)).s);
  }
  const f = Math.min(...fp);
  const h = hs.length > 0 ? Math.min(...hs) : Number.NaN;
  console.log(`| ${name} | ${f.toFixed(2)} | ${h.toFixed(2)} | ${(h / f).toFixed(2)}× |`);
}
