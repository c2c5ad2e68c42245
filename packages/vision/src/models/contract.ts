/**
 * The I/O contract of facepipe's networks: names, input tensors, normalisation and outputs.
 * The converter writes graphs and `manifest.json` from this table; the runtime checks the manifest
 * against it. Every graph takes one float32 NHWC input named `image` holding RGB values 0..255
 * with a symbolic batch dimension `N`; normalisation and the NHWC→NCHW transpose happen inside.
 */

export const MODEL_NAMES = ['ssd_mobilenetv1', 'tiny_face_detector', 'face_landmark_68', 'face_recognition', 'object_centernet'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export function isModelName(value: unknown): value is ModelName {
  return typeof value === 'string' && (MODEL_NAMES as readonly string[]).includes(value);
}

/** The package that ships the four face networks' weights. */
export const FACE_API_PACKAGE = '@vladmandic/face-api';
/** The package that ships the object detector used to tell people from animals. */
export const HUMAN_PACKAGE = '@vladmandic/human';

/** COCO classes in the object detector's heatmap (index 0 = person). */
export const OBJECT_CLASS_COUNT = 80;

/**
 * COCO class indices (0-based, as in the heatmap) of animals, and the teddy bear: the things whose
 * faces a face detector takes for human ones.
 */
export const NON_HUMAN_FACE_CLASSES: Readonly<Record<string, number>> = {
  bird: 14,
  cat: 15,
  dog: 16,
  horse: 17,
  sheep: 18,
  cow: 19,
  elephant: 20,
  bear: 21,
  zebra: 22,
  giraffe: 23,
  'teddy bear': 77,
};

/** Dimension: a fixed size or a symbolic name (`N` = batch, `H`/`W` = dynamic spatial). */
export type Dim = number | string;

export interface ModelOutputContract {
  name: string;
  shape: Dim[];
  meaning: string;
}

export interface ModelContract {
  /**
   * Where the trained weights ship: a TF.js weights manifest in @vladmandic/face-api's `model/`
   * folder, or a TF.js graph model (`model.json` form) in another package.
   */
  source: { package: typeof FACE_API_PACKAGE; manifest: string } | { package: typeof HUMAN_PACKAGE; graphModel: string };
  input: { name: 'image'; shape: Dim[]; layout: 'NHWC'; range: [0, 255] };
  normalisation: { description: string; mean: [number, number, number]; divisor: number; offset: number };
  outputs: ModelOutputContract[];
  /** Default square input side for models with a dynamic H = W. */
  defaultInputSize?: number;
}

/** Tiny face detector anchors (face-api tinyFaceDetector/const.ts BOX_ANCHORS), in grid cells. */
export const TINY_FACE_DETECTOR_ANCHORS: readonly { readonly x: number; readonly y: number }[] = [
  { x: 1.603231, y: 2.094468 },
  { x: 6.041143, y: 7.080126 },
  { x: 2.882459, y: 3.518061 },
  { x: 4.266906, y: 5.178857 },
  { x: 9.041765, y: 10.66308 },
];

/** Values per anchor in the tiny detector grid: x, y, w, h, score (one class, no class scores). */
export const TINY_FACE_DETECTOR_BOX_ENCODING_SIZE = 5;

/** SSD anchor count over its six feature maps at 512×512 (32²·3 + 16²·6 + 8²·6 + 4²·6 + 2²·6 + 1²·6). */
export const SSD_ANCHOR_COUNT = 5118;

export const MODEL_CONTRACTS: Readonly<Record<ModelName, ModelContract>> = {
  ssd_mobilenetv1: {
    source: { package: FACE_API_PACKAGE, manifest: 'ssd_mobilenetv1_model-weights_manifest.json' },
    input: { name: 'image', shape: ['N', 'H', 'W', 3], layout: 'NHWC', range: [0, 255] },
    normalisation: {
      description: 'x / 127.5 - 1 (range -1..1), computed in the graph',
      mean: [0, 0, 0],
      divisor: 127.5,
      offset: -1,
    },
    // The `meaning` texts are written into the ONNX files: changing one changes the models' bytes
    // and versions (and needs a new CONVERTER_VERSION). For a non-square input A is
    // ssdAnchorCount(H, W).
    outputs: [
      {
        name: 'box_encodings',
        shape: ['N', 'A', 4],
        meaning: 'raw box regression (ty, tx, th, tw) per anchor (A = ssdAnchorCount(H), 5118 at 512), before anchor decoding (see decodeSsd)',
      },
      {
        name: 'class_logits',
        shape: ['N', 'A', 3],
        meaning: 'raw class logits per anchor (index 1 = face, before sigmoid)',
      },
    ],
    defaultInputSize: 512,
  },
  tiny_face_detector: {
    source: { package: FACE_API_PACKAGE, manifest: 'tiny_face_detector_model-weights_manifest.json' },
    input: { name: 'image', shape: ['N', 'H', 'W', 3], layout: 'NHWC', range: [0, 255] },
    normalisation: {
      description: '(x - meanRgb) / 255 with meanRgb = [117.001, 114.697, 97.404], computed in the graph',
      mean: [117.001, 114.697, 97.404],
      divisor: 255,
      offset: 0,
    },
    outputs: [
      {
        name: 'grid',
        shape: ['N', 'H/32', 'W/32', 5 * TINY_FACE_DETECTOR_BOX_ENCODING_SIZE],
        meaning: 'raw YOLO grid, NHWC; channel = anchor * 5 + (x, y, w, h, score), before sigmoid/exp (see decodeTinyYolo)',
      },
    ],
    defaultInputSize: 416,
  },
  face_landmark_68: {
    source: { package: FACE_API_PACKAGE, manifest: 'face_landmark_68_model-weights_manifest.json' },
    input: { name: 'image', shape: ['N', 112, 112, 3], layout: 'NHWC', range: [0, 255] },
    normalisation: {
      description: '(x - meanRgb) / 255 with meanRgb = [122.782, 117.001, 104.298], computed in the graph',
      mean: [122.782, 117.001, 104.298],
      divisor: 255,
      offset: 0,
    },
    outputs: [
      {
        name: 'landmarks',
        shape: ['N', 136],
        meaning: '68 points x0, y0, x1, y1, … relative to the 112×112 input (0..1); see landmarksFromOutput',
      },
    ],
  },
  face_recognition: {
    source: { package: FACE_API_PACKAGE, manifest: 'face_recognition_model-weights_manifest.json' },
    input: { name: 'image', shape: ['N', 150, 150, 3], layout: 'NHWC', range: [0, 255] },
    normalisation: {
      description: '(x - meanRgb) / 255 with meanRgb = [122.782, 117.001, 104.298], computed in the graph',
      mean: [122.782, 117.001, 104.298],
      divisor: 255,
      offset: 0,
    },
    outputs: [{ name: 'embedding', shape: ['N', 128], meaning: '128-d face descriptor (not L2-normalised)' }],
  },
  object_centernet: {
    source: { package: HUMAN_PACKAGE, graphModel: 'models/centernet.json' },
    input: { name: 'image', shape: ['N', 'H', 'W', 3], layout: 'NHWC', range: [0, 255] },
    normalisation: {
      description: 'none: the network takes RGB 0..255 as it is',
      mean: [0, 0, 0],
      divisor: 1,
      offset: 0,
    },
    outputs: [
      {
        name: 'class_scores',
        shape: ['N', OBJECT_CLASS_COUNT],
        meaning: 'highest class heatmap peak (after sigmoid) of each of the 80 COCO classes, index 0 = person; H and W multiples of 32',
      },
    ],
    defaultInputSize: 192,
  },
};
