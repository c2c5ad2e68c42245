/**
 * Turns the shipped TF.js weights (face-api's four face networks, human's object detector) into ONNX graphs plus `manifest.json`. Deterministic
 * (same inputs, same bytes), offline, and skipped when the manifest already records the same
 * source hashes and converter version.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { FACE_API_PACKAGE, HUMAN_PACKAGE, MODEL_CONTRACTS, MODEL_NAMES, SSD_ANCHOR_COUNT, type ModelContract, type ModelName } from '../models/contract.js';
import {
  DEFAULT_MODELS_DIR,
  MANIFEST_FILE,
  loadModelManifest,
  sha256Hex,
  type ManifestModel,
  type ModelManifest,
} from '../models/manifest.js';
import { buildFaceLandmark68 } from './nets/face-landmark-68.js';
import { buildFaceRecognition } from './nets/face-recognition.js';
import { buildObjectCenternet } from './nets/object-centernet.js';
import { buildSsdMobilenetv1 } from './nets/ssd-mobilenetv1.js';
import { buildTinyFaceDetector } from './nets/tiny-face-detector.js';
import { encodeModel, type GraphSpec } from './onnx-proto.js';
import { readTfjsGraphModel, readTfjsWeights } from './tfjs-weights.js';

export const CONVERTER_NAME = '@facepipe/vision/convert';
/** Bump whenever a graph builder or the writer changes what it emits. */
export const CONVERTER_VERSION = '1.2.0';

/** The face networks' source package (kept under this name for the existing callers). */
export const SOURCE_PACKAGE = FACE_API_PACKAGE;
export const ONNX_IR_VERSION = 8;
export const ONNX_OPSET = 17;

export interface ConvertOptions {
  /**
   * Output folder.
   * @defaultValue this package's `models/` folder
   */
  outDir?: string;
  /**
   * Root of the @vladmandic/face-api package (weights are read from its `model/` folder).
   * @defaultValue resolved from node_modules
   */
  sourcePackageDir?: string;
  /**
   * Root of the @vladmandic/human package (the object detector is read from its `models/` folder).
   * @defaultValue resolved from node_modules
   */
  humanPackageDir?: string;
  /**
   * Rebuild even when the manifest is current.
   * @defaultValue false
   */
  force?: boolean;
  /** Progress lines. @defaultValue no output */
  log?: (line: string) => void;
}

export interface ConvertResult {
  skipped: boolean;
  outDir: string;
  manifest: ModelManifest;
}

type Built = { graph: GraphSpec; anchors?: Float32Array };

/** Each network's builder, from its source file (a weights manifest or a graph model). */
const builders: Record<ModelName, (sourceFile: string) => Promise<Built>> = {
  ssd_mobilenetv1: async (f) => buildSsdMobilenetv1((await readTfjsWeights(f)).weights),
  tiny_face_detector: async (f) => buildTinyFaceDetector((await readTfjsWeights(f)).weights),
  face_landmark_68: async (f) => buildFaceLandmark68((await readTfjsWeights(f)).weights),
  face_recognition: async (f) => buildFaceRecognition((await readTfjsWeights(f)).weights),
  object_centernet: async (f) => buildObjectCenternet(await readTfjsGraphModel(f)),
};

/** A package's root folder. @vladmandic/human's `exports` hide its package.json, so walk up from its entry. */
function resolvePackage(name: string): string {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name !== name) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`${name}: package root not found`);
    dir = up;
  }
  return dir;
}

/** A source package's root folder and version. */
interface SourcePackage {
  dir: string;
  version: string;
}

type SourceFiles = Map<ModelName, { path: string; sha256: string }[]>;

/** The source file a contract names, relative to its package root. */
function sourcePath(source: ModelContract['source']): string {
  return 'manifest' in source ? join('model', source.manifest) : source.graphModel;
}

async function sourceFingerprint(packages: Record<string, SourcePackage>): Promise<SourceFiles> {
  const files: SourceFiles = new Map();
  for (const name of MODEL_NAMES) {
    const source = MODEL_CONTRACTS[name].source;
    const pkgDir = packages[source.package]!.dir;
    const entry = join(pkgDir, sourcePath(source));
    const parsed = JSON.parse(await readFile(entry, 'utf8')) as { paths: string[] }[] | { weightsManifest: { paths: string[] }[] };
    const groups = Array.isArray(parsed) ? parsed : parsed.weightsManifest;
    const paths = [entry, ...groups.flatMap((g) => g.paths.map((p) => join(dirname(entry), p)))];
    files.set(
      name,
      await Promise.all(paths.map(async (p) => ({ path: relative(pkgDir, p).split('\\').join('/'), sha256: sha256Hex(await readFile(p)) }))),
    );
  }
  return files;
}

/** True when `existing` was made by this converter version from exactly these source files. */
function isCurrent(existing: ModelManifest, packages: Record<string, SourcePackage>, files: SourceFiles): boolean {
  if (existing.converter.name !== CONVERTER_NAME || existing.converter.version !== CONVERTER_VERSION) return false;
  return MODEL_NAMES.every((name) => {
    const m = existing.models[name];
    const source = MODEL_CONTRACTS[name].source;
    return (
      m !== undefined &&
      m.source.package === source.package &&
      m.source.packageVersion === packages[source.package]!.version &&
      JSON.stringify(m.source.files) === JSON.stringify(files.get(name))
    );
  });
}

async function readPackage(dir: string): Promise<SourcePackage> {
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version: string };
  return { dir, version: pkg.version };
}

/** Short package tag in model versions: `face-api-1.7.15`, `human-3.3.6`. */
function packageTag(name: string, version: string): string {
  return `${name.split('/').pop()}-${version}`;
}

async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

/** Converts every network of MODEL_NAMES; see {@link ConvertOptions}. */
export async function convertModels(options: ConvertOptions = {}): Promise<ConvertResult> {
  const outDir = options.outDir ?? DEFAULT_MODELS_DIR;
  const log = options.log ?? (() => {});
  const packages: Record<string, SourcePackage> = {
    [FACE_API_PACKAGE]: await readPackage(options.sourcePackageDir ?? resolvePackage(FACE_API_PACKAGE)),
    [HUMAN_PACKAGE]: await readPackage(options.humanPackageDir ?? resolvePackage(HUMAN_PACKAGE)),
  };
  const files = await sourceFingerprint(packages);

  if (!options.force) {
    try {
      const existing = await loadModelManifest(outDir);
      if (isCurrent(existing, packages, files)) {
        const from = Object.entries(packages).map(([n, p]) => `${n}@${p.version}`).join(', ');
        log(`models in ${outDir} are current (converter ${CONVERTER_VERSION}, ${from}); use --force to rebuild`);
        const { dir, ...manifest } = existing; // `dir` is where we looked, not part of the manifest
        return { skipped: true, outDir, manifest };
      }
    } catch {
      // missing, stale or damaged: rebuild
    }
  }

  await mkdir(outDir, { recursive: true });
  const models = {} as Record<ModelName, ManifestModel>;
  for (const name of MODEL_NAMES) {
    const started = performance.now();
    const contract = MODEL_CONTRACTS[name];
    const source = contract.source;
    const pkg = packages[source.package]!;
    const path = sourcePath(source);
    const { graph, anchors } = await builders[name](join(pkg.dir, path));
    // The face networks' doc string and metadata are as converter 1.2.0 wrote them, so their bytes
    // (and model versions) do not change with the object detector's arrival.
    const manifestKey = 'manifest' in source ? 'source_manifest' : 'source_graph_model';
    const shown = 'manifest' in source ? `model/${source.manifest}` : source.graphModel;
    const bytes = encodeModel({
      irVersion: ONNX_IR_VERSION,
      opsetImports: [{ domain: '', version: ONNX_OPSET }],
      producerName: CONVERTER_NAME,
      producerVersion: CONVERTER_VERSION,
      docString: `${name}: converted from ${source.package}@${pkg.version} ${shown}`,
      graph,
      metadata: { source_package: `${source.package}@${pkg.version}`, [manifestKey]: 'manifest' in source ? source.manifest : source.graphModel },
    });
    const sha256 = sha256Hex(bytes);
    const file = `${name}.onnx`;
    await writeAtomic(join(outDir, file), bytes);
    const entry: ManifestModel = {
      file,
      version: `${name}@${packageTag(source.package, pkg.version)}+${sha256.slice(0, 8)}`,
      sha256,
      bytes: bytes.byteLength,
      source: { package: source.package, packageVersion: pkg.version, files: files.get(name) ?? [] },
      input: { ...contract.input, shape: [...contract.input.shape] },
      normalisation: contract.normalisation,
      outputs: contract.outputs,
    };
    if (anchors) {
      const anchorBytes = new Uint8Array(anchors.buffer, anchors.byteOffset, anchors.byteLength);
      const anchorFile = `${name}.anchors.bin`;
      await writeAtomic(join(outDir, anchorFile), anchorBytes);
      entry.extras = { anchors: { file: anchorFile, sha256: sha256Hex(anchorBytes), shape: [SSD_ANCHOR_COUNT, 4] } };
    }
    models[name] = entry;
    log(`${file}: ${graph.nodes.length} nodes, ${(bytes.byteLength / 1e6).toFixed(1)} MB, ${(performance.now() - started).toFixed(0)} ms`);
  }
  const manifest: ModelManifest = { converter: { name: CONVERTER_NAME, version: CONVERTER_VERSION }, models };
  await writeAtomic(join(outDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  log(`wrote ${join(outDir, MANIFEST_FILE)}`);
  return { skipped: false, outDir, manifest };
}
