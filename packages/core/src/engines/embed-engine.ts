import type { EmbedVersionInfo } from '../results/documents.js';

/**
 * The embedding network behind an interface, so the embed stage's batching and storage logic is
 * testable without models. Production: `@facepipe/vision`.
 */
export interface EmbedEngine {
  readonly version: EmbedVersionInfo;
  /** Side of the square RGB chips the network takes. */
  readonly chipSize: number;
  /**
   * Embeds `count` chips (RGB, `count × size × size × 3` bytes, chip after chip) in one batched
   * run; returns `count × 128` floats. Runs off the caller's event loop.
   */
  embed(chips: Uint8Array, count: number): Promise<Float32Array>;
  /**
   * Stored chips back as raw RGB chips: `rgb` as the detect stage stores them now (the bytes
   * themselves, checked for a whole number of chips), `image` a stacked image of earlier versions
   * (lossless WebP, or PNG), decoded.
   */
  decodeChips(stored: Uint8Array, format: 'rgb' | 'image'): Promise<{ chips: Uint8Array; count: number }>;
  /** Encodes raw chips (as `embed` takes them) as the small display rendition kept after embedding (lossy WebP). */
  encodeChipsView(chips: Uint8Array, count: number): Promise<Uint8Array>;
  close(): Promise<void>;
}
