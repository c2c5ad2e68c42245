import { FacepipeError, type FacepipeConfig } from '@facepipe/core';
import type { FaceHit, FaceLibrary } from '@facepipe/face-index';
import { analyzerOptionsFromConfig, FaceAnalyzer } from '@facepipe/vision';

/** One hit of a search by face: the line of `facepipe search --json`, the item of POST /v1/search. */
export interface SearchHit {
  imageId: string;
  /** The file as it was ingested (relative to the folder given to run/ingest, or the upload's name). */
  source: string;
  face: number;
  distance: number;
  name: string | null;
  /** The face's cluster when nobody is set on it, else null. */
  cluster: string | null;
}

/** The face of a photo that is searched for. */
export interface SearchProbe {
  embedding: Float32Array;
  /** Its index in detection order. */
  face: number;
  /** Faces found in the photo. */
  faces: number;
  embedVersion: string;
}

/**
 * Search by face: detects and embeds a photo with the pipeline's models and settings, then asks
 * the face index for the nearest faces. Used by `facepipe search` and POST /v1/search.
 */
export class PhotoSearch {
  #closing: Promise<void> | undefined;

  private constructor(readonly analyzer: FaceAnalyzer) {}

  /** Loads the detect and embed models as the configuration says (as the workers do). */
  static async create(config: FacepipeConfig): Promise<PhotoSearch> {
    const analyzer = await FaceAnalyzer.create(analyzerOptionsFromConfig(config));
    return new PhotoSearch(analyzer);
  }

  /**
   * The embedding of one face of the photo: the largest unless `face` is given. No face is
   * NO_FACE; a `face` beyond the faces found is INVALID_PAYLOAD; bad bytes keep their input code.
   */
  async probe(bytes: Uint8Array, face?: number, what = 'the photo'): Promise<SearchProbe> {
    const described = await this.analyzer.describe(bytes);
    const count = described.faces.length;
    if (count === 0) throw new FacepipeError('NO_FACE', `no face was found in ${what}`);
    const area = (i: number) => described.faces[i]!.box[2] * described.faces[i]!.box[3];
    const chosen = face ?? largestIndex(count, area);
    if (chosen >= count) throw new FacepipeError('INVALID_PAYLOAD', `there is no face ${chosen} to search: ${what} has ${count === 1 ? '1 face (face 0)' : `${count} faces (0 to ${count - 1})`}`);
    return { embedding: described.embeddings[chosen]!, face: chosen, faces: count, embedVersion: this.analyzer.embedVersion.tag };
  }

  close(): Promise<void> {
    this.#closing ??= this.analyzer.close();
    return this.#closing;
  }
}

/** The library's faces nearest to the probe, nearest first (HNSW, approximate). */
export async function searchLibrary(library: FaceLibrary, probe: SearchProbe, limit: number): Promise<SearchHit[]> {
  const hits = await library.search(probe.embedding, probe.embedVersion, limit);
  return hits.map(toSearchHit);
}

export function toSearchHit(h: FaceHit): SearchHit {
  return { imageId: h.imageId, source: h.source, face: h.faceIndex, distance: Math.round(h.distance * 1e6) / 1e6, name: h.name, cluster: h.personId === null ? h.clusterId : null };
}

/** Faces in the library made by another embedding model than `embedVersion` (why a search finds nothing). */
export async function facesOfOtherVersions(library: FaceLibrary, embedVersion: string): Promise<number> {
  return library.index.repos.faces.countOfOtherVersions(embedVersion);
}

function largestIndex(count: number, area: (i: number) => number): number {
  let best = 0;
  for (let i = 1; i < count; i++) if (area(i) > area(best)) best = i;
  return best;
}
