import { objectKeys, readBatchManifest, type ErrorRecord, type ManifestEntry, type ObjectStore, type ResultDocument } from '@facepipe/core';

/** One line of `facepipe run --out` and of `facepipe results <batchId>`. */
export type ResultLine =
  | {
      file: string;
      imageId: string;
      faces: { box: [number, number, number, number]; score: number; match: { name: string | null; distance: number | null } }[];
    }
  | { file: string; imageId?: string; error: ErrorRecord };

/** A batch's inputs with their result documents, in input order, fetched `concurrency` at a time. */
export async function* batchResults(
  store: ObjectStore,
  batchId: string,
  concurrency = 16,
): AsyncIterable<{ entry: ManifestEntry; result: ResultDocument | undefined }> {
  const window: Promise<{ entry: ManifestEntry; result: ResultDocument | undefined }>[] = [];
  const fetch = async (entry: ManifestEntry) => ({
    entry,
    result: entry.imageId ? await store.getJson<ResultDocument>(objectKeys.result(entry.imageId)) : undefined,
  });
  for await (const entry of readBatchManifest(store, batchId)) {
    window.push(fetch(entry));
    if (window.length >= concurrency) yield await window.shift()!;
  }
  while (window.length > 0) yield await window.shift()!;
}

/** The compact per-file line: boxes, scores and names (a given name wins over the automatic one). */
export function toResultLine(entry: ManifestEntry, result: ResultDocument | undefined): ResultLine {
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
    faces: result.faces.map((f) => ({
      box: f.box,
      score: f.score,
      match: { name: f.name, distance: f.match.distance },
    })),
  };
}
