import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { FacepipeError, loadConfig } from '@facepipe/core/light';
import {
  alignFaces, CHIP_SIZE, EMBEDDING_DIMS, euclideanDistance, evaluateVerification, FaceAnalyzer, FaceDetector, lfwImagePath, meanBox, parseLfwPairs, pickCentralFace, relativeBox,
  type DecodedImage, type LfwPairs, type VerificationResult,
} from '@facepipe/vision';
import { ProgressBar } from '../ui/progress.js';
import { readInputFile } from '../vision/inputs.js';
import { mapOrdered } from '../vision/ordered.js';
import { round, secondsSince } from '../vision/output.js';
import { analyzerOptions, detectFlagOptions, detectFlagsUsage, numberFlag, resolveDetectSettings } from '../vision/settings.js';
import { UsageError, type Command } from './command.js';

/** What is done with an image in which no face is detected. */
export type NoFaceRule = 'centre' | 'wrong';

/** Where the fallback box sits when no image of the run had a face: the central half. */
const CENTRE_BOX = [0.25, 0.25, 0.5, 0.5] as const;
/** Distances that make a pair count as a wrong decision at any threshold (see `strictDistances`). */
const NEVER_SAME = 1e9;
const ALWAYS_SAME = -1;

/** The summary `facepipe verify --json` prints (more fields after the first six). */
export interface VerifyReport {
  accuracy: number;
  std: number;
  threshold: number;
  auc: number;
  pairs: number;
  noFace: number;
  noFacePairs: number;
  noFaceRule: NoFaceRule;
  standardError: number;
  folds: number;
  foldSource: LfwPairs['foldSource'];
  images: number;
  detector: string;
  minScore: number;
  minFaceSize: number;
  flip: boolean;
  /** The same evaluation under the other no-face rule. */
  otherRule: { noFaceRule: NoFaceRule; accuracy: number; std: number; threshold: number; auc: number };
  perFold: { fold: number; threshold: number; accuracy: number; pairs: number }[];
  noFaceImages: string[];
  seconds: number;
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'face verification accuracy on an LFW-style pairs file (View 2 protocol)',
  usage: `facepipe verify --pairs <pairs.txt> --root <dir> [--json] [--flip] [options]

Runs the LFW "View 2" protocol: every distinct image of the pairs file (<root>/<name>/<name>_<NNNN>.jpg)
is decoded, its face detected, aligned and embedded once; a pair's distance is the Euclidean
distance of the two 128-d embeddings (dlib's metric). For each fold the threshold that maximises
accuracy on the other folds is applied to the fold; the report gives the mean accuracy, its
standard deviation over folds, the mean threshold and the ROC AUC over all pairs. A file with one
fold (e.g. "1<TAB>140") is split into --folds folds.

Which face: of the faces whose box contains the image centre the largest, otherwise the face
nearest the centre (LFW images are centred on their subject).

No face (counted in "noFace"): with --no-face centre (default) the image is embedded anyway from
the face box where faces sit in this data set, the mean box (relative to the image size) of the
faces found in the run's other images: landmarks are found in that box, the chip is aligned and
embedded as usual. This is the usual practice of falling back to the data set's own alignment
when the detector fails. With --no-face wrong every pair with such an image is counted as a wrong
decision at any threshold (and ranked wrong for the AUC). The report always gives both.

--json prints one object: {"accuracy","std","threshold","auc","pairs","noFace", ...more fields}.

Options:
  --pairs <file>          pairs file (LFW pairs.txt format)
  --root <dir>            folder with one subfolder per person
  --json                  one JSON object instead of a readable report
  --flip                  average each embedding with its mirror image's (default FACEPIPE_EMBED_FLIP)
  --no-face centre|wrong  rule for images without a detected face (default centre)
  --folds <n>             folds for a single-fold pairs file (default 10)
${detectFlagsUsage}`,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        pairs: { type: 'string' },
        root: { type: 'string' },
        json: { type: 'boolean', default: false },
        flip: { type: 'boolean' },
        'no-face': { type: 'string', default: 'centre' },
        folds: { type: 'string', default: '10' },
        ...detectFlagOptions,
      },
    });
    if (!values.pairs || !values.root) throw new UsageError('facepipe verify needs --pairs and --root');
    const rule = values['no-face'];
    if (rule !== 'centre' && rule !== 'wrong') throw new UsageError(`--no-face must be centre or wrong, got "${rule}"`);
    const folds = numberFlag('folds', values.folds!, { min: 1, max: 1000, integer: true });
    const config = loadConfig();
    const settings = resolveDetectSettings(config, values);
    const flip = values.flip ?? config.embed.flip;

    let pairs: LfwPairs;
    try {
      pairs = parseLfwPairs(await readFile(values.pairs, 'utf8'), { splitSingleFoldInto: folds });
    } catch (err) {
      if (err instanceof SyntaxError) throw new UsageError(`${values.pairs}: ${err.message}`);
      throw err;
    }
    const root = values.root;
    const keyOf = (name: string, index: number) => `${name}\t${index}`;
    const images = new Map<string, string>();
    for (const p of pairs.pairs) {
      images.set(keyOf(p.nameA, p.indexA), lfwImagePath(root, p.nameA, p.indexA));
      images.set(keyOf(p.nameB, p.indexB), lfwImagePath(root, p.nameB, p.indexB));
    }
    const missing: string[] = [];
    for (const path of images.values()) if (!(await stat(path).catch(() => undefined))?.isFile()) missing.push(path);
    if (missing.length > 0) {
      throw new FacepipeError('OBJECT_NOT_FOUND', `${missing.length} of the ${images.size} images of ${values.pairs} are missing, e.g. ${missing.slice(0, 3).join(', ')}`);
    }

    const started = performance.now();
    const analyzer = await FaceAnalyzer.create({ ...analyzerOptions(config, settings), flip, stages: ['detect', 'embed'] });
    let embeddings: Map<string, Float32Array>;
    let noFaceKeys: string[];
    try {
      ({ embeddings, noFaceKeys } = await embedImages(analyzer, images, settings));
    } finally {
      await analyzer.close();
    }

    const noFace = new Set(noFaceKeys);
    const same = pairs.pairs.map((p) => p.same);
    const foldIds = pairs.pairs.map((p) => p.fold);
    const touchesNoFace = pairs.pairs.map((p) => noFace.has(keyOf(p.nameA, p.indexA)) || noFace.has(keyOf(p.nameB, p.indexB)));
    const distances = pairs.pairs.map((p) => euclideanDistance(embeddings.get(keyOf(p.nameA, p.indexA))!, embeddings.get(keyOf(p.nameB, p.indexB))!));
    const centre = evaluateVerification(distances, same, foldIds);
    const wrong = evaluateVerification(strictDistances(distances, same, touchesNoFace), same, foldIds);
    const [main, other] = rule === 'centre' ? [centre, wrong] : [wrong, centre];

    const report: VerifyReport = {
      accuracy: round(main.accuracy),
      std: round(main.std),
      threshold: round(main.threshold),
      auc: round(main.auc),
      pairs: pairs.pairs.length,
      noFace: noFace.size,
      noFacePairs: touchesNoFace.filter(Boolean).length,
      noFaceRule: rule,
      standardError: round(main.standardError),
      folds: pairs.folds,
      foldSource: pairs.foldSource,
      images: images.size,
      detector: settings.detector,
      minScore: settings.minScore,
      minFaceSize: settings.minFaceSize,
      flip,
      otherRule: { noFaceRule: rule === 'centre' ? 'wrong' : 'centre', accuracy: round(other.accuracy), std: round(other.std), threshold: round(other.threshold), auc: round(other.auc) },
      perFold: main.folds.map((f) => ({ fold: f.fold, threshold: round(f.threshold), accuracy: round(f.accuracy), pairs: f.pairs })),
      noFaceImages: noFaceKeys.map((k) => images.get(k)!),
      seconds: Number(secondsSince(started)),
    };
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : describe(report, main));
    return 0;
  },
};

/**
 * Distances under the "wrong" rule: a pair touching a no-face image gets a distance that puts it
 * on the wrong side of every threshold a fold can choose (same pairs far, different pairs near),
 * so it counts as an error and ranks as badly as possible for the AUC.
 */
function strictDistances(distances: readonly number[], same: readonly boolean[], touchesNoFace: readonly boolean[]): number[] {
  return distances.map((d, i) => (touchesNoFace[i] ? (same[i] ? NEVER_SAME : ALWAYS_SAME) : d));
}

/**
 * Embeds every image once. Pass 1 detects, picks the central face, aligns and embeds (in batches
 * while later images are still being decoded); pass 2 embeds the images without a face from the
 * mean relative box of the faces found in pass 1.
 */
async function embedImages(
  analyzer: FaceAnalyzer,
  images: ReadonlyMap<string, string>,
  settings: { detector: 'ssd' | 'tiny'; minScore: number; minFaceSize: number; maxBytes: number; concurrency: number },
): Promise<{ embeddings: Map<string, Float32Array>; noFaceKeys: string[] }> {
  const entries = [...images.entries()];
  const embeddings = new Map<string, Float32Array>();
  const noFaceKeys: string[] = [];
  const foundBoxes: [number, number, number, number][] = [];
  const chipBytes = CHIP_SIZE * CHIP_SIZE * 3;
  const batchSize = 32;
  const pending: { key: string; chip: Uint8Array }[] = [];
  const flushBatch = async () => {
    if (pending.length === 0) return;
    const chips = new Uint8Array(pending.length * chipBytes);
    pending.forEach((p, i) => chips.set(p.chip, i * chipBytes));
    const flat = await analyzer.embed(chips, pending.length);
    pending.forEach((p, i) => embeddings.set(p.key, flat.slice(i * EMBEDDING_DIMS, (i + 1) * EMBEDDING_DIMS)));
    pending.length = 0;
  };
  const decode = async (path: string): Promise<DecodedImage> => {
    try {
      return await analyzer.decode(await readInputFile(path, settings.maxBytes));
    } catch (err) {
      const e = FacepipeError.from(err);
      throw new FacepipeError(e.code, `${path}: ${e.message}`, { cause: err });
    }
  };

  const bar = new ProgressBar('verify', { unit: 'image' });
  const total = entries.length;
  let done = 0;
  await mapOrdered(
    entries,
    async ([key, path]) => {
      const img = await decode(path);
      const a = await analyzer.analyzeDecoded(img);
      const i = pickCentralFace(a.faces.map((f) => f.box), a.width, a.height);
      if (i < 0) return { key, chip: undefined, box: undefined };
      return { key, chip: a.chips.slice(i * chipBytes, (i + 1) * chipBytes), box: relativeBox(a.faces[i]!.box, a.width, a.height) };
    },
    async ({ key, chip, box }) => {
      if (chip && box) {
        foundBoxes.push(box);
        pending.push({ key, chip });
        if (pending.length >= batchSize) await flushBatch();
      } else {
        noFaceKeys.push(key);
      }
      bar.update(++done, total, `${noFaceKeys.length} without a face`);
    },
    { concurrency: settings.concurrency },
  );
  await flushBatch();

  if (noFaceKeys.length > 0) {
    const rel = meanBox(foundBoxes, CENTRE_BOX);
    const landmarker = await FaceDetector.create(analyzer.pool, analyzer.manifest, settings);
    for (const key of noFaceKeys) {
      const img = await decode(images.get(key)!);
      const box = [rel[0] * img.width, rel[1] * img.height, rel[2] * img.width, rel[3] * img.height] as const;
      const [points] = await landmarker.landmarks(img, [box]);
      pending.push({ key, chip: alignFaces(img, [points!]) });
      if (pending.length >= batchSize) await flushBatch();
    }
    await flushBatch();
  }
  bar.done();
  return { embeddings, noFaceKeys };
}

function describe(r: VerifyReport, main: VerificationResult): string {
  const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
  const lines = [
    `${r.pairs} pairs (${r.pairs / 2} same, ${r.pairs / 2} different) in ${r.folds} folds${r.foldSource === 'split' ? ' (single-fold file split)' : ''}, ${r.images} images`,
    `detector ${r.detector} (min score ${r.minScore}, min face ${r.minFaceSize} px), flip ${r.flip ? 'on' : 'off'}`,
    `no face found in ${r.noFace} images (${r.noFacePairs} pairs): ${r.noFaceRule === 'centre' ? 'embedded from the mean face box of the other images' : 'those pairs counted as wrong'}`,
    '',
    `accuracy   ${pct(r.accuracy)} ± ${pct(r.std)} (std over folds; standard error ${pct(r.standardError)})`,
    `threshold  ${r.threshold.toFixed(4)} (mean of the per-fold thresholds; Euclidean distance)`,
    `ROC AUC    ${r.auc.toFixed(4)}`,
    '',
    `with --no-face ${r.otherRule.noFaceRule}: accuracy ${pct(r.otherRule.accuracy)} ± ${pct(r.otherRule.std)}, threshold ${r.otherRule.threshold.toFixed(4)}, AUC ${r.otherRule.auc.toFixed(4)}`,
    '',
    'fold  pairs  threshold  accuracy',
    ...main.folds.map((f) => `${String(f.fold).padStart(4)}  ${String(f.pairs).padStart(5)}  ${f.threshold.toFixed(4).padStart(9)}  ${pct(f.accuracy).padStart(8)}`),
    `(${r.seconds} s)`,
  ];
  return `${lines.join('\n')}\n`;
}
