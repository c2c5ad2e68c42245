/**
 * When each extra SSD pass runs, as small pure decisions on what the passes before it found
 * (docs/accuracy.md, "Detection strategy"). The upright pass always runs; the others only when
 * they can pay: their cost is one more SSD run each (tiles: about four).
 */

/** A face found so far: its box in photo pixels. */
export interface FoundBox {
  readonly box: readonly number[];
}

/**
 * `padded`: the photo at half scale in the middle of the input, for faces filling the frame
 * (close-ups SSD misses at full scale). Runs when the passes before found nothing or only faces
 * at least `largeFace` of the photo's shorter side, and the input is large enough to halve.
 */
export function wantsPaddedPass(found: readonly FoundBox[], photo: { width: number; height: number }, inputSide: number, largeFace: number, minInput: number): boolean {
  const shorter = Math.min(photo.width, photo.height);
  const onlyLarge = found.every((f) => Math.min(f.box[2]!, f.box[3]!) >= largeFace * shorter);
  return onlyLarge && inputSide >= 2 * minInput;
}

/**
 * `tiles`: overlapping tiles at twice the upright pass's resolution, for small faces in big
 * photos. Runs when the photo was shrunk at least 2× for the upright input (`scale` input pixels
 * per photo pixel ≤ 0.5) and some face found is at the detector's small end (its shorter side
 * under `smallFace` input pixels): where one small face is, others often are.
 */
export function wantsTilesPass(found: readonly FoundBox[], scale: number, smallFace: number): boolean {
  return scale <= 0.5 && found.some((f) => Math.min(f.box[2]!, f.box[3]!) * scale < smallFace);
}

/** `turned`: the input turned by 90° and 270° (then 180°), for photos whose faces lie on their side; only when nothing was found upright. */
export function wantsTurnedPasses(found: readonly FoundBox[]): boolean {
  return found.length === 0;
}

/**
 * Of the 90° and 270° passes the one whose best face scores higher wins (an upside-down face
 * in the wrong one is sometimes found too, with landmarks that would be upside down); 180° runs
 * only when both found nothing. Returns which to keep, or 'half' to run 180°.
 */
export function chooseTurnedPass(quarterBest: number, threeQuartersBest: number): 'quarter' | 'threeQuarters' | 'half' {
  if (quarterBest === 0 && threeQuartersBest === 0) return 'half';
  return quarterBest >= threeQuartersBest ? 'quarter' : 'threeQuarters';
}
