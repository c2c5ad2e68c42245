import {
  FacepipeError,
  isPersonName,
  objectKeys,
  type LabelsDocument,
  type ObjectStore,
  type ResultDocument,
} from '@facepipe/core';

/**
 * Names given by people to faces. They are stored apart from results (labels/<imageId>.json),
 * keyed by the face's box, and the classify stage merges them into every later result — so
 * re-running the pipeline, with the same or a new model, never erases a name someone gave.
 * The current result is updated at once, too.
 */
export async function labelFace(
  store: ObjectStore,
  imageId: string,
  faceIndex: number,
  name: string | null,
  by?: string,
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
  if (name === null) {
    delete face.label;
    face.name = face.match.name;
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
