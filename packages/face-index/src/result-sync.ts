import { objectKeys, type ObjectStore, type ResultDocument } from '@facepipe/core';
import type { FaceIndex } from './face-index.js';

/**
 * Brings result documents (the export format in S3) in step with the index after people
 * changed: each face's shown name (and hand label) becomes the index's. Documents of other
 * embedding versions than the index holds are left alone. Returns how many were rewritten.
 */
export async function syncResultDocuments(store: ObjectStore, index: FaceIndex, imageIds: readonly string[], concurrency = 8): Promise<number> {
  let rewritten = 0;
  const queue = [...new Set(imageIds)];
  const work = async () => {
    for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
      const result = await store.getJson<ResultDocument>(objectKeys.result(id));
      if (!result || result.status !== 'done') continue;
      const states = (await index.repos.faces.statesOfImages([id])).get(id) ?? [];
      let changed = false;
      for (const face of result.faces) {
        const state = states.find((s) => s.faceIndex === face.index);
        if (!state) continue;
        const label = state.personSource === 'hand' && state.name !== null ? { name: state.name, at: face.label?.at ?? new Date().toISOString() } : undefined;
        if (face.name === state.name && face.label?.name === label?.name) continue;
        face.name = state.name;
        if (label) face.label = label;
        else delete face.label;
        changed = true;
      }
      if (changed) {
        await store.putJson(objectKeys.result(id), result);
        rewritten += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, queue.length) }, work));
  return rewritten;
}
