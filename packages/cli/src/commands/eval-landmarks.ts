import { parseArgs } from 'node:util';
import { loadConfig, type ErrorRecord } from '@facepipe/core/light';
import { landmarkError, OUTER_EYE_CORNERS, readPtsFolder, type DetectorKind, type Point } from '@facepipe/vision';
import { detectImages, keepDetections, matchImage } from '../vision/eval-run.js';
import { round } from '../vision/output.js';
import { detectorFlag, numberFlag, resolveDetectSettings } from '../vision/settings.js';
import { UsageError, type Command } from './command.js';
import { checkExists, sourcesUnder } from './eval-detection.js';

/** iBUG 68-point regions (0-based, end exclusive). */
const REGIONS = { jaw: [0, 17], eyebrows: [17, 27], nose: [27, 36], eyes: [36, 48], mouth: [48, 68] } as const;

export interface LandmarkEvalRow {
  detector: DetectorKind;
  minScore: number;
  minFaceSize: number;
  faces: number;
  /** Faces with a detection at IoU ≥ iou: the only ones measured. */
  matched: number;
  missed: number;
  /** Mean error over the 68 points / outer-eye-corner distance, per face; these summarise the matched faces. */
  nme: { mean: number; median: number; p90: number; max: number };
  /** Matched faces with NME above 0.08 and above 0.10 (the usual failure thresholds). */
  failures: { above008: number; above010: number };
  /** Mean NME per region (points of the region only, same normaliser). */
  regions: Record<keyof typeof REGIONS, number>;
  /** Mean signed error (predicted − true), in pixels and in inter-ocular distances. */
  bias: { dxPx: number; dyPx: number; dx: number; dy: number };
  /** Mean NME of the same faces if the .pts coordinates were read the other way (0- vs 1-based). */
  meanIfOtherConvention: number;
}

export interface LandmarkEvalReport {
  afw: string;
  iou: number;
  coordinates: '1-based' | '0-based';
  rows: LandmarkEvalRow[];
  errors: { file: string; error: ErrorRecord }[];
}

export const evalLandmarksCommand: Command = {
  name: 'eval-landmarks',
  summary: '68-point landmark error (NME, inter-ocular) of detected faces on an iBUG-annotated folder',
  usage: `facepipe eval-landmarks --data <dir> | --afw <dir> [options]

For every face annotated in a folder of photos with iBUG 68-point .pts files (<photo>_<k>.pts),
finds the detection that matches it (IoU ≥ --iou with the extent of its points, greedy by score)
and measures the normalised mean error: the mean distance between predicted and true points divided
by the distance between the true outer eye corners (points 37 and 46, 1-based; the 300-W
convention). Faces without a matching detection are reported as missed and not measured.

.pts coordinates are read as 1-based (iBUG's convention: the top-left pixel's centre is (1, 1)),
so 1 is subtracted from both to get facepipe's 0-based pixel coordinates; --zero-based reads them
unchanged. The report gives the mean signed error and the mean NME under the other reading, so
the choice can be checked on the data.

Options:
  --afw <dir>            the annotated folder (--data <dir>: <dir>/landmarks/afw_subset_68pt)
  --json                 one JSON object instead of a table
  --detector <list>      detectors, comma-separated (default ssd,tiny)
  --min-score <0..1>     detection threshold (default FACEPIPE_DETECT_MIN_SCORE)
  --min-face-size <px>   (default FACEPIPE_MIN_FACE_SIZE)
  --iou <0..1>           overlap that counts as the same face (default 0.5)
  --zero-based           read .pts coordinates as 0-based
  --max-pixels <n>, --concurrency <n>   as for facepipe detect`,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        data: { type: 'string' },
        afw: { type: 'string' },
        json: { type: 'boolean', default: false },
        detector: { type: 'string', default: 'ssd,tiny' },
        'min-score': { type: 'string' },
        'min-face-size': { type: 'string' },
        iou: { type: 'string', default: '0.5' },
        'zero-based': { type: 'boolean', default: false },
        'max-pixels': { type: 'string' },
        concurrency: { type: 'string' },
      },
    });
    const config = loadConfig();
    const settings = resolveDetectSettings(config, {
      'min-score': values['min-score'],
      'min-face-size': values['min-face-size'],
      'max-pixels': values['max-pixels'],
      concurrency: values.concurrency,
    });
    const detectors = [...new Set(values.detector!.split(',').map(detectorFlag))];
    const iou = numberFlag('iou', values.iou!, { min: 0.01, max: 1 });
    const afw = values.afw ?? (values.data !== undefined ? sourcesUnder(values.data).afw : undefined);
    if (!afw) throw new UsageError('give --afw or --data');
    await checkExists(afw, values.afw ? '--afw' : '--data');
    const oneBased = !values['zero-based'];
    const images = await readPtsFolder(afw, { oneBased });
    // The same annotation read the other way: 1 px further from (or nearer to) the origin.
    const shift = oneBased ? 1 : -1;

    const report: LandmarkEvalReport = { afw, iou, coordinates: oneBased ? '1-based' : '0-based', rows: [], errors: [] };
    for (const detector of detectors) {
      const results = await detectImages(config, settings, detector, settings.minScore, images.map((i) => i.file));
      const errors: number[] = [];
      const otherErrors: number[] = [];
      const regionSums = Object.fromEntries(Object.keys(REGIONS).map((k) => [k, 0])) as Record<keyof typeof REGIONS, number>;
      const bias = { dxPx: 0, dyPx: 0, dx: 0, dy: 0 };
      let faces = 0;
      results.forEach((r, i) => {
        const truth = images[i]!;
        faces += truth.boxes.length;
        if (r.error && report.errors.every((e) => e.file !== r.file)) report.errors.push({ file: r.file, error: r.error });
        const kept = keepDetections(r.detections, settings.minScore, settings.minFaceSize);
        for (const [d, g] of matchImage(truth, kept, iou).matches) {
          const predicted = kept[d]!.landmarks;
          const points = truth.landmarks![g]!;
          const inter = interOcular(points);
          errors.push(landmarkError(predicted, points));
          otherErrors.push(landmarkError(predicted, points.map(([x, y]): Point => [x + shift, y + shift])));
          for (const [name, [a, b]] of Object.entries(REGIONS) as [keyof typeof REGIONS, readonly [number, number]][]) {
            let sum = 0;
            for (let p = a; p < b; p++) sum += Math.hypot(predicted[p]![0] - points[p]![0], predicted[p]![1] - points[p]![1]);
            regionSums[name] += sum / (b - a) / inter;
          }
          let dx = 0;
          let dy = 0;
          for (let p = 0; p < 68; p++) {
            dx += predicted[p]![0] - points[p]![0];
            dy += predicted[p]![1] - points[p]![1];
          }
          bias.dxPx += dx / 68;
          bias.dyPx += dy / 68;
          bias.dx += dx / 68 / inter;
          bias.dy += dy / 68 / inter;
        }
      });
      const n = errors.length;
      const sorted = [...errors].sort((a, b) => a - b);
      const mean = (xs: number[]) => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : Number.NaN);
      report.rows.push({
        detector,
        minScore: settings.minScore,
        minFaceSize: settings.minFaceSize,
        faces,
        matched: n,
        missed: faces - n,
        nme: { mean: round(mean(errors)), median: round(quantile(sorted, 0.5)), p90: round(quantile(sorted, 0.9)), max: round(sorted[n - 1] ?? Number.NaN) },
        failures: { above008: errors.filter((e) => e > 0.08).length, above010: errors.filter((e) => e > 0.1).length },
        regions: Object.fromEntries(Object.entries(regionSums).map(([k, v]) => [k, round(n ? v / n : Number.NaN)])) as Record<keyof typeof REGIONS, number>,
        bias: { dxPx: round(bias.dxPx / n, 2), dyPx: round(bias.dyPx / n, 2), dx: round(bias.dx / n), dy: round(bias.dy / n) },
        meanIfOtherConvention: round(mean(otherErrors)),
      });
    }
    process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : describe(report));
    return 0;
  },
};

function interOcular(points: readonly Point[]): number {
  const [l, r] = [points[OUTER_EYE_CORNERS[0]]!, points[OUTER_EYE_CORNERS[1]]!];
  return Math.hypot(r[0] - l[0], r[1] - l[1]);
}

/** Linear-interpolation quantile of sorted values. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function describe(r: LandmarkEvalReport): string {
  const lines = [
    `${r.afw}: NME = mean point error / outer-eye-corner distance, faces matched at IoU ≥ ${r.iou}, .pts read as ${r.coordinates}`,
    '',
    'detector  min score  faces  matched  missed  NME mean  median    p90    max  >0.08  >0.10  bias dx,dy px  NME if ' + (r.coordinates === '1-based' ? '0-based' : '1-based'),
  ];
  for (const row of r.rows) {
    lines.push(
      [
        row.detector.padEnd(8),
        String(row.minScore).padStart(9),
        String(row.faces).padStart(5),
        String(row.matched).padStart(7),
        String(row.missed).padStart(6),
        row.nme.mean.toFixed(4).padStart(8),
        row.nme.median.toFixed(4).padStart(7),
        row.nme.p90.toFixed(4).padStart(6),
        row.nme.max.toFixed(3).padStart(6),
        String(row.failures.above008).padStart(5),
        String(row.failures.above010).padStart(5),
        `${row.bias.dxPx.toFixed(2)}, ${row.bias.dyPx.toFixed(2)}`.padStart(13),
        row.meanIfOtherConvention.toFixed(4).padStart(14),
      ].join('  '),
    );
  }
  lines.push('', 'per region (mean NME over the region\'s points):');
  for (const row of r.rows) lines.push(`  ${row.detector}: ${Object.entries(row.regions).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`);
  for (const e of r.errors) lines.push(`not evaluated: ${e.file}: ${e.error.code}: ${e.error.message}`);
  return `${lines.join('\n')}\n`;
}
