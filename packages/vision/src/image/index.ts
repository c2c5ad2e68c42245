export { decodeImage, probeImage } from './decode.js';
export { looksTruncated, classifyDecodeError } from './decode-errors.js';
export { sniffFormat, SUPPORTED_FORMATS, UNSUPPORTED_FORMATS, type ImageFormat, type UnsupportedImageFormat, type SniffResult } from './sniff.js';
export { letterboxRgb, letterboxRgbRect, letterboxRegion, cropAndResize, type LetterboxOptions, type LetterboxedInput } from './letterbox.js';
export type { RgbImage, DecodedImage, DecodeOptions, ImageProbe, FlattenBackground } from './types.js';
export { readHeifStructure, readBoxes, exifOrientation, type HeifStructure, type IsoBox, type ItemExtent } from './isobmff.js';
export { orientRgb } from './orientation.js';
export { HeifDecodePool, sharedHeifDecodePool } from './heif-decode-pool.js';
export { decodeHeifPrimary } from './heif-libheif.js';
