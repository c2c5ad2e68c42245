import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DETECT_PASS_NAMES, loadConfig, parseDetectPasses, type ErrorRecord } from '@facepipe/core/light';
import { detectionEvalRow, readBoxesCsv, readNegativesFolder, readPtsFolder, type DetectionEvalRow, type DetectorKind, type DetectPassOptions } from '@facepipe/vision';
import { detectImages } from '../vision/eval-run.js';
import { secondsSince } from '../vision/output.js';
import { detectorFlag, numberFlag, numberListFlag, resolveDetectSettings } from '../vision/settings.js';
import { UsageError, type Command } from './command.js';

/** Ground truth sources of an evaluation, from --data or the individual flags. */
export interface EvalSources {
  boxes?: string;
  afw?: string;
  negatives?: string;
}

/** The standard layout of the shared data folder. */
export function sourcesUnder(dataDir: string): Required<EvalSources> {
  return {
    boxes: join(dataDir, 'detection', 'dlib_pascal_training', 'boxes.csv'),
    afw: join(dataDir, 'landmarks', 'afw_subset_68pt'),
    negatives: join(dataDir, 'negatives'),
  };
}

export async function checkExists(path: string, flag: string): Promise<void> {
  if (!(await stat(path).catch(() => undefined))) throw new UsageError(`${flag}: ${path} does not exist`);
}

export type { DetectionEvalRow };

export interface DetectionEvalReport {
  iou: number;
  sources: EvalSources;
  rows: DetectionEvalRow[];
  /** Wall time of each detector's pass over all images (decode, detect, landmarks, align). */
  seconds: Partial<Record<DetectorKind, number>>;
  errors: { file: string; error: ErrorRecord }[];
}

export const evalDetectionCommand: Command = {
  name: 'eval-detection',
  summary: 'detection recall and false positives on annotated folders, per detector and min score',
  usage: `facepipe eval-detection --data <dir> | [--boxes <csv>] [--afw <dir>] [--negatives <dir>] [options]

Runs each detector once per image (at the lowest --min-score, no size limit) and reports, for
every combination of --min-score and --min-face-size, the faces found (IoU ≥ --iou with a ground
truth box, greedy by score, PASCAL VOC style) and the false positives:
  --boxes <csv>       file,left,top,width,height per face (paths relative to the CSV); every
                      clearly visible face is boxed: unmatched detections are false positives
  --afw <dir>         photos with iBUG 68-point .pts files (<photo>_<k>.pts); ground truth box =
                      extent of the 68 points; not every face is annotated, so unmatched detections
                      are reported as "unannotated", not as false positives
  --negatives <dir>   images without faces: every detection is a false positive
  --data <dir>        the shared data layout: <dir>/detection/dlib_pascal_training/boxes.csv,
                      <dir>/landmarks/afw_subset_68pt, <dir>/negatives

Options:
  --json                     one JSON object instead of tables
  --detector <list>          detectors, comma-separated (default ssd,tiny)
  --min-score <list>         score thresholds (default 0.3,0.4,0.5,0.6,0.7,0.8)
  --min-face-size <list>     smallest face sizes in px (default FACEPIPE_MIN_FACE_SIZE)
  --iou <0..1>               overlap that counts as found (default 0.5)
  --passes <list>            extra SSD passes: all (default), none, or a list of padded, tiles, turned
                             (comma-separated), to measure what each pass adds
  --max-pixels <n>, --concurrency <n>   as for facepipe detect`,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' },
        boxes: { type: 'string' },
        afw: { type: 'string' },
        negatives: { type: 'string' },
        json: { type: 'boolean', default: false },
        detector: { type: 'string', default: 'ssd,tiny' },
        'min-score': { type: 'string', default: '0.3,0.4,0.5,0.6,0.7,0.8' },
        'min-face-size': { type: 'string' },
        iou: { type: 'string', default: '0.5' },
        passes: { type: 'string', default: 'all' },
        'max-pixels': { type: 'string' },
        concurrency: { type: 'string' },
      },
    });
    const config = loadConfig();
    const settings = resolveDetectSettings(config, { 'max-pixels': values['max-pixels'], concurrency: values.concurrency });
    const detectors = [...new Set(values.detector!.split(',').map(detectorFlag))];
    const minScores = numberListFlag('min-score', values['min-score']!, { min: 0.01, max: 0.99 });
    const minFaceSizes = values['min-face-size'] !== undefined
      ? numberListFlag('min-face-size', values['min-face-size'], { min: 0, max: 10_000, integer: true })
      : [config.detect.minFaceSize];
    const iou = numberFlag('iou', values.iou!, { min: 0.01, max: 1 });
    const passes = passesFlag(values.passes!);
    const sources: EvalSources = values.data !== undefined ? sourcesUnder(values.data) : {};
    if (values.boxes !== undefined) sources.boxes = values.boxes;
    if (values.afw !== undefined) sources.afw = values.afw;
    if (values.negatives !== undefined) sources.negatives = values.negatives;
    if (!sources.boxes && !sources.afw && !sources.negatives) throw new UsageError('give --data, or at least one of --boxes, --afw, --negatives');
    for (const [flag, path] of Object.entries(sources)) await checkExists(path, `--${flag}`);

    const sets = {
      boxes: sources.boxes ? await readBoxesCsv(sources.boxes) : [],
      afw: sources.afw ? await readPtsFolder(sources.afw) : [],
      negatives: sources.negatives ? await readNegativesFolder(sources.negatives) : [],
    };
    const files = [...new Set([...sets.boxes, ...sets.afw, ...sets.negatives].map((i) => i.file))];
    const report: DetectionEvalReport = { iou, sources, rows: [], seconds: {}, errors: [] };
    for (const detector of detectors) {
      const started = performance.now();
      const results = new Map((await detectImages(config, settings, detector, minScores[0]!, files, passes)).map((r) => [r.file, r]));
      report.seconds[detector] = Number(secondsSince(started));
      if (report.errors.length === 0) {
        for (const r of results.values()) if (r.error) report.errors.push({ file: r.file, error: r.error });
      }
      for (const minScore of minScores) {
        for (const minFaceSize of minFaceSizes) {
          report.rows.push(detectionEvalRow(detector, minScore, minFaceSize, sets, results, iou));
        }
      }
    }
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : describe(report));
    return 0;
  },
};

/** `--passes`: all, none, or a list of padded / tiles / turned. */
export function passesFlag(value: string): DetectPassOptions {
  const passes = parseDetectPasses(value);
  if (!passes) throw new UsageError(`--passes: ${value} is not all, none, or a list of ${DETECT_PASS_NAMES.join(', ')}`);
  return passes;
}

function describe(r: DetectionEvalReport): string {
  const lines: string[] = [`faces found at IoU ≥ ${r.iou}; ${Object.entries(r.sources).map(([k, v]) => `${k}: ${v}`).join(', ')}`, ''];
  const first = r.rows[0];
  const head = ['detector', 'min score', 'min face', 'recall'];
  if (first?.boxes) head.push(`boxes found/${first.boxes.faces}`, 'boxes FP');
  if (first?.afw) head.push(`afw found/${first.afw.faces}`, 'afw unannotated');
  if (first?.negatives) head.push(`negatives FP (${first.negatives.images} images)`);
  lines.push(head.join('  '));
  for (const row of r.rows) {
    const cells = [row.detector.padEnd(8), String(row.minScore).padStart(9), String(row.minFaceSize).padStart(8), row.recall.toFixed(3).padStart(6)];
    if (row.boxes) cells.push(`${row.boxes.found} (${row.boxes.recall.toFixed(3)})`.padStart(head[4]!.length), String(row.boxes.falsePositives).padStart(8));
    if (row.afw) {
      const i = row.boxes ? 6 : 4;
      cells.push(`${row.afw.found} (${row.afw.recall.toFixed(3)})`.padStart(head[i]!.length), String(row.afw.unannotated).padStart(15));
    }
    if (row.negatives) cells.push(`${row.negatives.falsePositives} in ${row.negatives.imagesWithDetections} images`.padStart(head[head.length - 1]!.length));
    lines.push(cells.join('  '));
  }
  lines.push('', `time per detector pass: ${Object.entries(r.seconds).map(([d, s]) => `${d} ${s} s`).join(', ')}`);
  for (const e of r.errors) lines.push(`not evaluated: ${e.file}: ${e.error.code}: ${e.error.message}`);
  return `${lines.join('\n')}\n`;
}
