import type { DetectedFace, DetectPassTiming, DetectVersionInfo, EmbedVersionInfo, RejectedFace } from '@facepipe/core';
import { decodeImage, type DecodedImage } from '../image/index.js';
import { InferencePool, loadModelManifest, type ExecutionProvider, type LoadedModelManifest, type ModelName } from '../models/index.js';
import { alignFaces, CHIP_PADDING, CHIP_SIZE } from './chips.js';
import { FaceDetector, type DetectorKind, type DetectPassOptions } from './detector.js';
import { Embedder } from './embedder.js';
import { detectorModel, detectVersionInfo, embedVersionInfo, pipelineVersion } from './versions.js';

export interface FaceAnalyzerOptions {
  /** Which stages this analyzer runs (loads only their models). @defaultValue ['detect', 'embed'] */
  stages?: readonly ('detect' | 'embed')[];
  /** @defaultValue 'ssd' */
  detector?: DetectorKind;
  /** Minimum detection score (FACEPIPE_DETECT_MIN_SCORE's default; see docs/accuracy.md). @defaultValue 0.4 */
  minScore?: number;
  /** @defaultValue 20 */
  minFaceSize?: number;
  /** Extra SSD passes (padded canvas, turned inputs). @defaultValue all on */
  passes?: DetectPassOptions;
  /** Decompression-bomb guard, width × height. @defaultValue 100000000 */
  maxPixels?: number;
  /** @defaultValue 104857600 */
  maxBytes?: number;
  /** Test-time flip for embeddings. @defaultValue false */
  flip?: boolean;
  /** @defaultValue 'cpu' */
  executionProvider?: ExecutionProvider;
  /** ONNX Runtime intra-op threads per inference thread. @defaultValue 1 */
  intraOpThreads?: number;
  /** Busy-waiting intra-op threads (only matters with intraOpThreads > 1). @defaultValue false */
  intraOpSpinning?: boolean;
  /** Inference worker threads. @defaultValue 1 */
  inferenceThreads?: number;
  /** Largest embedding batch per model run. @defaultValue 64 */
  maxEmbedBatch?: number;
  /** @defaultValue the vision package's models folder */
  modelsDir?: string;
}

/** One image after decode, detection, landmarks and alignment. */
export interface AnalyzedImage {
  width: number;
  height: number;
  format: string;
  orientation: number;
  faces: DetectedFace[];
  /** Aligned 150×150 RGB chips, face after face. */
  chips: Uint8Array;
  timings: { decodeMs: number; detectMs: number; landmarksMs: number; alignMs: number };
  /** Detections set aside, with the reason. */
  rejected: RejectedFace[];
  /** Each detector pass and its cost (their ms add up to about detectMs). */
  passes: DetectPassTiming[];
}

/**
 * The in-process vision core: decode (EXIF-upright, typed errors) → detect → landmarks →
 * dlib-style alignment → 128-d embeddings, with every model run in worker threads. The pipeline
 * workers, `facepipe detect`, `facepipe verify` and the benchmarks all use it.
 */
export class FaceAnalyzer {
  readonly manifest: LoadedModelManifest;
  readonly pool: InferencePool;
  readonly detectVersion: DetectVersionInfo;
  readonly embedVersion: EmbedVersionInfo;
  readonly pipelineVersion: string;
  readonly #detector: FaceDetector | undefined;
  readonly #embedder: Embedder | undefined;
  readonly #decode: { maxPixels: number; maxBytes: number };

  private constructor(init: {
    manifest: LoadedModelManifest;
    pool: InferencePool;
    detector?: FaceDetector;
    embedder?: Embedder;
    detectVersion: DetectVersionInfo;
    embedVersion: EmbedVersionInfo;
    decode: { maxPixels: number; maxBytes: number };
  }) {
    this.manifest = init.manifest;
    this.pool = init.pool;
    this.#detector = init.detector;
    this.#embedder = init.embedder;
    this.detectVersion = init.detectVersion;
    this.embedVersion = init.embedVersion;
    this.pipelineVersion = pipelineVersion(init.detectVersion, init.embedVersion);
    this.#decode = init.decode;
  }

  static async create(options: FaceAnalyzerOptions = {}): Promise<FaceAnalyzer> {
    const stages = options.stages ?? ['detect', 'embed'];
    const detector = options.detector ?? 'ssd';
    const manifest = await loadModelManifest(options.modelsDir);
    const models: ModelName[] = [];
    if (stages.includes('detect')) models.push(detectorModel[detector], 'face_landmark_68');
    if (stages.includes('embed')) models.push('face_recognition');
    const pool = new InferencePool({
      models,
      manifest,
      workers: options.inferenceThreads ?? 1,
      executionProvider: options.executionProvider ?? 'cpu',
      intraOpThreads: options.intraOpThreads ?? 1,
      intraOpSpinning: options.intraOpSpinning ?? false,
      interOpThreads: 1,
    });
    await pool.start();
    const settings = {
      detector,
      minScore: options.minScore ?? 0.4,
      minFaceSize: options.minFaceSize ?? 20,
      chipSize: CHIP_SIZE,
      chipPadding: CHIP_PADDING,
      ...(options.passes ? { passes: options.passes } : {}),
    };
    return new FaceAnalyzer({
      manifest,
      pool,
      detector: stages.includes('detect') ? await FaceDetector.create(pool, manifest, settings) : undefined,
      embedder: stages.includes('embed') ? new Embedder(pool, { flip: options.flip ?? false, maxBatch: options.maxEmbedBatch }) : undefined,
      detectVersion: detectVersionInfo(manifest, settings),
      embedVersion: embedVersionInfo(manifest, options.flip ?? false),
      decode: { maxPixels: options.maxPixels ?? 100_000_000, maxBytes: options.maxBytes ?? 100 * 1024 * 1024 },
    });
  }

  /** Decodes with the configured limits; throws FacepipeError with an input code for bad bytes. */
  decode(bytes: Uint8Array): Promise<DecodedImage> {
    return decodeImage(bytes, this.#decode);
  }

  /** Decode → detect → landmarks → align. */
  async analyze(bytes: Uint8Array): Promise<AnalyzedImage> {
    const t0 = performance.now();
    const img = await this.decode(bytes);
    const decodeMs = performance.now() - t0;
    return this.analyzeDecoded(img, decodeMs);
  }

  /** Detect → landmarks → align on an already decoded image. */
  async analyzeDecoded(img: DecodedImage, decodeMs = 0): Promise<AnalyzedImage> {
    if (!this.#detector) throw new Error('this FaceAnalyzer was created without the detect stage');
    const { faces, rejected, passes, detectMs, landmarksMs } = await this.#detector.detectFaces(img);
    const t = performance.now();
    const chips = alignFaces(img, faces.map((f) => f.landmarks));
    const alignMs = performance.now() - t;
    return {
      width: img.width,
      height: img.height,
      format: img.format,
      orientation: img.orientation,
      faces,
      chips,
      timings: { decodeMs, detectMs, landmarksMs, alignMs },
      rejected,
      passes,
    };
  }

  /** 128-d embeddings of `count` aligned chips (batched). */
  embed(chips: Uint8Array, count: number): Promise<Float32Array> {
    if (!this.#embedder) throw new Error('this FaceAnalyzer was created without the embed stage');
    return this.#embedder.embed(chips, count);
  }

  /** Everything for one photo: faces with their embeddings. */
  async describe(bytes: Uint8Array): Promise<AnalyzedImage & { embeddings: Float32Array[] }> {
    const analyzed = await this.analyze(bytes);
    const flat = await this.embed(analyzed.chips, analyzed.faces.length);
    const embeddings = analyzed.faces.map((_, i) => flat.slice(i * 128, (i + 1) * 128));
    return { ...analyzed, embeddings };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
