import type { Logger } from '@facepipe/core';
import { FaceNamer, type ClassifierKind } from './face-namer.js';
import type { GalleryRepository } from './gallery-repository.js';

export interface GalleryCacheOptions {
  classifier: ClassifierKind;
  tolerance: number;
  /** Longest time between looks at the S3 pointer when no version signal answers. */
  refreshMs: number;
  /**
   * A cheap signal of the newest published version (a Redis key set after each publish), read
   * on every `current()`: every classify process switches to a new gallery at its next job,
   * not `refreshMs` later. Undefined or null answers fall back to polling the S3 pointer.
   */
  publishedVersion?: () => Promise<number | null>;
  log?: Logger;
}

/**
 * Keeps the current gallery in memory and picks up a new version without a restart. The S3
 * pointer (`gallery/current.json`) is the source of truth; the full version is loaded only when
 * the pointer moved.
 */
export class GalleryCache {
  #namer: FaceNamer;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<FaceNamer> | undefined;
  /** Bumped by invalidate(): a refresh that started before cannot mark the cache fresh. */
  #generation = 0;

  constructor(
    readonly repository: GalleryRepository,
    readonly options: GalleryCacheOptions,
  ) {
    this.#namer = new FaceNamer(undefined, options);
  }

  /** The namer for the newest gallery. */
  async current(): Promise<FaceNamer> {
    const signalled = await this.options.publishedVersion?.().catch(() => null);
    const stale =
      signalled !== undefined && signalled !== null
        ? signalled !== this.#namer.version
        : performance.now() - this.#checkedAt >= this.options.refreshMs;
    if (!stale) return this.#namer;
    this.#refreshing ??= this.#refresh().finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  /** Forces the next `current()` to look for a new version. */
  invalidate(): void {
    this.#generation += 1;
    this.#checkedAt = Number.NEGATIVE_INFINITY;
  }

  async #refresh(): Promise<FaceNamer> {
    const generation = this.#generation;
    const pointer = await this.repository.readPointer();
    if (pointer && pointer.version !== this.#namer.version) {
      const doc = await this.repository.readVersion(pointer.key);
      if (doc && doc.version !== this.#namer.version) {
        this.#namer = new FaceNamer(doc, this.options);
        this.options.log?.info('gallery loaded', { galleryVersion: doc.version, people: pointer.people, faces: pointer.faces });
      }
    }
    if (generation === this.#generation) this.#checkedAt = performance.now();
    return this.#namer;
  }
}
