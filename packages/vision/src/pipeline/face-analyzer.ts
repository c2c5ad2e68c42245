import type { DetectedFace, DetectPassTiming, DetectVersionInfo, EmbedVersionInfo, Point, RejectedFace } from '@facepipe/core/light';
import { estimatePose, fitFaceShape, mirrorDisagreement, rollQuarter } from '../geometry/index.js';
import { decodeImage, laplacianVariance, type DecodedImage } from '../image/index.js';
import { InferencePool, loadModelManifest, type ExecutionProvider, type LoadedModelManifest, type ModelName } from '../models/index.js';
import { alignFaces, CHIP_PADDING, CHIP_SIZE } from './chips.js';
import { refineLandmarks } from './face-crops.js';
import { FaceDetector, type DetectorKind, type DetectPassOptions } from './detector.js';
import { Embedder } from './embedder.js';
import { checkOrientation, resolveOrientationCheck, type OrientationCheckOptions, type ResolvedOrientationCheck } from './face-orientation.js';
import { isAnimalFace, isNotAFace, mirroredCropLandmarks, resolveFaceScreen, speciesOfFaces, type FaceScreenOptions, type ResolvedFaceScreen } from './face-screen.js';
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
  /**
   * The landmark-orientation check (landmarks of sideways faces found upright); `false` turns it off.
   * @defaultValue on, with the thresholds of {@link OrientationCheckOptions}
   */
  orientationCheck?: OrientationCheckOptions | false;
  /**
   * NOT_A_FACE screening of the detections; `false` turns it off.
   * @defaultValue the animal check on, the mirror check off (see {@link FaceScreenOptions})
   */
  screen?: FaceScreenOptions | false;
  /**
   * A second landmark pass on a crop centred on each face's first points. Off by default: on
   * held-out LFW photos it did not put more right people first and moved turned probes farther
   * from their own photos (docs/models.md, "Landmarks: a second pass"). @defaultValue false
   */
  landmarkRefine?: boolean;
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
  /** `screenMs`: the NOT_A_FACE animal check's object-detector run, when there were faces to check. */
  timings: { decodeMs: number; detectMs: number; landmarksMs: number; alignMs: number; screenMs?: number };
  /** Detections set aside, with the reason. */
  rejected: RejectedFace[];
  /** Each detector pass and its cost (their ms add up to about detectMs). */
  passes: DetectPassTiming[];
  /** What the checks after detection did (their landmark-net runs are counted in landmarksMs). */
  checks: FaceChecksReport;
}

/** What the checks after detection did on one image. */
export interface FaceChecksReport {
  /** Faces whose landmarks were looked at again at the other quarter turns, and how many changed. */
  orientationChecked: number;
  orientationChanged: number;
  /** Extra landmark-net runs: the orientation check's (0 or 1), the second pass's (1, when on) and the NOT_A_FACE mirror check's (0 or 1, when on). */
  extraLandmarkRuns: number;
  /** Faces the animal check looked at (one object-detector run for all of them). */
  animalChecked: number;
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
  readonly #orientation: ResolvedOrientationCheck | undefined;
  readonly #screen: ResolvedFaceScreen | undefined;
  readonly #landmarkRefine: boolean;

  private constructor(init: {
    manifest: LoadedModelManifest;
    pool: InferencePool;
    detector?: FaceDetector;
    embedder?: Embedder;
    detectVersion: DetectVersionInfo;
    embedVersion: EmbedVersionInfo;
    decode: { maxPixels: number; maxBytes: number };
    orientation: ResolvedOrientationCheck | undefined;
    screen: ResolvedFaceScreen | undefined;
    landmarkRefine: boolean;
  }) {
    this.manifest = init.manifest;
    this.pool = init.pool;
    this.#detector = init.detector;
    this.#embedder = init.embedder;
    this.detectVersion = init.detectVersion;
    this.embedVersion = init.embedVersion;
    this.pipelineVersion = pipelineVersion(init.detectVersion, init.embedVersion);
    this.#decode = init.decode;
    this.#orientation = init.orientation;
    this.#screen = init.screen;
    this.#landmarkRefine = init.landmarkRefine;
  }

  static async create(options: FaceAnalyzerOptions = {}): Promise<FaceAnalyzer> {
    const stages = options.stages ?? ['detect', 'embed'];
    const detector = options.detector ?? 'ssd';
    const manifest = await loadModelManifest(options.modelsDir);
    const models: ModelName[] = [];
    const screen = options.screen === false ? undefined : resolveFaceScreen(options.screen);
    if (stages.includes('detect')) models.push(detectorModel[detector], 'face_landmark_68');
    if (stages.includes('detect') && screen?.animals) models.push('object_centernet');
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
      orientationCheck: options.orientationCheck ?? {},
      screen: options.screen ?? {},
      landmarkRefine: options.landmarkRefine ?? false,
    };
    return new FaceAnalyzer({
      manifest,
      pool,
      detector: stages.includes('detect') ? await FaceDetector.create(pool, manifest, settings) : undefined,
      embedder: stages.includes('embed') ? new Embedder(pool, { flip: options.flip ?? false, maxBatch: options.maxEmbedBatch }) : undefined,
      detectVersion: detectVersionInfo(manifest, settings),
      embedVersion: embedVersionInfo(manifest, options.flip ?? false),
      decode: { maxPixels: options.maxPixels ?? 100_000_000, maxBytes: options.maxBytes ?? 100 * 1024 * 1024 },
      orientation: options.orientationCheck === false ? undefined : resolveOrientationCheck(options.orientationCheck),
      screen,
      landmarkRefine: settings.landmarkRefine,
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

  /** Detect → landmarks → orientation check → NOT_A_FACE screen → align (+ quality) on an already decoded image. */
  async analyzeDecoded(img: DecodedImage, decodeMs = 0): Promise<AnalyzedImage> {
    const detector = this.#detector;
    if (!detector) throw new Error('this FaceAnalyzer was created without the detect stage');
    const found = await detector.detectFaces(img);
    const { passes, detectMs } = found;
    let faces = found.faces;
    const rejected = [...found.rejected];
    const checks: FaceChecksReport = { orientationChecked: 0, orientationChanged: 0, extraLandmarkRuns: 0, animalChecked: 0 };
    const tChecks = performance.now();
    if (this.#orientation && faces.length > 0) {
      const r = await checkOrientation(faces, (boxes, turns) => detector.landmarks(img, boxes, turns), this.#orientation);
      faces = faces.map((f, i) => (r.landmarks[i] === f.landmarks ? f : { ...f, landmarks: r.landmarks[i]!.map(roundPoint) }));
      Object.assign(checks, { orientationChecked: r.checked, orientationChanged: r.changed, extraLandmarkRuns: r.runs });
    }
    if (this.#landmarkRefine && faces.length > 0) {
      const refined = await refineLandmarks(this.pool, img, faces.map((f) => f.landmarks));
      faces = faces.map((f, i) => ({ ...f, landmarks: refined[i]!.map(roundPoint) }));
      checks.extraLandmarkRuns++;
    }
    // The landmark fits, once: the checks below turn their crops by them, quality records them.
    let fits = faces.map((f) => fitFaceShape(f.landmarks));
    /** Sets the faces at `indices` aside as NOT_A_FACE, keeping `faces` and `fits` in step. */
    const setAside = (indices: ReadonlySet<number>, looksLike?: (i: number) => string): void => {
      for (const i of indices) rejected.push({ box: faces[i]!.box, score: faces[i]!.score, reason: 'NOT_A_FACE', ...(looksLike ? { looksLike: looksLike(i) } : {}) });
      faces = faces.filter((_, i) => !indices.has(i)).map((f, index) => ({ ...f, index }));
      fits = fits.filter((_, i) => !indices.has(i));
    };
    const screen = this.#screen;
    if (screen?.mirror && faces.length > 0) {
      // Only faces whose landmarks fit the mean face are screened, each crop turned the way those
      // landmarks say the face is turned: for landmarks that fit badly (profiles, sideways faces
      // the orientation check could not fix) the mirror test says nothing reliable.
      const screened = faces.map((_, i) => i).filter((i) => fits[i]!.residual <= screen.maxResidual);
      const mirrored = await mirroredCropLandmarks(this.pool, img, screened.map((i) => faces[i]!.box), screened.map((i) => rollQuarter(fits[i]!.roll)));
      if (screened.length > 0) checks.extraLandmarkRuns++;
      setAside(new Set(screened.filter((i, k) => mirrored[k]!.length === 68 && isNotAFace(mirrorDisagreement(faces[i]!.landmarks, mirrored[k]!, faces[i]!.box), screen))));
    }
    const landmarksMs = found.landmarksMs + (performance.now() - tChecks);
    let screenMs: number | undefined;
    if (screen?.animals && faces.length > 0) {
      const animals = screen.animals;
      const tScreen = performance.now();
      // Each face also looked at turned the way its landmarks say it is turned (see speciesOfFaces).
      const species = await speciesOfFaces(this.pool, img, faces.map((f) => f.box), animals, fits.map((f) => rollQuarter(f.roll)));
      checks.animalChecked = faces.length;
      setAside(new Set(faces.map((_, i) => i).filter((i) => isAnimalFace(species[i]!, animals))), (i) => species[i]!.animalClass);
      screenMs = performance.now() - tScreen;
    }
    const t = performance.now();
    const chips = alignFaces(img, faces.map((f) => f.landmarks));
    faces = faces.map((f, i) => withQuality(f, fits[i]!.residual, chips, i));
    const alignMs = performance.now() - t;
    return {
      width: img.width,
      height: img.height,
      format: img.format,
      orientation: img.orientation,
      faces,
      chips,
      timings: { decodeMs, detectMs, landmarksMs, alignMs, ...(screenMs !== undefined ? { screenMs } : {}) },
      rejected,
      passes,
      checks,
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

const round2 = (v: number) => Math.round(v * 100) / 100;
const roundPoint = ([x, y]: readonly [number, number]): Point => [round2(x), round2(y)];

/** The face with its quality attributes: landmark fit (`fitFaceShape`'s residual), rough pose, the aligned chip's sharpness. */
function withQuality(face: DetectedFace, shapeResidual: number, chips: Uint8Array, i: number): DetectedFace {
  const per = CHIP_SIZE * CHIP_SIZE * 3;
  const pose = estimatePose(face.landmarks);
  return {
    ...face,
    quality: {
      shapeResidual: Math.round(shapeResidual * 1e4) / 1e4,
      yaw: Math.round(pose.yaw * 10) / 10,
      pitch: Math.round(pose.pitch * 10) / 10,
      sharpness: Math.round(laplacianVariance(chips.subarray(i * per, (i + 1) * per), CHIP_SIZE, CHIP_SIZE) * 10) / 10,
    },
  };
}
