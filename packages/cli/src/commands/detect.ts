import { parseArgs } from 'node:util';
import { ErrorCodes, FacepipeError, loadConfig, type ErrorRecord, type FaceQuality, type RejectionReason } from '@facepipe/core/light';
import { FaceAnalyzer } from '@facepipe/vision';
import { expandInputsWithSkips, readInputFile } from '../vision/inputs.js';
import { mapOrdered } from '../vision/ordered.js';
import { secondsSince, writeLine } from '../vision/output.js';
import { analyzerOptions, detectFlagOptions, detectFlagsUsage, resolveDetectSettings } from '../vision/settings.js';
import { UsageError, type Command } from './command.js';

/** One output line of `facepipe detect --json`. */
export type DetectLine =
  | {
      file: string;
      width: number;
      height: number;
      faces: { box: [number, number, number, number]; score: number; landmarks: [number, number][]; quality?: FaceQuality }[];
      rejected: { box: [number, number, number, number]; score: number; reason: RejectionReason; looksLike?: string }[];
    }
  | { file: string; error: ErrorRecord };

export const detectCommand: Command = {
  name: 'detect',
  summary: 'find faces and 68 landmarks in image files, locally (no queues, no storage)',
  usage: `facepipe detect <files or folders...> [--json] [options]

Decodes each image (EXIF orientation applied), detects faces and their 68 landmarks in this
process, and prints one line per file in the order given; folders are searched recursively for
image files (by extension; hidden files, OS clutter, other names and links to folders are
skipped and counted in the summary on stderr). Boxes [x, y, w, h] and landmarks [x, y] are in pixels of the upright
original image.

--json prints one JSON object per line:
  {"file","width","height","faces":[{"box":[x,y,w,h],"score","landmarks":[[x,y] × 68],
     "quality":{"shapeResidual","yaw","pitch","sharpness"}}],
   "rejected":[{"box":[x,y,w,h],"score","reason","looksLike"?}]}
  rejected: detections set aside, reason LOW_CONFIDENCE (score below --min-score, above 3/4 of
  it), SMALL_BOUNDING_BOX (below --min-face-size) or NOT_A_FACE: an animal's face (an object
  detector sees an animal around it, not a person; looksLike names it, e.g. "cat";
  docs/accuracy.md)
  quality: landmark fit to the mean face (about 0.1 frontal), rough yaw/pitch in degrees,
  sharpness of the aligned chip (variance of its Laplacian); recorded, never a reason to reject
  {"file","error":{"code","message"}}   for a file that cannot be read as an image
Error codes: EMPTY_INPUT, NOT_AN_IMAGE, UNSUPPORTED_FORMAT, TRUNCATED_IMAGE, CORRUPT_IMAGE,
IMAGE_TOO_LARGE, FILE_TOO_LARGE, OBJECT_NOT_FOUND (no such file, dangling link), NOT_READABLE
(permission denied, link loop), NOT_A_FILE (FIFO, socket, device, folder).

Exit status 0 when every file was handled, including files reported with one of those errors;
1 when a file failed for another reason (a model or system error, also reported on its line).

Options:
  --json                  JSON lines instead of readable lines
${detectFlagsUsage}
Inference settings (FACEPIPE_INFERENCE_THREADS, FACEPIPE_INTRA_OP_THREADS,
FACEPIPE_EXECUTION_PROVIDER, FACEPIPE_DETECT_PASSES) come from the environment; without
FACEPIPE_INFERENCE_THREADS the command runs one inference worker per core (up to 4).`,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { json: { type: 'boolean', default: false }, ...detectFlagOptions },
    });
    if (positionals.length === 0) throw new UsageError('facepipe detect needs at least one file or folder');
    const config = loadConfig();
    const settings = resolveDetectSettings(config, values);
    const { files, skips, errors } = await expandInputsWithSkips(positionals);
    const started = performance.now();
    const analyzer = await FaceAnalyzer.create({ ...analyzerOptions(config, settings), stages: ['detect'] });
    let faces = 0;
    let failed = 0;
    let systemFailures = 0;
    try {
      await mapOrdered(
        files,
        async (file): Promise<DetectLine> => {
          try {
            const known = errors.get(file);
            if (known) throw known;
            const bytes = await readInputFile(file, settings.maxBytes);
            const a = await analyzer.analyze(bytes);
            return {
              file,
              width: a.width,
              height: a.height,
              faces: a.faces.map((f) => ({ box: [...f.box], score: f.score, landmarks: f.landmarks.map(([x, y]) => [x, y]), ...(f.quality ? { quality: f.quality } : {}) })),
              rejected: a.rejected.map((r) => ({ box: [...r.box], score: r.score, reason: r.reason, ...(r.looksLike ? { looksLike: r.looksLike } : {}) })),
            };
          } catch (err) {
            return { file, error: FacepipeError.from(err).toRecord() };
          }
        },
        async (line) => {
          if ('error' in line) {
            failed++;
            if (ErrorCodes[line.error.code].retryable) systemFailures++;
          } else {
            faces += line.faces.length;
          }
          await writeLine(process.stdout, values.json ? JSON.stringify(line) : describe(line));
        },
        { concurrency: settings.concurrency },
      );
    } finally {
      await analyzer.close();
    }
    process.stderr.write(
      `${files.length} file${files.length === 1 ? '' : 's'}, ${faces} face${faces === 1 ? '' : 's'}, ${failed} not readable as images` +
        ` (${settings.detector}, min score ${settings.minScore}, min face ${settings.minFaceSize} px, ${settings.inferenceThreads} inference thread${settings.inferenceThreads === 1 ? '' : 's'}) in ${secondsSince(started)} s` +
        `${skips.total > 0 ? `; ${skips.describe()}` : ''}\n`,
    );
    return systemFailures > 0 ? 1 : 0;
  },
};

function describe(line: DetectLine): string {
  if ('error' in line) return `${line.file}: error ${line.error.code}: ${line.error.message}`;
  const head = `${line.file}: ${line.width}x${line.height}, ${line.faces.length} face${line.faces.length === 1 ? '' : 's'}`;
  if (line.faces.length === 0) return head;
  const boxes = line.faces.map((f) => `[${f.box.map((v) => Math.round(v)).join(', ')}] ${f.score.toFixed(2)}`);
  return `${head}: ${boxes.join('; ')}`;
}
