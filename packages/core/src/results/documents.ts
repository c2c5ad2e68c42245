import type { ErrorRecord } from '../errors/index.js';
import type { StageName } from '../queue/queue-names.js';

/** [x, y, width, height] in original-image pixels, after EXIF orientation. */
export type Box = [number, number, number, number];
export type Point = [number, number];

/** Model versions and settings a stage's output depends on. */
export interface DetectVersionInfo {
  /** Short tag used in keys and job ids. */
  tag: string;
  detector: string;
  landmarks: string;
  minScore: number;
  minFaceSize: number;
  chip: { size: number; padding: number };
  /** The detection strategy (passes and their triggers), when not the single upright pass. */
  strategy?: string;
  /** The checks after detection (landmark orientation, NOT_A_FACE screening) and their thresholds. */
  checks?: string;
  /** The NOT_A_FACE animal check's object detector model version, when the check is on. */
  screenModel?: string;
}

export interface EmbedVersionInfo {
  tag: string;
  recognition: string;
  flip: boolean;
}

/** One detected face, as written by the detect stage. */
export interface DetectedFace {
  index: number;
  box: Box;
  score: number;
  /** 68 points, iBUG order, original-image pixels. */
  landmarks: Point[];
  /** Quality attributes (absent in documents of earlier versions). */
  quality?: FaceQuality;
}

/**
 * How usable a kept face is, for callers that want to filter or sort (facepipe keeps these faces:
 * rejecting on pose or sharpness would lose annotated faces; docs/accuracy.md).
 */
export interface FaceQuality {
  /**
   * How well the 68 landmarks fit dlib's mean face shape (Procrustes residual over points 17..67,
   * relative to their spread): about 0.1 for a frontal face, higher for profiles, occlusions and
   * landmarks that went wrong.
   */
  shapeResidual: number;
  /** Rough head turn from the landmarks, degrees (positive: the nose points to the image's right). */
  yaw: number;
  /** Rough head tilt from the landmarks, degrees (positive: looking down). */
  pitch: number;
  /** Variance of the Laplacian of the aligned 150×150 chip's luma: low for blurred faces. */
  sharpness: number;
}

/** Why a detection was not kept as a face (after AWS Rekognition's `UnindexedFaces` reasons). */
export type RejectionReason = 'LOW_CONFIDENCE' | 'SMALL_BOUNDING_BOX' | 'EXTREME_POSE' | 'LOW_SHARPNESS' | 'NOT_A_FACE';

/**
 * Every rejection reason with what it means, in one place (the CLI's help, the dashboard's labels).
 * EXTREME_POSE and LOW_SHARPNESS are reserved: facepipe records pose and sharpness as
 * {@link FaceQuality} on kept faces instead of rejecting (docs/accuracy.md says why).
 */
export const REJECTION_REASONS = {
  LOW_CONFIDENCE: 'detector score below the minimum score (and at least 3/4 of it)',
  SMALL_BOUNDING_BOX: 'box shorter than the minimum face size',
  NOT_A_FACE: "an animal's face: an object detector sees an animal there, not a person (looksLike names it); or, with the opt-in mirror check, the landmark net's answer to the mirrored crop disagrees with its answer to the crop",
  EXTREME_POSE: 'head turned too far (reserved; recorded as quality.yaw/pitch instead)',
  LOW_SHARPNESS: 'too blurred (reserved; recorded as quality.sharpness instead)',
} as const satisfies Record<RejectionReason, string>;

/** A detection set aside, with the reason. */
export interface RejectedFace {
  box: Box;
  score: number;
  reason: RejectionReason;
  /** NOT_A_FACE by the animal check: the COCO class seen there instead of a person, e.g. `cat`. */
  looksLike?: string;
}

/** One detector pass over an image: which, at what input side, its cost and what it found. */
export interface DetectPassTiming {
  /** `upright`, `padded` (the photo at half scale on a black canvas), `turned90`/`turned180`/`turned270`. */
  pass: string;
  /** Network input side, in pixels (the longer side when the input is not square). */
  inputSize: number;
  /** The input's width and height when it is not `inputSize` square (the photo's extent only). */
  inputWidth?: number;
  inputHeight?: number;
  ms: number;
  /** Detections this pass contributed above the score threshold (before merging). */
  found: number;
}

/** faces.json: what the detect stage found in one image. */
export interface FacesDocument {
  schema: 'facepipe.faces/1';
  imageId: string;
  width: number;
  height: number;
  format: string;
  /** EXIF orientation that was applied (1 = none). */
  orientation: number;
  detect: DetectVersionInfo;
  faces: DetectedFace[];
  /** The chips PNG (150 px wide, 150 px per face, top to bottom), when there are faces. */
  chipsKey: string | null;
  /** `screenMs`: the NOT_A_FACE animal check (the object detector on the faces' surroundings), when it ran. */
  timings: { fetchMs: number; decodeMs: number; detectMs: number; landmarksMs: number; alignMs: number; storeMs: number; screenMs?: number };
  /** Detections set aside, with the reason (absent in documents of earlier versions). */
  rejected?: RejectedFace[];
  /** Each detector pass and its cost; their `ms` add up to about `timings.detectMs`. */
  passes?: DetectPassTiming[];
  detectedAt: string;
}

/** embeddings/…json: the embed stage's output for one image. */
export interface EmbeddingsDocument {
  schema: 'facepipe.embeddings/1';
  imageId: string;
  detectVersion: string;
  embed: EmbedVersionInfo;
  /** One 128-d vector per face, in face index order. */
  embeddings: number[][];
  /** embedMs: from joining the micro-batcher to embeddings back, batch wait included. */
  timings: { fetchMs: number; embedMs: number };
  embeddedAt: string;
}

/** How a face was named automatically. */
export interface FaceMatch {
  /** Known person, or null for "unknown". */
  name: string | null;
  /** Euclidean distance to the nearest enrolled face of `name` (or of anyone, when unknown); null with an empty gallery. */
  distance: number | null;
  /** 0..1; see docs/recognition.md. */
  confidence: number;
  method: 'nearest' | 'svm';
  galleryVersion: number | null;
}

/** A name given by a person; the pipeline never overwrites it. */
export interface FaceLabel {
  name: string;
  at: string;
  by?: string;
}

export interface ResultFace extends DetectedFace {
  /** Object holding the aligned chip, and the chip's row in it. */
  cropKey: string;
  cropIndex: number;
  embedding: number[];
  embeddingModel: string;
  match: FaceMatch;
  /** Set when a person named this face; wins over `match.name`. */
  label?: FaceLabel;
  /** The name to show: label ?? match.name. */
  name: string | null;
}

/** results/<imageId>.json: everything known about one image. */
export interface ResultDocument {
  schema: 'facepipe.result/1';
  imageId: string;
  status: 'done' | 'failed';
  source: string;
  originalKey: string;
  width: number | null;
  height: number | null;
  format: string | null;
  /** Always present when status is done: 0 means "looked, found none" — never "not processed". */
  faceCount: number;
  faces: ResultFace[];
  /** Detections set aside, with the reason (from the faces document; absent in results of earlier versions). */
  rejected?: RejectedFace[];
  error?: ErrorRecord & { stage: StageName };
  versions: {
    pipeline: string;
    detect: DetectVersionInfo | null;
    embed: EmbedVersionInfo | null;
    gallery: number | null;
  };
  /** Per-stage milliseconds, and end-to-end from enqueue to result. */
  timings: Record<string, number>;
  processedAt: string;
}

/** One line of a batch manifest (batches/<id>/manifest/*.jsonl). */
export interface ManifestEntry {
  index: number;
  source: string;
  imageId: string | null;
  /** Set when the input was rejected before it entered the pipeline. */
  error?: ErrorRecord;
  /** Enrollment batches: the person this photo enrolls. */
  person?: string;
}

/** gallery/members/<person>/<imageId>.json: a photo enrolled for a person (model-independent). */
export interface GalleryMember {
  person: string;
  imageId: string;
  source: string;
  batchId: string;
  enrolledAt: string;
}

/** One enrolled face with its embedding, inside a built gallery. */
export interface GalleryFace {
  imageId: string;
  faceIndex: number;
  cropKey: string;
  cropIndex: number;
  embedding: number[];
}

/** gallery/versions/<n>.json: a built gallery for one embedding model, with its trained SVM. */
export interface GalleryDocument {
  schema: 'facepipe.gallery/1';
  version: number;
  createdAt: string;
  reason: string;
  /** The embed version every embedding here was made with; faces of other versions are not compared. */
  embedVersion: string | null;
  embeddingModel: string | null;
  people: { name: string; faces: GalleryFace[] }[];
  /** One-vs-rest linear SVM over the faces (null with fewer than two people). */
  svm: unknown;
  /** Members left out, and why (no result yet, no face, several faces, other model). */
  skipped: { person: string; imageId: string; reason: string }[];
}

/** gallery/current.json: which version classify workers use. */
export interface GalleryPointer {
  version: number;
  key: string;
  embedVersion: string | null;
  people: number;
  faces: number;
  createdAt: string;
}

/** batches/<id>/enrollment.json: what enrollment did with each photo of a batch. */
export interface EnrollmentReport {
  schema: 'facepipe.enrollment/1';
  batchId: string;
  galleryVersion: number;
  items: { source: string; person: string; imageId: string | null; status: 'enrolled' | 'rejected'; error?: ErrorRecord }[];
  createdAt: string;
}

/** labels/<imageId>.json: names people gave to faces, matched to detections by box overlap. */
export interface LabelsDocument {
  schema: 'facepipe.labels/1';
  imageId: string;
  faces: { box: Box; name: string; at: string; by?: string }[];
}
