/**
 * Ground truth for the evaluations (`facepipe eval-detection` / `eval-landmarks`, the benchmarks),
 * read from folders in the shared data's formats: a boxes CSV (`file,left,top,width,height`), iBUG `.pts` files next to their
 * photos (`<photo>_<k>.pts` for face k of `<photo>.jpg`), and folders of images without faces.
 */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { hasImageExtension, LocalInputWalker } from '@facepipe/core/light';
import { boundingBoxOfPoints } from '../geometry/index.js';

type Box = [x: number, y: number, w: number, h: number];
type Point = [x: number, y: number];

/** One photo and the faces annotated in it. */
export interface AnnotatedImage {
  readonly file: string;
  readonly boxes: Box[];
  /** 68 points per face when the source has them (same order as `boxes`). */
  readonly landmarks?: Point[][];
}

/**
 * Parses a boxes CSV: a header naming at least `file,left,top,width,height` (any order), then one
 * face per line; files are resolved against `baseDir`. Images are returned in order of first
 * appearance.
 */
export function parseBoxesCsv(text: string, baseDir: string): AnnotatedImage[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines.length === 0) throw new SyntaxError('boxes CSV is empty');
  const header = lines[0]!.split(',').map((h) => h.trim().toLowerCase());
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new SyntaxError(`boxes CSV header lacks "${name}" (expected file,left,top,width,height)`);
    return i;
  };
  const [f, l, t, w, h] = [col('file'), col('left'), col('top'), col('width'), col('height')];
  const byFile = new Map<string, Box[]>();
  lines.slice(1).forEach((line, i) => {
    const cells = line.split(',').map((c) => c.trim());
    const nums = [l, t, w, h].map((k) => Number(cells[k]));
    if (!cells[f] || nums.some((v) => !Number.isFinite(v)) || nums[2]! <= 0 || nums[3]! <= 0) {
      throw new SyntaxError(`boxes CSV line ${i + 2}: "${line}" is not file,left,top,width,height`);
    }
    const file = resolve(baseDir, cells[f]!);
    if (!byFile.has(file)) byFile.set(file, []);
    byFile.get(file)!.push(nums as Box);
  });
  return [...byFile].map(([file, boxes]) => ({ file, boxes }));
}

/**
 * Parses an iBUG `.pts` file: optional `version:` / `n_points:` / `{` … `}` framing around one
 * "x y" line per point. iBUG coordinates are 1-based (the centre of the top-left pixel is (1, 1)),
 * while facepipe's landmarks are 0-based pixel coordinates (as indices), so `oneBased` (the
 * default) subtracts 1 from both coordinates.
 */
export function parsePts(text: string, options: { oneBased?: boolean } = {}): Point[] {
  const shift = options.oneBased === false ? 0 : 1;
  const points: Point[] = [];
  let declared: number | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line === '{' || line === '}' || line.startsWith('version')) continue;
    const n = /^n_points\s*:\s*(\d+)$/.exec(line);
    if (n) {
      declared = Number(n[1]);
      continue;
    }
    const parts = line.split(/\s+/).map(Number);
    if (parts.length !== 2 || parts.some((v) => !Number.isFinite(v))) throw new SyntaxError(`.pts line "${line}" is not "x y"`);
    points.push([parts[0]! - shift, parts[1]! - shift]);
  }
  if (declared !== undefined && declared !== points.length) throw new SyntaxError(`.pts declares ${declared} points but has ${points.length}`);
  return points;
}

/** Reads a boxes CSV; image paths are relative to the CSV's folder. */
export async function readBoxesCsv(path: string): Promise<AnnotatedImage[]> {
  return parseBoxesCsv(await readFile(path, 'utf8'), dirname(path));
}

/**
 * Reads a folder of photos with `.pts` annotations: `<photo>_<k>.pts` belongs to the image
 * `<photo>.<ext>` in the same folder. Ground-truth boxes are the extents of the points. Photos
 * without any `.pts` are not returned (nothing is known about their faces).
 */
export async function readPtsFolder(dir: string, options: { oneBased?: boolean } = {}): Promise<AnnotatedImage[]> {
  const names = (await readdir(dir)).sort();
  const imagesByStem = new Map(names.filter(hasImageExtension).map((n) => [basename(n, extname(n)), join(dir, n)]));
  const byImage = new Map<string, Point[][]>();
  for (const name of names.filter((n) => n.toLowerCase().endsWith('.pts'))) {
    const stem = basename(name, extname(name));
    const photoStem = imagesByStem.has(stem) ? stem : stem.replace(/_\d+$/, '');
    const image = imagesByStem.get(photoStem);
    if (!image) throw new Error(`${join(dir, name)}: no image ${photoStem}.* next to it`);
    const points = parsePts(await readFile(join(dir, name), 'utf8'), options);
    if (points.length !== 68) throw new SyntaxError(`${join(dir, name)}: ${points.length} points, expected 68`);
    if (!byImage.has(image)) byImage.set(image, []);
    byImage.get(image)!.push(points);
  }
  return [...byImage].map(([file, landmarks]) => ({ file, boxes: landmarks.map((points) => [...boundingBoxOfPoints(points)] as Box), landmarks }));
}

/** Image files under a folder (recursively), each with no faces. */
export async function readNegativesFolder(dir: string): Promise<AnnotatedImage[]> {
  // The same walk as folder ingest: names sorted, OS clutter and non-images skipped.
  const files: AnnotatedImage[] = [];
  for await (const entry of new LocalInputWalker().paths([dir])) files.push({ file: entry.path, boxes: [] });
  return files;
}
