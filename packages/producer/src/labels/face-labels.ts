import {
  FacepipeError,
  isPersonName,
  objectKeys,
  type LabelsDocument,
  type ObjectStore,
  type ResultDocument,
} from '@facepipe/core';
import { syncResultDocuments, type FaceLibrary } from '@facepipe/face-index';

/**
 * Names given by people to faces. With a face index (`library`), the name is set there (by box,
 * so it carries over to faces found again by any detector run; the classify stage applies it to
 * every later result) and faces across the library that match it are named at once; the result
 * documents concerned are rewritten. labels/<imageId>.json in S3 is written as well (the
 * export copy, and what the classify stage reads when there is no index). Either way re-running
 * the pipeline, with the same or a new model, never erases a name someone gave.
 */
export async function labelFace(
  store: ObjectStore,
  imageId: string,
  faceIndex: number,
  name: string | null,
  by?: string,
  library?: FaceLibrary,
): Promise<ResultDocument> {
  if (name !== null && !isPersonName(name)) throw new FacepipeError('INVALID_PAYLOAD', `"${name}" is not a valid name`);
  const result = await store.getJson<ResultDocument>(objectKeys.result(imageId));
  if (!result || result.status !== 'done') throw new FacepipeError('OBJECT_NOT_FOUND', `image ${imageId} has no result to label`);
  const face = result.faces.find((f) => f.index === faceIndex);
  if (!face) throw new FacepipeError('INVALID_PAYLOAD', `image ${imageId} has no face ${faceIndex} (it has ${result.faceCount})`);
  const labels = (await store.getJson<LabelsDocument>(objectKeys.labels(imageId))) ?? { schema: 'facepipe.labels/1', imageId, faces: [] };
  const at = new Date().toISOString();
  // One label per face: drop any earlier label of this box (same box from the same detector run).
  labels.faces = labels.faces.filter((l) => !sameBox(l.box, face.box));
  if (name !== null) labels.faces.push({ box: face.box, name, at, ...(by ? { by } : {}) });
  await store.putJson(objectKeys.labels(imageId), labels);
  if (library && name !== null) {
    const { change } = await library.labelFace(imageId, faceIndex, name, by ?? null);
    await syncResultDocuments(store, library.index, change.imageIds.filter((id) => id !== imageId));
  }
  if (name === null) {
    // Back to the automatic name (the index's has no hand name now; the next classification renames it).
    face.name = library ? (await library.clearLabel(imageId, faceIndex)).name : face.match.name;
    delete face.label;
  } else {
    face.label = { name, at, ...(by ? { by } : {}) };
    face.name = name;
  }
  await store.putJson(objectKeys.result(imageId), result);
  return result;
}

function sameBox(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) < 0.5);
}
