import type { DetectedFace, Point } from '@facepipe/core';
import { clipBox, nonMaxSuppression, letterboxToImage, type Box } from '../geometry/index.js';
import { cropAndResize, letterboxRgb, type RgbImage } from '../image/index.js';
import { decodeSsd, decodeTinyYolo, loadSsdAnchors, type DetectionCandidates, type InferencePool, type LoadedModelManifest } from '../models/index.js';

export type DetectorKind = 'ssd' | 'tiny';

export interface DetectorOptions {
  /** @defaultValue 'ssd' */
  detector?: DetectorKind;
  /** Minimum detection score. @defaultValue 0.4 */
  minScore?: number;
  /** Smallest face kept: the shorter side of its box, in original pixels. @defaultValue 20 */
  minFaceSize?: number;
  /** Most faces kept per image. @defaultValue 100 */
  maxFaces?: number;
  /** Tiny detector input side (a multiple of 32). @defaultValue 416 */
  tinyInputSize?: number;
}

/** IoU above which NMS drops the weaker box (face-api's values per detector). */
const NMS_IOU = { ssd: 0.5, tiny: 0.4 } as const;
const SSD_INPUT = 512;
const LANDMARK_INPUT = 112;

/** Candidate boxes (normalised to the square input) → image-pixel boxes after NMS and filters. */
export function selectFaces(
  candidates: DetectionCandidates,
  image: { width: number; height: number },
  opts: { iouThreshold: number; minScore: number; minFaceSize: number; maxFaces: number },
): { box: Box; score: number }[] {
  // The image was letterboxed at the top-left into a square of side max(w, h).
  const side = Math.max(image.width, image.height);
  const boxes: Box[] = [];
  for (let i = 0; i < candidates.count; i++) {
    const x1 = candidates.boxes[i * 4]! * side;
    const y1 = candidates.boxes[i * 4 + 1]! * side;
    const x2 = candidates.boxes[i * 4 + 2]! * side;
    const y2 = candidates.boxes[i * 4 + 3]! * side;
    boxes.push([x1, y1, x2 - x1, y2 - y1]);
  }
  const kept = nonMaxSuppression(boxes, candidates.scores.subarray(0, candidates.count), {
    iouThreshold: opts.iouThreshold,
    scoreThreshold: opts.minScore,
    maxResults: opts.maxFaces,
  });
  return kept
    .map((i) => ({ box: clipBox(boxes[i]!, image.width, image.height), score: candidates.scores[i]! }))
    .filter(({ box }) => Math.min(box[2], box[3]) >= Math.max(1, opts.minFaceSize));
}

/**
 * Face detection and 68-point landmarks on a decoded image, with the models in an
 * {@link InferencePool} (worker threads). Landmarks of all faces run as one batch.
 */
export class FaceDetector {
  readonly kind: DetectorKind;
  readonly #opts: Required<DetectorOptions>;
  readonly #pool: InferencePool;
  readonly #anchors: Float32Array | undefined;

  private constructor(pool: InferencePool, anchors: Float32Array | undefined, opts: Required<DetectorOptions>) {
    this.#pool = pool;
    this.#anchors = anchors;
    this.#opts = opts;
    this.kind = opts.detector;
  }

  static async create(pool: InferencePool, manifest: LoadedModelManifest, options: DetectorOptions = {}): Promise<FaceDetector> {
    const opts: Required<DetectorOptions> = {
      detector: options.detector ?? 'ssd',
      minScore: options.minScore ?? 0.4,
      minFaceSize: options.minFaceSize ?? 20,
      maxFaces: options.maxFaces ?? 100,
      tinyInputSize: options.tinyInputSize ?? 416,
    };
    if (opts.tinyInputSize % 32 !== 0) throw new RangeError(`tinyInputSize must be a multiple of 32, got ${opts.tinyInputSize}`);
    const anchors = opts.detector === 'ssd' ? await loadSsdAnchors(manifest) : undefined;
    return new FaceDetector(pool, anchors, opts);
  }

  /** Face boxes and scores in image pixels, best first. */
  async detect(img: RgbImage): Promise<{ box: Box; score: number }[]> {
    const { detector, minScore, minFaceSize, maxFaces, tinyInputSize } = this.#opts;
    const select = { iouThreshold: NMS_IOU[detector], minScore, minFaceSize, maxFaces };
    if (detector === 'ssd') {
      const input = letterboxRgb(img, SSD_INPUT);
      const out = await this.#pool.run('ssd_mobilenetv1', input.tensor, 1, SSD_INPUT, SSD_INPUT);
      const candidates = decodeSsd(out.box_encodings!.data, out.class_logits!.data, this.#anchors!, 0, { scoreThreshold: minScore });
      return selectFaces(candidates, img, select);
    }
    const input = letterboxRgb(img, tinyInputSize);
    const out = await this.#pool.run('tiny_face_detector', input.tensor, 1, tinyInputSize, tinyInputSize);
    const cells = tinyInputSize / 32;
    return selectFaces(decodeTinyYolo(out.grid!.data, cells, cells, { scoreThreshold: minScore }), img, select);
  }

  /** 68 landmarks per box (iBUG order, image pixels), all faces in one batch. */
  async landmarks(img: RgbImage, boxes: readonly Box[]): Promise<Point[][]> {
    if (boxes.length === 0) return [];
    const per = LANDMARK_INPUT * LANDMARK_INPUT * 3;
    const batch = new Float32Array(per * boxes.length);
    const geometries = boxes.map((box, i) => cropAndResize(img, box, LANDMARK_INPUT, { out: batch, outOffset: i * per })?.geometry);
    const out = await this.#pool.run('face_landmark_68', batch, boxes.length, LANDMARK_INPUT, LANDMARK_INPUT);
    const raw = out.landmarks!.data;
    return geometries.map((g, i) => {
      if (!g) return [];
      const points: Point[] = [];
      for (let p = 0; p < 68; p++) {
        const [x, y] = letterboxToImage(g, [raw[i * 136 + p * 2]! * LANDMARK_INPUT, raw[i * 136 + p * 2 + 1]! * LANDMARK_INPUT]);
        points.push([x, y]);
      }
      return points;
    });
  }

  /** Detection and landmarks together, as result records. */
  async detectFaces(img: RgbImage): Promise<{ faces: DetectedFace[]; detectMs: number; landmarksMs: number }> {
    const t0 = performance.now();
    const found = await this.detect(img);
    const t1 = performance.now();
    const points = await this.landmarks(img, found.map((f) => f.box));
    const t2 = performance.now();
    const faces = found
      .map((f, i) => ({ box: f.box, score: f.score, landmarks: points[i]! }))
      .filter((f) => f.landmarks.length === 68)
      .map((f, index): DetectedFace => ({
        index,
        box: f.box.map(round2) as [number, number, number, number],
        score: Math.round(f.score * 1e4) / 1e4,
        landmarks: f.landmarks.map(([x, y]) => [round2(x), round2(y)] as Point),
      }));
    return { faces, detectMs: t1 - t0, landmarksMs: t2 - t1 };
  }
}

const round2 = (v: number) => Math.round(v * 100) / 100;
