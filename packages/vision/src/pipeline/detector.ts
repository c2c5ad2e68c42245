import type { DetectedFace, DetectPassTiming, Point, RejectedFace } from '@facepipe/core/light';
import {
  clipBox, nonMaxSuppression, placeOnCanvas, tileGrid, turnSquareNhwc, unturnCorners, type Box, type QuarterTurns,
} from '../geometry/index.js';
import { letterboxRegion, letterboxRgb, letterboxRgbRect, type RgbImage } from '../image/index.js';
import { decodeSsd, decodeTinyYolo, ssdAnchors, SSD_TRAINED_INPUT, type DetectionCandidates, type InferencePool, type LoadedModelManifest } from '../models/index.js';
import { chooseTurnedPass, wantsPaddedPass, wantsTilesPass, wantsTurnedPasses } from './detect-passes.js';
import { cropLandmarks } from './face-crops.js';

export type DetectorKind = 'ssd' | 'tiny';

/** Extra SSD passes, each run only when the passes before it leave the photo without a clear face. */
export interface DetectPassOptions {
  /**
   * The photo at half scale, centred on a black canvas of the same input side, when the upright
   * pass finds nothing or only faces larger than `largeFace` of the photo's shorter side.
   * @defaultValue true
   */
  padded?: boolean;
  /**
   * The upright input turned by 90° and 270° (the better wins), then 180°, when no pass before
   * found a face: sideways photos without an EXIF orientation.
   * @defaultValue true
   */
  turned?: boolean;
  /** See `padded`. @defaultValue 0.7 */
  largeFace?: number;
  /**
   * Tiles of a large photo (longer side at least twice the SSD input side), each seen at the full
   * input side: about 2 × 2 overlapping tiles, twice the upright pass's resolution. Run only when
   * the passes before found a face at the detector's small end (shorter side under `smallFace`
   * input pixels): the sign of smaller faces around it, as in a crowd. A face from a tile is kept
   * only when it is small and lies whole inside its tile (larger ones the upright pass sees whole).
   * @defaultValue true
   */
  tiles?: boolean;
  /** See `tiles`, in upright input pixels. @defaultValue 40 */
  smallFace?: number;
}

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
  /** Extra SSD passes. @defaultValue all on */
  passes?: DetectPassOptions;
}

/** Smallest SSD input side: below it the deepest feature maps would be empty. */
export const SSD_MIN_INPUT = 64;

/**
 * Detections scoring at least this fraction of `minScore` (and not suppressed by a better box) are
 * reported as rejected LOW_CONFIDENCE; weaker ones are noise and dropped silently.
 */
const REJECT_FLOOR = 0.75;
/** Most rejected detections reported per image. */
const MAX_REJECTED = 10;

/**
 * The SSD input side for a photo: its longer side rounded up to a multiple of 32, between 64 and
 * `maxSide`. The network is fully convolutional, so a small photo does not pay for 512×512, and a
 * face keeps its own pixel size instead of being upscaled (faces filling a small photo were
 * missed at 512, larger than what the network was trained to see).
 */
export function ssdInputSide(width: number, height: number, maxSide = SSD_TRAINED_INPUT): number {
  return Math.min(maxSide, Math.max(SSD_MIN_INPUT, Math.ceil(Math.max(width, height) / 32) * 32));
}

/** The SSD's upright input: the square letterbox side and the part of it the photo covers. */
export interface SsdInputExtent {
  /** Side of the square letterbox the coordinates refer to ({@link ssdInputSide}). */
  side: number;
  /** Input width and height actually run: the photo's extent at that scale, rounded up to 32. */
  width: number;
  height: number;
}

/**
 * The SSD upright input for a photo: {@link ssdInputSide}, then only as many rows and columns of
 * it as the photo covers, rounded up to a multiple of 32 (at least 64). The rest of the square is
 * black padding that costs model time and finds nothing: a 3:2 photo runs at 512×352 (0.69 of
 * the area), 16:9 at 512×288.
 */
export function ssdInputExtent(width: number, height: number, maxSide = SSD_TRAINED_INPUT): SsdInputExtent {
  const side = ssdInputSide(width, height, maxSide);
  const scale = side / Math.max(width, height);
  const fit = (v: number) => Math.min(side, Math.max(SSD_MIN_INPUT, Math.ceil((v * scale) / 32) * 32));
  return { side, width: fit(width), height: fit(height) };
}

/** IoU above which NMS drops the weaker box (face-api's values per detector). */
const NMS_IOU = { ssd: 0.5, tiny: 0.4 } as const;

/** A detection in image pixels; `turns` is how far the face is turned from upright (0 = upright). */
export interface FoundFace {
  box: Box;
  score: number;
  turns: QuarterTurns;
}

/** All faces of one image with the passes that found them and what was set aside. */
export interface Detection {
  faces: FoundFace[];
  rejected: RejectedFace[];
  passes: DetectPassTiming[];
}

/** Candidates of several passes, in one coordinate system (normalised to the upright input). */
interface CandidateSet {
  boxes: number[];
  scores: number[];
  turns: QuarterTurns[];
}

function addCandidates(set: CandidateSet, c: DetectionCandidates, map: (x1: number, y1: number, x2: number, y2: number) => [number, number, number, number], turns: QuarterTurns): number {
  for (let i = 0; i < c.count; i++) {
    set.boxes.push(...map(c.boxes[i * 4]!, c.boxes[i * 4 + 1]!, c.boxes[i * 4 + 2]!, c.boxes[i * 4 + 3]!));
    set.scores.push(c.scores[i]!);
    set.turns.push(turns);
  }
  return c.count;
}

/** Candidate boxes (normalised to the square input) → image-pixel boxes after NMS and filters. */
export function selectFaces(
  candidates: DetectionCandidates,
  image: { width: number; height: number },
  opts: { iouThreshold: number; minScore: number; minFaceSize: number; maxFaces: number },
): { box: Box; score: number }[] {
  const set: CandidateSet = { boxes: [], scores: [], turns: [] };
  addCandidates(set, candidates, (...b) => b, 0);
  return selectFromSet(set, image, opts).faces.map(({ box, score }) => ({ box, score }));
}

/**
 * NMS over every pass's candidates, then the filters: below `minScore` → LOW_CONFIDENCE, shorter
 * side below `minFaceSize` → SMALL_BOUNDING_BOX (both recorded as rejected).
 */
function selectFromSet(
  set: CandidateSet,
  image: { width: number; height: number },
  opts: { iouThreshold: number; minScore: number; minFaceSize: number; maxFaces: number },
): { faces: FoundFace[]; rejected: RejectedFace[] } {
  // The image was letterboxed at the top-left into a square of side max(w, h).
  const side = Math.max(image.width, image.height);
  const boxes: Box[] = [];
  for (let i = 0; i < set.scores.length; i++) {
    const [x1, y1, x2, y2] = [set.boxes[i * 4]! * side, set.boxes[i * 4 + 1]! * side, set.boxes[i * 4 + 2]! * side, set.boxes[i * 4 + 3]! * side];
    boxes.push([x1, y1, x2 - x1, y2 - y1]);
  }
  const kept = nonMaxSuppression(boxes, set.scores, {
    iouThreshold: opts.iouThreshold,
    scoreThreshold: opts.minScore * REJECT_FLOOR,
    maxResults: opts.maxFaces + MAX_REJECTED,
  });
  const faces: FoundFace[] = [];
  const rejected: RejectedFace[] = [];
  for (const i of kept) {
    const box = clipBox(boxes[i]!, image.width, image.height);
    const score = set.scores[i]!;
    if (Math.min(box[2], box[3]) < 1) continue;
    const mutable: [number, number, number, number] = [box[0], box[1], box[2], box[3]];
    if (score < opts.minScore) rejected.push({ box: mutable, score, reason: 'LOW_CONFIDENCE' });
    else if (Math.min(box[2], box[3]) < Math.max(1, opts.minFaceSize)) rejected.push({ box: mutable, score, reason: 'SMALL_BOUNDING_BOX' });
    else if (faces.length < opts.maxFaces) faces.push({ box, score, turns: set.turns[i]! });
  }
  return { faces, rejected: rejected.slice(0, MAX_REJECTED) };
}

/**
 * Which passes a detector runs and when, as a short string for the detect version: results of
 * another strategy are stale. E.g. `ssd@64-512r+padded<0.7+turned`.
 */
export function detectStrategy(kind: DetectorKind, passes: DetectPassOptions = {}, ssdMaxInputSize = SSD_TRAINED_INPUT, tinyInputSize = 416): string {
  if (kind !== 'ssd') return `tiny@${tinyInputSize}`;
  const padded = passes.padded ?? true;
  const turned = passes.turned ?? true;
  const tiles = passes.tiles ?? true;
  // `r`: the upright input covers the photo's extent only (ssdInputExtent), not the whole square.
  return [
    `ssd@${SSD_MIN_INPUT}-${ssdMaxInputSize}r`, padded ? `padded<${passes.largeFace ?? 0.7}` : '', tiles ? `tiles<${passes.smallFace ?? 40}` : '', turned ? 'turned' : '',
  ].filter(Boolean).join('+');
}

type ResolvedDetectorOptions = Required<Omit<DetectorOptions, 'passes'>> & { passes: Required<DetectPassOptions> };

/**
 * Face detection and 68-point landmarks on a decoded image, with the models in an
 * {@link InferencePool} (worker threads). Landmarks of all faces run as one batch.
 */
export class FaceDetector {
  readonly kind: DetectorKind;
  readonly #opts: ResolvedDetectorOptions;
  readonly #pool: InferencePool;
  /** SSD anchors per input height × width, made on first use. */
  readonly #anchors = new Map<string, Float32Array>();

  private constructor(pool: InferencePool, opts: ResolvedDetectorOptions) {
    this.#pool = pool;
    this.#opts = opts;
    this.kind = opts.detector;
  }

  static async create(pool: InferencePool, _manifest: LoadedModelManifest, options: DetectorOptions = {}): Promise<FaceDetector> {
    const opts = {
      detector: options.detector ?? 'ssd',
      minScore: options.minScore ?? 0.4,
      minFaceSize: options.minFaceSize ?? 20,
      maxFaces: options.maxFaces ?? 100,
      tinyInputSize: options.tinyInputSize ?? 416,
      ssdMaxInputSize: options.ssdMaxInputSize ?? SSD_TRAINED_INPUT,
      passes: {
        padded: options.passes?.padded ?? true,
        turned: options.passes?.turned ?? true,
        largeFace: options.passes?.largeFace ?? 0.7,
        tiles: options.passes?.tiles ?? true,
        smallFace: options.passes?.smallFace ?? 40,
      },
    };
    if (opts.tinyInputSize % 32 !== 0) throw new RangeError(`tinyInputSize must be a multiple of 32, got ${opts.tinyInputSize}`);
    if (opts.ssdMaxInputSize % 32 !== 0 || opts.ssdMaxInputSize < SSD_MIN_INPUT) {
      throw new RangeError(`ssdMaxInputSize must be a multiple of 32, at least ${SSD_MIN_INPUT}; got ${opts.ssdMaxInputSize}`);
    }
    return Promise.resolve(new FaceDetector(pool, opts));
  }

  /** The strategy for the version tag: which passes run, and when. */
  get strategy(): string {
    return detectStrategy(this.kind, this.#opts.passes, this.#opts.ssdMaxInputSize);
  }

  #ssdAnchors(height: number, width: number): Float32Array {
    const key = `${height}x${width}`;
    let anchors = this.#anchors.get(key);
    if (!anchors) this.#anchors.set(key, (anchors = ssdAnchors(height, width)));
    return anchors;
  }

  /** One SSD run; candidates normalised to its `width`×`height` input. */
  async #ssdPass(input: Float32Array, side: number, width = side, height = side): Promise<DetectionCandidates> {
    const out = await this.#pool.run('ssd_mobilenetv1', input, 1, height, width);
    return decodeSsd(out.box_encodings!.data, out.class_logits!.data, this.#ssdAnchors(height, width), 0, { scoreThreshold: this.#opts.minScore * REJECT_FLOOR });
  }

  /** Face boxes and scores in image pixels, best first (upright faces and turned ones). */
  async detect(img: RgbImage): Promise<{ box: Box; score: number }[]> {
    return (await this.detectAll(img)).faces.map(({ box, score }) => ({ box, score }));
  }

  /** Every pass that pays, merged by NMS; see {@link DetectPassOptions}. */
  async detectAll(img: RgbImage): Promise<Detection> {
    const { detector, minScore, minFaceSize, maxFaces, tinyInputSize, passes: passOpts } = this.#opts;
    const select = { iouThreshold: NMS_IOU[detector], minScore, minFaceSize, maxFaces };
    const set: CandidateSet = { boxes: [], scores: [], turns: [] };
    const passes: DetectPassTiming[] = [];
    /** Runs one pass; `found` = faces its own candidates give after NMS and the filters. */
    const timed = async (pass: string, inputSize: number, run: (own: CandidateSet) => Promise<void>, merge = true, input?: SsdInputExtent): Promise<void> => {
      const t = performance.now();
      const own: CandidateSet = { boxes: [], scores: [], turns: [] };
      await run(own);
      if (merge) {
        set.boxes.push(...own.boxes);
        set.scores.push(...own.scores);
        set.turns.push(...own.turns);
      }
      const ms = Math.round((performance.now() - t) * 10) / 10;
      const shape = input && (input.width !== inputSize || input.height !== inputSize) ? { inputWidth: input.width, inputHeight: input.height } : {};
      passes.push({ pass, inputSize, ...shape, ms, found: selectFromSet(own, img, select).faces.length });
    };
    if (detector === 'tiny') {
      await timed('upright', tinyInputSize, async (own) => {
        const input = letterboxRgb(img, tinyInputSize);
        const out = await this.#pool.run('tiny_face_detector', input.tensor, 1, tinyInputSize, tinyInputSize);
        const cells = tinyInputSize / 32;
        addCandidates(own, decodeTinyYolo(out.grid!.data, cells, cells, { scoreThreshold: minScore * REJECT_FLOOR }), (...b) => b, 0);
      });
      return { ...selectFromSet(set, img, select), passes };
    }

    const extent = ssdInputExtent(img.width, img.height, this.#opts.ssdMaxInputSize);
    const { side } = extent;
    await timed('upright', side, async (own) => {
      const input = letterboxRgbRect(img, side, extent.width, extent.height).tensor;
      // Candidates are kept normalised to the square letterbox, as every other pass's.
      const toSquareX = extent.width / side;
      const toSquareY = extent.height / side;
      addCandidates(own, await this.#ssdPass(input, side, extent.width, extent.height), (x1, y1, x2, y2) => [x1 * toSquareX, y1 * toSquareY, x2 * toSquareX, y2 * toSquareY], 0);
    }, true, extent);
    let result = selectFromSet(set, img, select);

    if (passOpts.padded && wantsPaddedPass(result.faces, img, side, passOpts.largeFace, SSD_MIN_INPUT)) {
      await timed('padded', side, async (own) => {
        // The photo at half scale in the middle of the input: a quarter of the side of black around it.
        const half = side / 2;
        const canvas = placeOnCanvas(letterboxRgb(img, half).tensor, half, side, half / 2);
        const c = await this.#ssdPass(canvas, side);
        addCandidates(own, c, (x1, y1, x2, y2) => [(x1 - 0.25) * 2, (y1 - 0.25) * 2, (x2 - 0.25) * 2, (y2 - 0.25) * 2], 0);
      });
      result = selectFromSet(set, img, select);
    }

    // Upright input pixels per photo pixel.
    const scale = side / Math.max(img.width, img.height);
    if (passOpts.tiles && wantsTilesPass(result.faces, scale, passOpts.smallFace)) {
      await timed('tiles', side, (own) => this.#tilesPass(img, side, scale, passOpts.smallFace, own));
      result = selectFromSet(set, img, select);
    }

    if (passOpts.turned && wantsTurnedPasses(result.faces)) {
      // The turned passes turn the whole square input (made once, only on this rare path).
      let square: Float32Array | undefined;
      const squareUpright = () => (square ??= letterboxRgb(img, side).tensor);
      // 90° and 270° both run and the better one wins; 180° only if both fail (chooseTurnedPass).
      const turnedPass = async (turns: QuarterTurns): Promise<{ own: CandidateSet; best: number }> => {
        let own: CandidateSet = { boxes: [], scores: [], turns: [] };
        await timed(`turned${turns * 90}`, side, async (o) => {
          own = o;
          const c = await this.#ssdPass(turnSquareNhwc(squareUpright(), side, turns), side);
          // A face upright in the input turned clockwise by `turns` is turned by the opposite in the photo.
          addCandidates(o, c, (x1, y1, x2, y2) => unturnCorners(x1, y1, x2, y2, 1, turns), ((4 - turns) % 4) as QuarterTurns);
        }, false);
        const faces = selectFromSet(own, img, select).faces;
        return { own, best: faces.length > 0 ? faces[0]!.score : 0 };
      };
      const quarter = await turnedPass(1);
      const threeQuarters = await turnedPass(3);
      const choice = chooseTurnedPass(quarter.best, threeQuarters.best);
      const chosen = choice === 'half' ? await turnedPass(2) : choice === 'quarter' ? quarter : threeQuarters;
      if (chosen.best > 0) {
        set.boxes.push(...chosen.own.boxes);
        set.scores.push(...chosen.own.scores);
        set.turns.push(...chosen.own.turns);
        result = selectFromSet(set, img, select);
      }
    }
    return { ...result, passes };
  }

  /**
   * The tiles pass: overlapping square tiles of about half the photo's longer side, each
   * letterboxed to `side`. Keeps faces under twice `smallFace` upright input pixels that lie
   * whole inside their tile (a face cut by a tile's inner edge is whole in its neighbour, as the
   * overlap is larger than any face kept).
   */
  async #tilesPass(img: RgbImage, side: number, scale: number, smallFace: number, own: CandidateSet): Promise<void> {
    const longer = Math.max(img.width, img.height);
    const overlap = Math.round(longer / 8);
    const largestKept = (2 * smallFace) / scale; // photo pixels
    for (const [tx, ty, tw, th] of tileGrid(img.width, img.height, Math.ceil((longer + overlap) / 2), overlap)) {
      const tileSide = Math.max(tw, th);
      const c = await this.#ssdPass(letterboxRegion(img, [tx, ty, tw, th], side).tensor, side);
      for (let i = 0; i < c.count; i++) {
        const [x1, y1, x2, y2] = [tx + c.boxes[i * 4]! * tileSide, ty + c.boxes[i * 4 + 1]! * tileSide, tx + c.boxes[i * 4 + 2]! * tileSide, ty + c.boxes[i * 4 + 3]! * tileSide];
        if (Math.min(x2 - x1, y2 - y1) >= largestKept) continue;
        const cut = (x1 < tx + 1 && tx > 0) || (y1 < ty + 1 && ty > 0) || (x2 > tx + tw - 1 && tx + tw < img.width) || (y2 > ty + th - 1 && ty + th < img.height);
        if (cut) continue;
        own.boxes.push(x1 / longer, y1 / longer, x2 / longer, y2 / longer);
        own.scores.push(c.scores[i]!);
        own.turns.push(0);
      }
    }
  }

  /**
   * 68 landmarks per box (iBUG order, image pixels), all faces in one batch. `turns[i]` (clockwise
   * quarter turns of face i from upright) turns its crop upright for the landmark net.
   */
  landmarks(img: RgbImage, boxes: readonly Box[], turns: readonly QuarterTurns[] = []): Promise<Point[][]> {
    return cropLandmarks(this.#pool, img, boxes, turns);
  }

  /** Detection and landmarks together, as result records. */
  async detectFaces(img: RgbImage): Promise<{ faces: DetectedFace[]; rejected: RejectedFace[]; passes: DetectPassTiming[]; detectMs: number; landmarksMs: number }> {
    const t0 = performance.now();
    const found = await this.detectAll(img);
    const t1 = performance.now();
    const points = await this.landmarks(img, found.faces.map((f) => f.box), found.faces.map((f) => f.turns));
    const t2 = performance.now();
    const faces = found.faces
      .map((f, i) => ({ box: f.box, score: f.score, landmarks: points[i]! }))
      .filter((f) => f.landmarks.length === 68)
      .map((f, index): DetectedFace => ({
        index,
        box: f.box.map(round2) as [number, number, number, number],
        score: Math.round(f.score * 1e4) / 1e4,
        landmarks: f.landmarks.map(([x, y]) => [round2(x), round2(y)] as Point),
      }));
    const rejected = found.rejected.map((r): RejectedFace => ({ ...r, box: r.box.map(round2) as [number, number, number, number], score: Math.round(r.score * 1e4) / 1e4 }));
    return { faces, rejected, passes: found.passes, detectMs: t1 - t0, landmarksMs: t2 - t1 };
  }
}

const round2 = (v: number) => Math.round(v * 100) / 100;
