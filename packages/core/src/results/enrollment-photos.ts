import { readBatchManifest } from '../batch/batch-manifest.js';
import type { ErrorRecord } from '../errors/index.js';
import type { ObjectStore } from '../storage/index.js';
import { objectKeys } from '../storage/index.js';
import type { EnrollmentReport, ResultDocument } from './documents.js';

/** One accepted enrollment photo: its single face becomes an example of the person. */
export interface EnrollmentExample {
  imageId: string;
  faceIndex: number;
  source: string;
}

/**
 * Which photos of a finished enrollment batch enroll whom: each must have been processed and show
 * exactly one face (else it is rejected with its reason: the photo's own error, NO_FACE,
 * MULTIPLE_FACES). The one reading of an enrollment batch, for the gallery build and for a
 * preview of what enrolling would name.
 */
export async function enrollmentPhotos(store: ObjectStore, batchId: string): Promise<{ items: EnrollmentReport['items']; examples: Map<string, EnrollmentExample[]> }> {
  const items: EnrollmentReport['items'] = [];
  const examples = new Map<string, EnrollmentExample[]>();
  for await (const entry of readBatchManifest(store, batchId)) {
    if (!entry.person) continue;
    const reject = (error: ErrorRecord) => items.push({ source: entry.source, person: entry.person!, imageId: entry.imageId, status: 'rejected', error });
    if (entry.error || entry.imageId === null) {
      reject(entry.error ?? { code: 'INTERNAL', message: 'no image id' });
      continue;
    }
    const result = await store.getJson<ResultDocument>(objectKeys.result(entry.imageId));
    if (!result) reject({ code: 'OBJECT_NOT_FOUND', message: 'the photo has not been processed' });
    else if (result.status === 'failed') reject(result.error ?? { code: 'INTERNAL', message: 'processing failed' });
    else if (result.faceCount === 0) reject({ code: 'NO_FACE', message: 'no face was found in the photo' });
    else if (result.faceCount > 1) reject({ code: 'MULTIPLE_FACES', message: `${result.faceCount} faces were found; enroll photos with one face` });
    else {
      examples.set(entry.person, [...(examples.get(entry.person) ?? []), { imageId: entry.imageId, faceIndex: result.faces[0]!.index, source: entry.source }]);
      items.push({ source: entry.source, person: entry.person, imageId: entry.imageId, status: 'enrolled' });
    }
  }
  return { items, examples };
}
