import type { ImageFormat } from './sniff.js';

/** An 8-bit RGB image: `data` holds `width * height * 3` bytes, row-major, R,G,B per pixel. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * Colour that transparent pixels are composited onto. `black` matches what face-api saw when it
 * read RGB from a canvas (premultiplied alpha: a transparent pixel has RGB 0,0,0).
 */
export type FlattenBackground = 'black' | 'white';

/** Limits and choices for {@link decodeImage} and {@link probeImage}. */
export interface DecodeOptions {
  /** Largest accepted `width * height` (decompression-bomb guard), checked from the header before any decoding. */
  readonly maxPixels: number;
  /** Largest accepted input size in bytes. @defaultValue no limit */
  readonly maxBytes?: number;
  /** Background for transparent pixels. @defaultValue `'black'` */
  readonly background?: FlattenBackground;
}

/** What {@link probeImage} reads from a header, without decoding pixels. */
export interface ImageProbe {
  readonly format: ImageFormat;
  /** Width after applying the EXIF orientation (what {@link decodeImage} will return). */
  readonly width: number;
  /** Height after applying the EXIF orientation. */
  readonly height: number;
  /** EXIF orientation 1..8 as stored (1 when absent or invalid). */
  readonly orientation: number;
  /** Width as stored, before orientation. */
  readonly originalWidth: number;
  /** Height as stored, before orientation. */
  readonly originalHeight: number;
}

/** A decoded, upright, 8-bit sRGB image and what was learned about it on the way. */
export interface DecodedImage extends RgbImage, ImageProbe {
  /** The source had an alpha channel, which was flattened onto the background. */
  readonly hadAlpha: boolean;
}
