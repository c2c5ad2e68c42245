import { FacepipeError } from '../errors/index.js';
import type { ObjectStore } from './object-store.js';

/**
 * Reads an object facepipe itself stored (an original, chips, a faces or embeddings document).
 * Its absence is the system's failure, not the input's: STORED_OBJECT_MISSING, retryable, and
 * healed by a new ingest of the same bytes — never OBJECT_NOT_FOUND, which would blame the photo.
 */
export async function getStoredBytes(store: ObjectStore, key: string, what: string): Promise<Buffer> {
  try {
    return await store.getBytes(key);
  } catch (err) {
    if (err instanceof FacepipeError && err.code === 'OBJECT_NOT_FOUND') throw storedObjectMissing(key, what, err);
    throw err;
  }
}

/** The typed error for an object facepipe stored that is not in its store. */
export function storedObjectMissing(key: string, what: string, cause?: unknown): FacepipeError {
  return new FacepipeError('STORED_OBJECT_MISSING', `${what} (${key}) is missing from facepipe's store; ingest the photo again to store it anew`, cause === undefined ? undefined : { cause });
}
