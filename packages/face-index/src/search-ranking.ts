/**
 * Search ranking with face quality: a face flagged small, blurred or cut by the photo's border
 * ranks as if `penalty` farther than it is. Such fragments (background faces, half faces at the
 * edge) sit at middling distances from everyone, and without the penalty they crowd the top hits
 * of probes whose own photos are a little farther (docs/recognition.md, "Search").
 */

/** What flags a face for search, and what the flag costs. */
export interface SearchQualityOptions {
  /** Added to a flagged face's distance when ranking (the distance shown is the real one). @defaultValue 0.05 */
  penalty: number;
  /** A box whose shorter side is below this (pixels) is small. @defaultValue 40 */
  minFaceSize: number;
  /** A chip sharpness (variance of the Laplacian) below this is blurred. @defaultValue 8 */
  minSharpness: number;
  /** A box with more than this share of its area outside the photo is cut by the border. @defaultValue 0.15 */
  maxOutside: number;
}

export const DEFAULT_SEARCH_QUALITY: Readonly<SearchQualityOptions> = { penalty: 0.05, minFaceSize: 40, minSharpness: 8, maxOutside: 0.15 };

/** The facts about a face the flag is decided from; unknown facts flag nothing. */
export interface SearchFlagFace {
  /** `[x, y, width, height]`, photo pixels. */
  box: readonly number[];
  sharpness?: number | null;
  /** The photo's size, when known. */
  image?: { width: number; height: number } | null;
}

/** Whether a face is small, blurred or cut by the border, for search ranking. */
export function isSearchFlagged(face: SearchFlagFace, options: Partial<SearchQualityOptions> = {}): boolean {
  const o = { ...DEFAULT_SEARCH_QUALITY, ...options };
  const [x = 0, y = 0, w = 0, h = 0] = face.box;
  if (Math.min(w, h) < o.minFaceSize) return true;
  if (face.sharpness !== undefined && face.sharpness !== null && face.sharpness < o.minSharpness) return true;
  const img = face.image;
  if (img && img.width > 0 && img.height > 0 && w > 0 && h > 0) {
    const insideW = Math.max(0, Math.min(x + w, img.width) - Math.max(x, 0));
    const insideH = Math.max(0, Math.min(y + h, img.height) - Math.max(y, 0));
    if (1 - (insideW * insideH) / (w * h) > o.maxOutside) return true;
  }
  return false;
}

/**
 * Hits ordered by distance, a flagged hit's distance counting `penalty` more; ties keep their
 * input order. Returns a new array; the hits themselves are unchanged.
 */
export function rankSearchHits<T extends { distance: number }>(hits: readonly T[], flagged: (hit: T) => boolean, penalty = DEFAULT_SEARCH_QUALITY.penalty): T[] {
  return hits
    .map((h, i) => ({ h, i, k: rankDistance(h.distance, flagged(h), penalty) }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.h);
}

/** The distance a hit ranks by. */
export function rankDistance(distance: number, flagged: boolean, penalty = DEFAULT_SEARCH_QUALITY.penalty): number {
  return distance + (flagged ? penalty : 0);
}
