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
  const names = value.split(',').map((v) => v.trim());
  if (names.length === 1 && names[0] === 'all') return { padded: true, tiles: true, turned: true };
  if (names.length === 1 && names[0] === 'none') return { padded: false, tiles: false, turned: false };
  if (names.some((n) => !(DETECT_PASS_NAMES as readonly string[]).includes(n))) return undefined;
  return { padded: names.includes('padded'), tiles: names.includes('tiles'), turned: names.includes('turned') };
}
