import { parseNameSet } from './name-set.js';

/** The SSD's extra passes an operator can turn on or off (FACEPIPE_DETECT_PASSES, `--passes`). */
export interface DetectPasses {
  /** The photo at half scale on a black canvas, for faces that fill the frame. */
  padded: boolean;
  /** Overlapping tiles of a large photo, for small faces. */
  tiles: boolean;
  /** The input turned by quarter turns, for sideways photos without an EXIF orientation. */
  turned: boolean;
}

export const DETECT_PASS_NAMES = ['padded', 'tiles', 'turned'] as const;

/** `all`, `none`, or a comma-separated list of pass names → the passes; undefined when not of that form. */
export function parseDetectPasses(value: string): DetectPasses | undefined {
  return parseNameSet(value, DETECT_PASS_NAMES);
}
