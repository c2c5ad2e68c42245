import type { DetectedFace, DetectPassTiming, DetectVersionInfo, RejectedFace } from '../results/documents.js';

/** What the detect stage found in one image, with the aligned chips ready to store. */
export interface ImageAnalysis {
  width: number;
  height: number;
  format: string;
  orientation: number;
  faces: DetectedFace[];
  /**
   * The aligned chips as raw 8-bit RGB, chip after chip (`faces × size × size × 3` bytes), to be
   * stored as they are for the embed stage, or null without faces.
   */
  chipsRgb: Buffer | null;
  timings: { decodeMs: number; detectMs: number; landmarksMs: number; alignMs: number; screenMs?: number };
  /** Detections set aside, with the reason. */
  rejected?: RejectedFace[];
  /** Each detector pass and its cost. */
  passes?: DetectPassTiming[];
}

/**
 * The vision work of the detect stage (decode, detect, landmarks, align, encode chips), behind an
 * interface so the stage logic is testable without models. Production: `@facepipe/vision`.
 */
export interface DetectEngine {
  readonly version: DetectVersionInfo;
  /** Throws FacepipeError with an input code (CORRUPT_IMAGE, …) for bad bytes. */
  analyze(bytes: Uint8Array): Promise<ImageAnalysis>;
  close(): Promise<void>;
}
