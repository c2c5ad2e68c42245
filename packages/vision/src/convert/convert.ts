/**
 * Turns face-api's shipped TF.js weights into ONNX graphs plus `manifest.json`. Deterministic
 * (same inputs, same bytes), offline, and skipped when the manifest already records the same
 * source hashes and converter version.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { MODEL_CONTRACTS, MODEL_NAMES, SSD_ANCHOR_COUNT, type ModelName } from '../models/contract.js';
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
import { buildSsdMobilenetv1 } from './nets/ssd-mobilenetv1.js';
import { buildTinyFaceDetector } from './nets/tiny-face-detector.js';
import { encodeModel, type GraphSpec } from './onnx-proto.js';
import { readTfjsWeights, type TfjsWeight } from './tfjs-weights.js';

export const CONVERTER_NAME = '@facepipe/vision/convert';
/** Bump whenever a graph builder or the writer changes what it emits. */
export const CONVERTER_VERSION = '1.2.0';

export const SOURCE_PACKAGE = '@vladmandic/face-api';
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

const builders: Record<ModelName, (w: Map<string, TfjsWeight>) => { graph: GraphSpec; anchors?: Float32Array }> = {
  ssd_mobilenetv1: buildSsdMobilenetv1,
  tiny_face_detector: buildTinyFaceDetector,
  face_landmark_68: buildFaceLandmark68,
  face_recognition: buildFaceRecognition,
};

function resolveSourcePackage(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve(`${SOURCE_PACKAGE}/package.json`));
}

async function sourceFingerprint(pkgDir: string): Promise<{ packageVersion: string; files: Map<ModelName, { path: string; sha256: string }[]> }> {
  const pkg = JSON.parse(await readFile(join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const files = new Map<ModelName, { path: string; sha256: string }[]>();
  for (const name of MODEL_NAMES) {
    const manifestPath = join(pkgDir, 'model', MODEL_CONTRACTS[name].sourceManifest);
    const groups = JSON.parse(await readFile(manifestPath, 'utf8')) as { paths: string[] }[];
    const paths = [manifestPath, ...groups.flatMap((g) => g.paths.map((p) => join(dirname(manifestPath), p)))];
    files.set(
      name,
      await Promise.all(paths.map(async (p) => ({ path: relative(pkgDir, p).split('\\').join('/'), sha256: sha256Hex(await readFile(p)) }))),
    );
  }
  return { packageVersion: pkg.version, files };
}

/** True when `existing` was made by this converter version from exactly these source files. */
function isCurrent(existing: ModelManifest, packageVersion: string, files: Map<ModelName, { path: string; sha256: string }[]>): boolean {
  if (existing.converter.name !== CONVERTER_NAME || existing.converter.version !== CONVERTER_VERSION) return false;
  return MODEL_NAMES.every((name) => {
    const m = existing.models[name];
    return (
      m.source.package === SOURCE_PACKAGE &&
      m.source.packageVersion === packageVersion &&
      JSON.stringify(m.source.files) === JSON.stringify(files.get(name))
    );
  });
}

async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

/** Converts the four networks; see {@link ConvertOptions}. */
export async function convertModels(options: ConvertOptions = {}): Promise<ConvertResult> {
  const outDir = options.outDir ?? DEFAULT_MODELS_DIR;
  const pkgDir = options.sourcePackageDir ?? resolveSourcePackage();
  const log = options.log ?? (() => {});
  const { packageVersion, files } = await sourceFingerprint(pkgDir);

  if (!options.force) {
    try {
      const existing = await loadModelManifest(outDir);
      if (isCurrent(existing, packageVersion, files)) {
        log(`models in ${outDir} are current (converter ${CONVERTER_VERSION}, ${SOURCE_PACKAGE}@${packageVersion}); use --force to rebuild`);
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
    const { weights } = await readTfjsWeights(join(pkgDir, 'model', contract.sourceManifest));
    const { graph, anchors } = builders[name](weights);
    const bytes = encodeModel({
      irVersion: ONNX_IR_VERSION,
      opsetImports: [{ domain: '', version: ONNX_OPSET }],
      producerName: CONVERTER_NAME,
      producerVersion: CONVERTER_VERSION,
      docString: `${name}: converted from ${SOURCE_PACKAGE}@${packageVersion} model/${contract.sourceManifest}`,
      graph,
      metadata: { source_package: `${SOURCE_PACKAGE}@${packageVersion}`, source_manifest: contract.sourceManifest },
    });
    const sha256 = sha256Hex(bytes);
    const file = `${name}.onnx`;
    await writeAtomic(join(outDir, file), bytes);
    const entry: ManifestModel = {
      file,
      version: `${name}@face-api-${packageVersion}+${sha256.slice(0, 8)}`,
      sha256,
      bytes: bytes.byteLength,
      source: { package: SOURCE_PACKAGE, packageVersion, files: files.get(name) ?? [] },
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
