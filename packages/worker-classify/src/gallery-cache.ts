import type { Logger } from '@facepipe/core';
import { FaceNamer, type ClassifierKind } from './face-namer.js';
import type { GalleryRepository } from './gallery-repository.js';

/**
 * Keeps the current gallery in memory and picks up a new version without a restart: at most
 * every `refreshMs` it reads the small pointer object, and loads the full version only when
 * the pointer moved.
 */
export class GalleryCache {
  #namer: FaceNamer;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<FaceNamer> | undefined;

  constructor(
    readonly repository: GalleryRepository,
    readonly options: { classifier: ClassifierKind; tolerance: number; refreshMs: number; log?: Logger },
  ) {
    this.#namer = new FaceNamer(undefined, options);
  }

  /** The namer for the newest gallery (refreshing first if the last check is older than refreshMs). */
  async current(): Promise<FaceNamer> {
    if (performance.now() - this.#checkedAt < this.options.refreshMs) return this.#namer;
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Forces the next `current()` to look for a new version. */
  invalidate(): void {
    this.#checkedAt = Number.NEGATIVE_INFINITY;
  }

  async #refresh(): Promise<FaceNamer> {
    const pointer = await this.repository.readPointer();
    this.#checkedAt = performance.now();
    if (!pointer || pointer.version === this.#namer.version) return this.#namer;
    const doc = await this.repository.readVersion(pointer.key);
    if (doc) {
      this.#namer = new FaceNamer(doc, this.options);
      this.options.log?.info('gallery loaded', { galleryVersion: doc.version, people: pointer.people, faces: pointer.faces });
    }
    return this.#namer;
  }
}
