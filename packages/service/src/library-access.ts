import type { FacepipeConfig, ObjectStore } from '@facepipe/core';
import { FaceIndex, FaceLibrary, syncResultDocuments, type LibraryChange } from '@facepipe/face-index';
import { PhotoSearch } from '@facepipe/producer';
import { ApiError } from './api-errors.js';

/**
 * The service's way to the face index (DATABASE_URL) and to the models search by photo needs,
 * both opened on first use: a service without DATABASE_URL still serves everything else, and one
 * that never searches never loads the models. A failed connection is tried again next request.
 */
export class LibraryAccess {
  #library: Promise<FaceLibrary> | undefined;
  #search: Promise<PhotoSearch> | undefined;
  #closing: Promise<void> | undefined;

  constructor(
    readonly config: FacepipeConfig,
    /** Where the result documents a change must be brought in step with are. */
    readonly store: ObjectStore,
  ) {}

  /** Whether DATABASE_URL names a face index. */
  get configured(): boolean {
    return this.config.database.url !== undefined;
  }

  /** The library; 503 DATABASE_UNAVAILABLE without DATABASE_URL or when the database does not answer. */
  library(): Promise<FaceLibrary> {
    if (this.#closing) return Promise.reject(new ApiError(503, 'SHUTTING_DOWN', 'the service is stopping'));
    const url = this.config.database.url;
    if (url === undefined) return Promise.reject(new ApiError(503, 'DATABASE_UNAVAILABLE', 'this service has no face index: set DATABASE_URL (PostgreSQL with pgvector) and restart it'));
    this.#library ??= FaceIndex.connect({
      url,
      clustering: { maxDistance: this.config.database.clusterMaxDistance, minFaces: this.config.database.clusterMinFaces, maxLinkage: this.config.database.clusterMaxLinkage },
    }).then(
      (index) => new FaceLibrary(index, { tolerance: this.config.classify.tolerance }),
      (err: unknown) => {
        this.#library = undefined;
        throw err;
      },
    );
    return this.#library;
  }

  /** Rewrites the result documents of a change's images to the index's names; how many it rewrote. */
  syncResults(library: FaceLibrary, change: LibraryChange): Promise<number> {
    return syncResultDocuments(this.store, library.index, change.imageIds);
  }

  /** The detect and embed models for search by photo (loaded once). */
  photoSearch(): Promise<PhotoSearch> {
    if (this.#closing) return Promise.reject(new ApiError(503, 'SHUTTING_DOWN', 'the service is stopping'));
    this.#search ??= PhotoSearch.create(this.config).catch((err: unknown) => {
      this.#search = undefined;
      throw err;
    });
    return this.#search;
  }

  /** Closes what was opened. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const [library, search] = await Promise.allSettled([this.#library, this.#search]);
      if (library.status === 'fulfilled') await library.value?.index.close();
      if (search.status === 'fulfilled') await search.value?.close();
    })();
    return this.#closing;
  }
}
