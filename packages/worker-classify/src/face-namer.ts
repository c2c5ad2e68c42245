import type { FaceMatch, GalleryDocument } from '@facepipe/core';
import { decideName, defaultNamingRule, euclidean, withTolerance, type NamingRuleOptions } from '@facepipe/face-index';
import {
  matchNearest,
  parseLinearSvmModel,
  predictLinearSvm,
  type GalleryEntry,
  type LinearSvmModel,
} from '@facepipe/vision';

export type ClassifierKind = 'nearest' | 'svm';

/**
 * Names faces against one built gallery.
 * - `nearest`: the nearest enrolled face names the probe when within `tolerance` (face_recognition's rule).
 * - `svm`: the one-vs-rest linear SVM picks the person; the name is kept only when that person's
 *   decision value is positive and one of their enrolled faces is within `tolerance`, so a
 *   stranger is "unknown" rather than the least-bad class.
 */
export class FaceNamer {
  readonly #entries: GalleryEntry[];
  readonly #svm: LinearSvmModel | null;

  constructor(
    readonly gallery: GalleryDocument | undefined,
    readonly options: { classifier: ClassifierKind; tolerance: number },
  ) {
    this.#entries = (gallery?.people ?? []).flatMap((p) => p.faces.map((f) => ({ name: p.name, embedding: f.embedding })));
    this.#svm = gallery?.svm ? parseLinearSvmModel(gallery.svm) : null;
  }

  get version(): number | null {
    return this.gallery?.version ?? null;
  }

  /** Whether embeddings of `embedVersion` can be compared with this gallery. */
  accepts(embedVersion: string | null): boolean {
    return this.gallery !== undefined && embedVersion !== null && this.gallery.embedVersion === embedVersion;
  }

  /** The naming rule, its distances capped by the tolerance (a lower FACEPIPE_MATCH_TOLERANCE still tightens it). */
  get rule(): NamingRuleOptions {
    const t = this.options.tolerance;
    return withTolerance(defaultNamingRule, t);
  }

  /**
   * `nearest`: the naming rule (decideName: several examples agreeing, margin, threshold by gallery
   * size, quality) → a name, a suggestion (match.name null), or unknown. `svm`: as before.
   */
  decide(embedding: ArrayLike<number>, qualityOk = true): { match: FaceMatch; suggestion?: { name: string; distance: number } } {
    const match = this.name(embedding);
    if (this.options.classifier !== 'nearest' || this.#entries.length === 0) return { match };
    const hits = this.#entries.map((e) => ({ personId: e.name, distance: euclidean(embedding, e.embedding) })).sort((a, b) => a.distance - b.distance).slice(0, 32);
    const counts = new Map<string, number>();
    for (const e of this.#entries) counts.set(e.name, (counts.get(e.name) ?? 0) + 1);
    const d = decideName(hits, { people: counts.size, examplesOf: (n) => counts.get(n) ?? 0 }, qualityOk, this.rule);
    if (d.kind === 'name') return { match: { ...match, name: d.personId, distance: round(d.distance) } };
    const unnamed: FaceMatch = { ...match, name: null, distance: d.distance === null ? null : round(d.distance), confidence: match.name === null ? match.confidence : 0 };
    return d.kind === 'suggestion' ? { match: unnamed, suggestion: { name: d.personId, distance: round(d.distance) } } : { match: unnamed };
  }

  /** The classic answer of the classifier alone (no naming rule): nearest within the tolerance, or the SVM's. */
  name(embedding: ArrayLike<number>): FaceMatch {
    const { tolerance, classifier } = this.options;
    const galleryVersion = this.version;
    if (this.#entries.length === 0) return { name: null, distance: null, confidence: 0, method: classifier, galleryVersion };
    const nearest = matchNearest(embedding, this.#entries, { tolerance });
    if (classifier === 'svm' && this.#svm) {
      const prediction = predictLinearSvm(this.#svm, embedding, { nearestDistance: nearest.distance, tolerance });
      const classDistance = nearestDistanceTo(prediction.bestClass, embedding, this.#entries);
      const accepted = prediction.score > 0 && classDistance <= tolerance;
      return {
        name: accepted ? prediction.bestClass : null,
        distance: round(accepted ? classDistance : nearest.distance),
        // Logistic squashing of the margin: 0.5 on the hyperplane.
        confidence: round(1 / (1 + Math.exp(-2 * prediction.score))),
        method: 'svm',
        galleryVersion,
      };
    }
    return { name: nearest.name, distance: round(nearest.distance), confidence: round(nearest.confidence), method: 'nearest', galleryVersion };
  }
}

function nearestDistanceTo(name: string, probe: ArrayLike<number>, entries: readonly GalleryEntry[]): number {
  let best = Number.POSITIVE_INFINITY;
  for (const e of entries) {
    if (e.name !== name) continue;
    let s = 0;
    for (let i = 0; i < probe.length; i += 1) {
      const d = probe[i]! - e.embedding[i]!;
      s += d * d;
    }
    best = Math.min(best, Math.sqrt(s));
  }
  return best;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;
