/**
 * dlib's face-chip alignment (`get_face_chip_details` + `extract_image_chip`), the input the dlib
 * ResNet face descriptor was trained on: a 150×150 chip, 25 % padding, the face's landmarks
 * fitted to dlib's mean face shape by a similarity transform.
 */
import type { Point } from './box.js';
import { applyAffine, composeAffine, estimateSimilarity, similarityFromParams, similarityParams, type Affine } from './similarity.js';
import { downsampleBox, warpAffineBilinear, type RgbPixels } from './warp.js';

/**
 * dlib's mean face shape for landmarks 17..67 of the iBUG 68-point scheme, in a unit square
 * (`mean_face_shape_x/y` in dlib/image_transforms/interpolation.h, davisking/dlib commit
 * 031bb7d0). Index `i` is landmark `17 + i`.
 */
export const DLIB_MEAN_FACE_X: readonly number[] = [
  0.000213256, 0.0752622, 0.18113, 0.29077, 0.393397, 0.586856, 0.689483, 0.799124,
  0.904991, 0.98004, 0.490127, 0.490127, 0.490127, 0.490127, 0.36688, 0.426036,
  0.490127, 0.554217, 0.613373, 0.121737, 0.187122, 0.265825, 0.334606, 0.260918,
  0.182743, 0.645647, 0.714428, 0.793132, 0.858516, 0.79751, 0.719335, 0.254149,
  0.340985, 0.428858, 0.490127, 0.551395, 0.639268, 0.726104, 0.642159, 0.556721,
  0.490127, 0.423532, 0.338094, 0.290379, 0.428096, 0.490127, 0.552157, 0.689874,
  0.553364, 0.490127, 0.42689,
];

/** See {@link DLIB_MEAN_FACE_X}. */
export const DLIB_MEAN_FACE_Y: readonly number[] = [
  0.106454, 0.038915, 0.0187482, 0.0344891, 0.0773906, 0.0773906, 0.0344891,
  0.0187482, 0.038915, 0.106454, 0.203352, 0.307009, 0.409805, 0.515625, 0.587326,
  0.609345, 0.628106, 0.609345, 0.587326, 0.216423, 0.178758, 0.179852, 0.231733,
  0.245099, 0.244077, 0.231733, 0.179852, 0.178758, 0.216423, 0.244077, 0.245099,
  0.780233, 0.745405, 0.727388, 0.742578, 0.727388, 0.745405, 0.780233, 0.864805,
  0.902192, 0.909281, 0.902192, 0.864805, 0.784792, 0.778746, 0.785343, 0.778746,
  0.784792, 0.824182, 0.831803, 0.824182,
];

/**
 * The landmarks dlib fits: 27..67 without the lower lip (55..59, 65..67); the eyebrows (17..26)
 * are skipped too. 33 points: nose, eyes, upper lip, inner mouth top.
 */
export const FACE_CHIP_LANDMARKS: readonly number[] = Array.from({ length: 68 - 17 }, (_, i) => i + 17)
  .filter((i) => !(i >= 55 && i <= 59) && !(i >= 65 && i <= 67) && !(i >= 17 && i <= 26));

/** Chip coordinates of dlib's template for a chip of `size` pixels with `padding` (fraction of the face). */
export function faceChipTemplate(size = 150, padding = 0.25): Point[] {
  return FACE_CHIP_LANDMARKS.map((i) => [
    ((padding + DLIB_MEAN_FACE_X[i - 17]!) / (2 * padding + 1)) * size,
    ((padding + DLIB_MEAN_FACE_Y[i - 17]!) / (2 * padding + 1)) * size,
  ]);
}

function checkLandmarks(landmarks: readonly Point[]): void {
  if (landmarks.length !== 68) throw new RangeError(`face chip alignment needs 68 landmarks, got ${landmarks.length}`);
}

/**
 * The least-squares similarity mapping dlib's template (chip pixels) onto the face's landmarks
 * (image pixels): CHIP → IMAGE.
 */
export function faceChipSimilarity(landmarks68: readonly Point[], size = 150, padding = 0.25): Affine {
  checkLandmarks(landmarks68);
  return estimateSimilarity(faceChipTemplate(size, padding), FACE_CHIP_LANDMARKS.map((i) => landmarks68[i]!));
}

/**
 * The CHIP → IMAGE transform dlib's `extract_image_chip(img, get_face_chip_details(det, size,
 * padding))` samples with (before its pyramid). dlib turns the similarity S into a rotated
 * rectangle centred on `S(size/2, size/2)` with side `size·s`, then maps chip corners (0,0),
 * (size-1,0), (0,size-1) onto that rectangle's corners; the result is a similarity with scale
 * `(size·s − 1)/(size − 1)` whose chip centre `((size-1)/2, (size-1)/2)` lands on `S(size/2, size/2)`.
 * Feed it to {@link warpAffineBilinear} (it maps output → source) or invert it to take image
 * points into the chip.
 */
export function faceChipTransform(landmarks68: readonly Point[], size = 150, padding = 0.25): Affine {
  const s = faceChipSimilarity(landmarks68, size, padding);
  const { scale, angle } = similarityParams(s);
  const centre = applyAffine(s, [size / 2, size / 2]);
  const k = size > 1 ? (size * scale - 1) / (size - 1) : scale;
  const half = (size - 1) / 2;
  const toCentre = similarityFromParams(k, angle, 0, 0);
  const shift = applyAffine(toCentre, [half, half]);
  return [toCentre[0], toCentre[1], centre[0] - shift[0], toCentre[3], toCentre[4], centre[1] - shift[1]];
}

/** Options for {@link extractFaceChip}. */
export interface FaceChipOptions {
  /** Chip side in pixels. @defaultValue 150 */
  readonly size?: number;
  /** Padding around the face as a fraction of the template. @defaultValue 0.25 */
  readonly padding?: number;
  /**
   * When the face is more than twice the chip's size, first halve the face's neighbourhood with
   * 2×2 averaging (as dlib samples from an image pyramid) so bilinear sampling does not alias.
   * @defaultValue true
   */
  readonly antialias?: boolean;
  /** Write into this buffer (e.g. a batch slot) at `outOffset`. */
  readonly out?: Float32Array;
  readonly outOffset?: number;
}

/** A float32 RGB chip (0..255) and the chip → image transform it was sampled with. */
export interface FaceChip {
  readonly chip: Float32Array;
  readonly size: number;
  /** Chip pixel coordinates → original image pixels. */
  readonly chipToImage: Affine;
}

/** Bounding rectangle (integer, clipped to the image) of the chip's footprint in the image, grown by `margin`. */
function footprint(chipToImage: Affine, size: number, width: number, height: number, margin: number): [number, number, number, number] {
  const chipCorners: Point[] = [[0, 0], [size - 1, 0], [0, size - 1], [size - 1, size - 1]];
  const corners = chipCorners.map((p) => applyAffine(chipToImage, p));
  const x1 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p[0])) - margin));
  const y1 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p[1])) - margin));
  const x2 = Math.min(width, Math.ceil(Math.max(...corners.map((p) => p[0])) + margin) + 1);
  const y2 = Math.min(height, Math.ceil(Math.max(...corners.map((p) => p[1])) + margin) + 1);
  return [x1, y1, Math.max(0, x2 - x1), Math.max(0, y2 - y1)];
}

/**
 * Extracts dlib's aligned face chip from an RGB image (`size`×`size`, float32 0..255, zeros where
 * the chip reaches outside the image).
 */
export function extractFaceChip(src: RgbPixels, width: number, height: number, landmarks68: readonly Point[], opts: FaceChipOptions = {}): FaceChip {
  const size = opts.size ?? 150;
  const chipToImage = faceChipTransform(landmarks68, size, opts.padding ?? 0.25);
  const warpOpts = { ...(opts.out ? { out: opts.out } : {}), outOffset: opts.outOffset ?? 0 };
  const scale = similarityParams(chipToImage).scale;
  let levels = 0;
  if (opts.antialias ?? true) while (scale / 2 ** (levels + 1) >= 1) levels++;
  if (levels === 0) {
    return { chip: warpAffineBilinear(src, width, height, chipToImage, size, warpOpts), size, chipToImage };
  }
  const rect = footprint(chipToImage, size, width, height, 2 ** (levels + 1));
  if (rect[2] < 2 ** levels * 2 || rect[3] < 2 ** levels * 2) {
    return { chip: warpAffineBilinear(src, width, height, chipToImage, size, warpOpts), size, chipToImage };
  }
  // One box filter of 2^levels over the face's neighbourhood (what `levels` rounds of 2×2
  // averaging would give); image → reduced coordinates: x → (x − rx − (f − 1)/2) / f.
  const factor = 2 ** levels;
  const reduced = downsampleBox(src, width, height, factor, rect);
  const imageToLevel: Affine = [1 / factor, 0, -(rect[0] + (factor - 1) / 2) / factor, 0, 1 / factor, -(rect[1] + (factor - 1) / 2) / factor];
  const chipToLevel = composeAffine(imageToLevel, chipToImage);
  return { chip: warpAffineBilinear(reduced.data, reduced.width, reduced.height, chipToLevel, size, warpOpts), size, chipToImage };
}
