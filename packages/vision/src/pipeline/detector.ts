import type { DetectedFace, Point } from '@facepipe/core';
import { clipBox, nonMaxSuppression, letterboxToImage, type Box } from '../geometry/index.js';
import { cropAndResize, letterboxRgb, type RgbImage } from '../image/index.js';
import { decodeSsd, decodeTinyYolo, ssdAnchors, SSD_TRAINED_INPUT, type DetectionCandidates, type InferencePool, type LoadedModelManifest } from '../models/index.js';

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
  /**
   * Largest SSD input side (a multiple of 32). Smaller photos run at their own size, rounded up
   * to a multiple of 32 (see {@link ssdInputSide}), so a 250×250 photo runs at 256×256.
   * @defaultValue 512
   */
  ssdMaxInputSize?: number;
}

/** Smallest SSD input side: below it the deepest feature maps would be empty. */
export const SSD_MIN_INPUT = 64;

/**
 * The SSD input side for a photo: its longer side rounded up to a multiple of 32, between 64 and
 * `maxSide`. The network is fully convolutional, so a small photo does not pay for 512×512, and a
 * face keeps its own pixel size instead of being upscaled (faces filling a small photo were
 * missed at 512, larger than what the network was trained to see).
 */
export function ssdInputSide(width: number, height: number, maxSide = SSD_TRAINED_INPUT): number {
  return Math.min(maxSide, Math.max(SSD_MIN_INPUT, Math.ceil(Math.max(width, height) / 32) * 32));
}

/** IoU above which NMS drops the weaker box (face-api's values per detector). */
const NMS_IOU = { ssd: 0.5, tiny: 0.4 } as const;
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
  /** SSD anchors per input side, made on first use. */
  readonly #anchors = new Map<number, Float32Array>();

  private constructor(pool: InferencePool, opts: Required<DetectorOptions>) {
    this.#pool = pool;
    this.#opts = opts;
    this.kind = opts.detector;
  }

  static async create(pool: InferencePool, _manifest: LoadedModelManifest, options: DetectorOptions = {}): Promise<FaceDetector> {
    const opts: Required<DetectorOptions> = {
      detector: options.detector ?? 'ssd',
      minScore: options.minScore ?? 0.4,
      minFaceSize: options.minFaceSize ?? 20,
      maxFaces: options.maxFaces ?? 100,
      tinyInputSize: options.tinyInputSize ?? 416,
      ssdMaxInputSize: options.ssdMaxInputSize ?? SSD_TRAINED_INPUT,
    };
    if (opts.tinyInputSize % 32 !== 0) throw new RangeError(`tinyInputSize must be a multiple of 32, got ${opts.tinyInputSize}`);
    if (opts.ssdMaxInputSize % 32 !== 0 || opts.ssdMaxInputSize < SSD_MIN_INPUT) {
      throw new RangeError(`ssdMaxInputSize must be a multiple of 32, at least ${SSD_MIN_INPUT}; got ${opts.ssdMaxInputSize}`);
    }
    return new FaceDetector(pool, opts);
  }

  #ssdAnchors(side: number): Float32Array {
    let anchors = this.#anchors.get(side);
    if (!anchors) this.#anchors.set(side, (anchors = ssdAnchors(side)));
    return anchors;
  }

  /** Face boxes and scores in image pixels, best first. */
  async detect(img: RgbImage): Promise<{ box: Box; score: number }[]> {
    const { detector, minScore, minFaceSize, maxFaces, tinyInputSize } = this.#opts;
    const select = { iouThreshold: NMS_IOU[detector], minScore, minFaceSize, maxFaces };
    if (detector === 'ssd') {
      const side = ssdInputSide(img.width, img.height, this.#opts.ssdMaxInputSize);
      const input = letterboxRgb(img, side);
      const out = await this.#pool.run('ssd_mobilenetv1', input.tensor, 1, side, side);
      const candidates = decodeSsd(out.box_encodings!.data, out.class_logits!.data, this.#ssdAnchors(side), 0, { scoreThreshold: minScore });
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
