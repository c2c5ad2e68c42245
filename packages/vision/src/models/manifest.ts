/**
 * `models/manifest.json`: what the converter wrote, with sha256 of every file, and the one place
 * the runtime learns model files, versions and I/O shapes from.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { FacepipeError } from '@facepipe/core/light';
import { MODEL_CONTRACTS, MODEL_NAMES, type Dim, type ModelName, type ModelOutputContract } from './contract.js';

export interface ManifestFileRef {
  path: string;
  sha256: string;
}

export interface ManifestModel {
  /** ONNX file name inside the models folder. */
  file: string;
  /** Stable id that results and storage keys embed, e.g. `face_recognition@face-api-1.7.15+1a2b3c4d`. */
  version: string;
  sha256: string;
  bytes: number;
  source: { package: string; packageVersion: string; files: ManifestFileRef[] };
  input: { name: 'image'; shape: Dim[]; layout: 'NHWC'; range: [number, number] };
  normalisation: { description: string; mean: [number, number, number]; divisor: number; offset: number };
  outputs: ModelOutputContract[];
  extras?: { anchors: { file: string; sha256: string; shape: number[] } };
}

export interface ModelManifest {
  converter: { name: string; version: string };
  models: Record<ModelName, ManifestModel>;
}

/** A manifest read from disk, with the folder it came from. */
export interface LoadedModelManifest extends ModelManifest {
  dir: string;
}

/** The package's own generated models folder (`packages/vision/models`). */
export const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

export const MANIFEST_FILE = 'manifest.json';

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function fail(dir: string, problem: string): FacepipeError {
  return new FacepipeError(
    'MODEL_ERROR',
    `model files in ${dir}: ${problem}. Run \`npm run build\` (or \`node packages/vision/dist/convert/main.js --force\`) to regenerate them.`,
    { retryable: false },
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isHex64 = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
const isDims = (v: unknown): v is Dim[] =>
  Array.isArray(v) && v.every((d) => (typeof d === 'number' && Number.isInteger(d) && d > 0) || (typeof d === 'string' && d !== ''));

/** Checks the manifest's structure and that it agrees with {@link MODEL_CONTRACTS}; throws on the first problem. */
export function validateModelManifest(value: unknown, dir = '(memory)'): ModelManifest {
  if (!isObject(value)) throw fail(dir, 'manifest.json is not a JSON object');
  const { converter, models } = value;
  if (!isObject(converter) || typeof converter.name !== 'string' || typeof converter.version !== 'string') {
    throw fail(dir, 'manifest.json has no converter {name, version}');
  }
  if (!isObject(models)) throw fail(dir, 'manifest.json has no models');
  for (const name of MODEL_NAMES) {
    const m = models[name];
    const where = `manifest model ${name}`;
    if (!isObject(m)) throw fail(dir, `${where} is missing`);
    if (typeof m.file !== 'string' || m.file.includes('/') || m.file.includes('\\')) throw fail(dir, `${where}: bad file`);
    if (typeof m.version !== 'string' || !m.version.startsWith(`${name}@`)) throw fail(dir, `${where}: bad version`);
    if (!isHex64(m.sha256) || typeof m.bytes !== 'number') throw fail(dir, `${where}: bad sha256/bytes`);
    const source = m.source;
    if (!isObject(source) || typeof source.package !== 'string' || typeof source.packageVersion !== 'string' || !Array.isArray(source.files)) {
      throw fail(dir, `${where}: bad source`);
    }
    if (!source.files.every((f) => isObject(f) && typeof f.path === 'string' && isHex64(f.sha256))) throw fail(dir, `${where}: bad source files`);
    const contract = MODEL_CONTRACTS[name];
    const input = m.input;
    if (!isObject(input) || input.name !== 'image' || input.layout !== 'NHWC' || !isDims(input.shape)) throw fail(dir, `${where}: bad input`);
    if (JSON.stringify(input.shape) !== JSON.stringify(contract.input.shape)) {
      throw fail(dir, `${where}: input shape ${JSON.stringify(input.shape)}, this code expects ${JSON.stringify(contract.input.shape)}`);
    }
    if (!isObject(m.normalisation) || typeof m.normalisation.description !== 'string') throw fail(dir, `${where}: bad normalisation`);
    const outputs = m.outputs;
    if (!Array.isArray(outputs) || JSON.stringify(outputs.map((o: unknown) => (isObject(o) ? o.name : null))) !== JSON.stringify(contract.outputs.map((o) => o.name))) {
      throw fail(dir, `${where}: outputs differ from ${contract.outputs.map((o) => o.name).join(', ')}`);
    }
    if (m.extras !== undefined) {
      const anchors = isObject(m.extras) ? m.extras.anchors : undefined;
      if (!isObject(anchors) || typeof anchors.file !== 'string' || !isHex64(anchors.sha256) || !isDims(anchors.shape)) {
        throw fail(dir, `${where}: bad extras.anchors`);
      }
    }
  }
  const ssd = models.ssd_mobilenetv1;
  if (!isObject(ssd) || !isObject(ssd.extras)) throw fail(dir, 'manifest model ssd_mobilenetv1 has no anchors');
  return value as unknown as ModelManifest;
}

async function checkFile(dir: string, file: string, sha256: string): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, file));
  } catch (err) {
    throw fail(dir, `${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const actual = sha256Hex(bytes);
  if (actual !== sha256) throw fail(dir, `${file} has sha256 ${actual.slice(0, 12)}…, the manifest says ${sha256.slice(0, 12)}…`);
}

export interface LoadModelManifestOptions {
  /**
   * Hash every model file and compare with the manifest.
   * @defaultValue true
   */
  verify?: boolean;
}

/**
 * Reads and validates `manifest.json` from `dir` (default: this package's `models/` folder) and
 * checks the sha256 of every file it lists. Fails fast with a FacepipeError('MODEL_ERROR') that
 * says to run `npm run build`.
 */
export async function loadModelManifest(dir: string = DEFAULT_MODELS_DIR, options: LoadModelManifestOptions = {}): Promise<LoadedModelManifest> {
  const abs = resolve(dir);
  let text: string;
  try {
    text = await readFile(join(abs, MANIFEST_FILE), 'utf8');
  } catch (err) {
    throw fail(abs, `${MANIFEST_FILE} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw fail(abs, `${MANIFEST_FILE} is not valid JSON`);
  }
  const manifest = validateModelManifest(json, abs);
  if (options.verify ?? true) {
    await Promise.all(
      MODEL_NAMES.flatMap((name) => {
        const m = manifest.models[name];
        const checks = [checkFile(abs, m.file, m.sha256)];
        if (m.extras) checks.push(checkFile(abs, m.extras.anchors.file, m.extras.anchors.sha256));
        return checks;
      }),
    );
  }
  return { ...manifest, dir: abs };
}

/** Absolute path of a model's ONNX file. */
export function modelFilePath(manifest: LoadedModelManifest, name: ModelName): string {
  return join(manifest.dir, manifest.models[name].file);
}

/** Reads the SSD anchors listed in the manifest: [5118 × 4] (ymin, xmin, ymax, xmax), normalised. */
export async function loadSsdAnchors(manifest: LoadedModelManifest): Promise<Float32Array> {
  const anchors = manifest.models.ssd_mobilenetv1.extras?.anchors;
  if (!anchors) throw fail(manifest.dir, 'ssd_mobilenetv1 has no anchors');
  const bytes = await readFile(join(manifest.dir, anchors.file));
  if (sha256Hex(bytes) !== anchors.sha256) throw fail(manifest.dir, `${anchors.file} does not match its sha256`);
  const expected = anchors.shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== expected * 4) throw fail(manifest.dir, `${anchors.file} has ${bytes.byteLength} bytes, expected ${expected * 4}`);
  const out = new Float32Array(expected);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
