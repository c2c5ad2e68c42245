/**
 * Nearest-neighbour identification against a gallery of labelled embeddings, the
 * face_recognition way: the closest gallery embedding names the probe when its Euclidean distance
 * is within a tolerance (0.6 for dlib's 128-d descriptors).
 */
import { euclideanDistance, type Embedding } from './distance.js';

/** One labelled gallery embedding. A person may have several entries. */
export interface GalleryEntry {
  readonly name: string;
  readonly embedding: Embedding;
}

/** Options for {@link matchNearest}. */
export interface NearestOptions {
  /** Largest Euclidean distance accepted as the same person. @defaultValue 0.6 */
  readonly tolerance?: number;
}

/** The result of matching one probe. */
export interface NearestMatch {
  /** The matched person, or null when nobody is within the tolerance (or the gallery is empty). */
  readonly name: string | null;
  /** Distance to the nearest gallery embedding (Infinity for an empty gallery). */
  readonly distance: number;
  /** The nearest gallery person, even when too far to be accepted. */
  readonly nearestName: string | null;
  /** Distance to the nearest embedding of any *other* person than `nearestName` (Infinity if none). */
  readonly secondDistance: number;
  /**
   * How clear-cut the decision is, in [0, 1], with t the tolerance, d₁ the nearest distance and
   * d₂ the nearest distance to another person:
   * - match: `min((t − d₁)/t, (d₂ − d₁)/t)`, clamped to [0, 1]: 0 at the tolerance or when two
   *   people are equally close, 1 for an exact hit with no rival within t;
   * - no match: `min(1, (d₁ − t)/t)`: 0 just past the tolerance, 1 at twice the tolerance or more.
   */
  readonly confidence: number;
}

export const DEFAULT_TOLERANCE = 0.6;

const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));

/** Matches a probe embedding against the gallery. See {@link NearestMatch} for the fields. */
export function matchNearest(probe: Embedding, gallery: readonly GalleryEntry[], opts: NearestOptions = {}): NearestMatch {
  const tolerance = opts.tolerance ?? DEFAULT_TOLERANCE;
  if (!(tolerance > 0)) throw new RangeError(`tolerance must be positive, got ${tolerance}`);
  // Nearest distance per person.
  const perPerson = new Map<string, number>();
  for (const entry of gallery) {
    const d = euclideanDistance(probe, entry.embedding);
    const best = perPerson.get(entry.name);
    if (best === undefined || d < best) perPerson.set(entry.name, d);
  }
  let nearestName: string | null = null;
  let distance = Number.POSITIVE_INFINITY;
  let secondDistance = Number.POSITIVE_INFINITY;
  for (const [name, d] of perPerson) {
    if (d < distance) {
      secondDistance = distance;
      distance = d;
      nearestName = name;
    } else if (d < secondDistance) {
      secondDistance = d;
    }
  }
  if (nearestName === null || distance > tolerance) {
    const confidence = nearestName === null ? 1 : Math.min(1, (distance - tolerance) / tolerance);
    return { name: null, distance, nearestName, secondDistance, confidence };
  }
  const confidence = clamp01(Math.min((tolerance - distance) / tolerance, (secondDistance - distance) / tolerance));
  return { name: nearestName, distance, nearestName, secondDistance, confidence };
}
