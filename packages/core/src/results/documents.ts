import { z } from 'zod';
import { errorRecordSchema, type ErrorRecord } from '../errors/index.js';
import { stageNames } from '../queue/queue-names.js';

// The documents the HTTP API returns (results, enrollment reports) are zod schemas, their types
// inferred: the service's OpenAPI description is generated from the same schemas (descriptions
// included), so the two cannot drift apart. The other documents stay plain interfaces.

export const boxSchema = z.tuple([z.number(), z.number(), z.number(), z.number()]).describe('[x, y, width, height] in original-image pixels, after EXIF orientation');
/** [x, y, width, height] in original-image pixels, after EXIF orientation. */
export type Box = z.infer<typeof boxSchema>;
export const pointSchema = z.tuple([z.number(), z.number()]);
export type Point = z.infer<typeof pointSchema>;

/** Model versions and settings a stage's output depends on. */
export const detectVersionInfoSchema = z.object({
  tag: z.string().describe('Short tag used in keys and job ids'),
  detector: z.string(),
  landmarks: z.string(),
  minScore: z.number(),
  minFaceSize: z.number(),
  chip: z.object({ size: z.number(), padding: z.number() }),
  strategy: z.string().optional().describe('The detection strategy (passes and their triggers), when not the single upright pass'),
  checks: z.string().optional().describe('The checks after detection (landmark orientation, NOT_A_FACE screening) and their thresholds'),
  screenModel: z.string().optional().describe("The NOT_A_FACE animal check's object detector model version, when the check is on"),
});
export type DetectVersionInfo = z.infer<typeof detectVersionInfoSchema>;

export const embedVersionInfoSchema = z.object({ tag: z.string(), recognition: z.string(), flip: z.boolean() });
export type EmbedVersionInfo = z.infer<typeof embedVersionInfoSchema>;

/**
 * How usable a kept face is, for callers that want to filter or sort (facepipe keeps these faces:
 * rejecting on pose or sharpness would lose annotated faces; docs/accuracy.md).
 */
export const faceQualitySchema = z
  .object({
    shapeResidual: z
      .number()
      .describe(
        "How well the 68 landmarks fit dlib's mean face shape (Procrustes residual over points 17..67, relative to their spread): about 0.1 for a frontal face, higher for profiles, occlusions and landmarks that went wrong",
      ),
    yaw: z.number().describe("Rough head turn from the landmarks, degrees (positive: the nose points to the image's right)"),
    pitch: z.number().describe('Rough head tilt from the landmarks, degrees (positive: looking down)'),
    sharpness: z.number().describe("Variance of the Laplacian of the aligned 150×150 chip's luma: low for blurred faces"),
  })
  .describe('How usable a kept face is (absent in documents of earlier versions)');
export type FaceQuality = z.infer<typeof faceQualitySchema>;

/** One detected face, as written by the detect stage. */
export const detectedFaceSchema = z.object({
  index: z.number().int(),
  box: boxSchema,
  score: z.number(),
  landmarks: z.array(pointSchema).describe('68 points, iBUG order, original-image pixels'),
  quality: faceQualitySchema.optional(),
});
export type DetectedFace = z.infer<typeof detectedFaceSchema>;

/** Why a detection was not kept as a face (after AWS Rekognition's `UnindexedFaces` reasons). */
export const rejectionReasonSchema = z.enum(['LOW_CONFIDENCE', 'SMALL_BOUNDING_BOX', 'EXTREME_POSE', 'LOW_SHARPNESS', 'NOT_A_FACE']);
export type RejectionReason = z.infer<typeof rejectionReasonSchema>;

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
export const rejectedFaceSchema = z.object({
  box: boxSchema,
  score: z.number(),
  reason: rejectionReasonSchema,
  looksLike: z.string().optional().describe('NOT_A_FACE by the animal check: the COCO class seen there instead of a person, e.g. `cat`'),
});
export type RejectedFace = z.infer<typeof rejectedFaceSchema>;

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
  /**
   * The exact chips, when there are faces: raw RGB, 150×150 a face, chip after chip (`chips.rgb`);
   * a stacked lossless WebP or PNG under earlier versions.
   */
  chipsKey: string | null;
  /** `screenMs`: the NOT_A_FACE animal check (the object detector on the faces' surroundings), when it ran. */
  timings: { fetchMs: number; decodeMs: number; detectMs: number; landmarksMs: number; alignMs: number; storeMs: number; screenMs?: number };
  /** Detections set aside, with the reason (absent in documents of earlier versions). */
  rejected?: RejectedFace[];
  /** Indexes of faces erased on request (their chips are blanked, their embeddings emptied). */
  erasedFaces?: number[];
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
export const faceMatchSchema = z.object({
  name: z.string().nullable().describe('Known person, or null for "unknown"'),
  distance: z.number().nullable().describe('Euclidean distance to the nearest enrolled face of `name` (or of anyone, when unknown); null with an empty gallery'),
  confidence: z.number().describe('0..1; see docs/recognition.md'),
  method: z.enum(['nearest', 'svm']),
  galleryVersion: z.number().int().nullable(),
});
export type FaceMatch = z.infer<typeof faceMatchSchema>;

/** A name given by a person; the pipeline never overwrites it. */
export const faceLabelSchema = z.object({ name: z.string(), at: z.string(), by: z.string().optional() });
export type FaceLabel = z.infer<typeof faceLabelSchema>;

export const resultFaceSchema = detectedFaceSchema.extend({
  cropKey: z.string().describe("Object holding the aligned chip (its row is cropIndex)"),
  cropIndex: z.number().int(),
  embedding: z.array(z.number()),
  embeddingModel: z.string(),
  match: faceMatchSchema,
  label: faceLabelSchema.optional().describe('Set when a person named this face; wins over `match.name`'),
  name: z.string().nullable().describe('The name to show: label ?? match.name'),
  suggestion: z
    .object({ name: z.string(), distance: z.number() })
    .optional()
    .describe('"Probably this person": evidence short of a name (match.name is null); shown for confirmation, never counted as a name'),
  qualityGate: z
    .enum(['score', 'size', 'sharpness', 'pose', 'landmarks', 'border'])
    .optional()
    .describe('Set when the face is below the quality gate: kept and searchable, never clustered nor named automatically'),
});
export type ResultFace = z.infer<typeof resultFaceSchema>;

/** results/<imageId>.json: everything known about one image. */
export const resultDocumentSchema = z
  .object({
    schema: z.literal('facepipe.result/1'),
    imageId: z.string(),
    status: z.enum(['done', 'failed']),
    source: z.string(),
    originalKey: z.string(),
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    format: z.string().nullable(),
    faceCount: z.number().int().describe('Always present when status is done: 0 means "looked, found none", never "not processed"'),
    faces: z.array(resultFaceSchema),
    rejected: z.array(rejectedFaceSchema).optional().describe('Detections set aside, with the reason (absent in results of earlier versions)'),
    error: errorRecordSchema.extend({ stage: z.enum(stageNames) }).optional(),
    versions: z.object({
      pipeline: z.string(),
      detect: detectVersionInfoSchema.nullable(),
      embed: embedVersionInfoSchema.nullable(),
      gallery: z.number().int().nullable(),
    }),
    timings: z.record(z.string(), z.number()).describe('Per-stage milliseconds, and end-to-end from enqueue to result'),
    processedAt: z.string().describe('ISO 8601'),
  })
  .describe('results/<imageId>.json (schema facepipe.result/1): everything known about one image');
export type ResultDocument = z.infer<typeof resultDocumentSchema>;

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
export const enrollmentReportSchema = z
  .object({
    schema: z.literal('facepipe.enrollment/1'),
    batchId: z.string(),
    galleryVersion: z.number().int(),
    items: z.array(z.object({ source: z.string(), person: z.string(), imageId: z.string().nullable(), status: z.enum(['enrolled', 'rejected']), error: errorRecordSchema.optional() })),
    createdAt: z.string(),
  })
  .describe('batches/<id>/enrollment.json: what enrollment did with each photo of a batch');
export type EnrollmentReport = z.infer<typeof enrollmentReportSchema>;

/** labels/<imageId>.json: names people gave to faces, matched to detections by box overlap. */
export interface LabelsDocument {
  schema: 'facepipe.labels/1';
  imageId: string;
  faces: { box: Box; name: string; at: string; by?: string }[];
}
