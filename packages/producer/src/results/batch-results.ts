import { objectKeys, readBatchManifest, type ErrorRecord, type ManifestEntry, type ObjectStore, type ResultDocument } from '@facepipe/core';
import type { FaceIndex, FaceState } from '@facepipe/face-index';

/** One line of `facepipe run --out` and of `facepipe results <batchId>`. */
export type ResultLine =
  | {
      file: string;
      imageId: string;
      faces: {
        box: [number, number, number, number];
        score: number;
        match: { name: string | null; distance: number | null };
        /** The face's group of similar unnamed faces in the face index; null when named or in no group. */
        cluster: string | null;
        /** "Probably this person", with the distance to their nearest example: never a name until confirmed (match.name is null). */
        suggestion?: { name: string; distance: number };
      }[];
    }
  | { file: string; imageId?: string; error: ErrorRecord };

/** A batch input with its result document and, with a face index, what the index says of its faces now. */
export interface BatchResult {
  entry: ManifestEntry;
  result: ResultDocument | undefined;
  faces?: FaceState[];
}

/** A batch's inputs with their result documents, in input order, fetched `concurrency` at a time. */
export async function* batchResults(store: ObjectStore, batchId: string, concurrency = 16, index?: FaceIndex): AsyncIterable<BatchResult> {
  const window: Promise<BatchResult>[] = [];
  const fetch = async (entry: ManifestEntry): Promise<BatchResult> => {
    if (!entry.imageId) return { entry, result: undefined };
    const [result, states] = await Promise.all([
      store.getJson<ResultDocument>(objectKeys.result(entry.imageId)),
      index ? index.repos.faces.statesOfImages([entry.imageId]) : Promise.resolve(undefined),
    ]);
    return { entry, result, ...(states ? { faces: states.get(entry.imageId) ?? [] } : {}) };
  };
  for await (const entry of readBatchManifest(store, batchId)) {
    window.push(fetch(entry));
    if (window.length >= concurrency) yield await window.shift()!;
  }
  while (window.length > 0) yield await window.shift()!;
}

/** How a reader wants result lines. */
export interface ResultLineOptions {
  /**
   * Names only at this distance or nearer: a face named automatically farther than it answers
   * `match.name: null` with the name as a `suggestion` (as the naming rule does for evidence
   * short of a name). Names given by hand, by enrollment or by naming a cluster are kept.
   * @defaultValue undefined (the names as the deployment decided them)
   */
  threshold?: number;
}

/**
 * The compact per-file line: boxes, scores and names (a given name wins over the automatic one).
 * With the index's face states, names and clusters are the index's (people named since the
 * result was written show), else names come from the document and clusters are null.
 */
export function toResultLine(entry: ManifestEntry, result: ResultDocument | undefined, faces?: readonly FaceState[], options: ResultLineOptions = {}): ResultLine {
  if (entry.error) return { file: entry.source, ...(entry.imageId ? { imageId: entry.imageId } : {}), error: entry.error };
  if (!entry.imageId || !result) {
    return { file: entry.source, ...(entry.imageId ? { imageId: entry.imageId } : {}), error: { code: 'OBJECT_NOT_FOUND', message: 'no result has been written for this image yet' } };
  }
  if (result.status === 'failed') {
    return { file: entry.source, imageId: entry.imageId, error: { code: result.error?.code ?? 'INTERNAL', message: result.error?.message ?? 'failed' } };
  }
  return {
    file: entry.source,
    imageId: entry.imageId,
    faces: result.faces.map((f) => {
      const state = faces?.find((s) => s.faceIndex === f.index);
      const name = state ? state.name : f.name;
      const distance = state && state.personSource === 'auto' && state.matchDistance !== null ? state.matchDistance : f.match.distance;
      // Automatic: the index says so, or (without one) the document's name is its match, not a label.
      const automatic = state ? state.personSource === 'auto' : f.label === undefined && f.name !== null;
      if (name !== null && automatic && options.threshold !== undefined && distance !== null && distance > options.threshold) {
        return { box: f.box, score: f.score, match: { name: null, distance }, cluster: null, suggestion: { name, distance } };
      }
      return {
        box: f.box,
        score: f.score,
        match: { name, distance },
        cluster: state && state.personId === null ? state.clusterId : null,
        // "Probably X": never a name until confirmed (facepipe people confirm).
        ...(suggestionOf(state, f) ? { suggestion: suggestionOf(state, f)! } : {}),
      };
    }),
  };
}

function suggestionOf(state: FaceState | undefined, face: ResultDocument['faces'][number]): { name: string; distance: number } | undefined {
  if (state) return state.personId === null && state.suggestion ? { name: state.suggestion.name, distance: state.suggestion.distance } : undefined;
  return face.suggestion;
}
