import { Readable } from 'node:stream';
import { FacepipeError, objectKeys, type ObjectStore, type ResultDocument } from '@facepipe/core';
import { ApiError } from '../api-errors.js';
import { imageStatus, type ImageStatus, type ImageStatusSources } from '../image-status.js';

/** A stored object opened for streaming, with its first bytes read (to name its type). */
export interface StoredObject {
  head: Buffer;
  body: Readable;
}

/** What is known about an image: its status (and result), its original bytes, its face crops. */
export class ImageReads {
  constructor(readonly sources: ImageStatusSources & { store: ObjectStore }) {}

  /** Undefined when nothing is known about the id. */
  status(imageId: string): Promise<ImageStatus | undefined> {
    return imageStatus(this.sources, imageId);
  }

  /** The uploaded bytes; 404 when not stored. */
  original(imageId: string): Promise<StoredObject> {
    return this.#open(objectKeys.original(imageId));
  }

  /** The aligned face crops (one PNG, face order top to bottom); 404 without a result with faces. */
  async crops(imageId: string): Promise<StoredObject> {
    const result = await this.sources.store.getJson<ResultDocument>(objectKeys.result(imageId));
    const cropKey = result?.faces[0]?.cropKey;
    if (!cropKey) throw new ApiError(404, 'NOT_FOUND', `image ${imageId} has no result with faces`);
    return this.#open(cropKey);
  }

  async #open(key: string): Promise<StoredObject> {
    let stream: Readable;
    try {
      stream = await this.sources.store.getStream(key);
    } catch (err) {
      if (err instanceof FacepipeError && err.code === 'OBJECT_NOT_FOUND') throw new ApiError(404, 'NOT_FOUND', 'no such object');
      throw err;
    }
    const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const first = await iterator.next();
    const head = first.done ? Buffer.alloc(0) : Buffer.from(first.value);
    const body = Readable.from(
      (async function* () {
        if (!first.done) yield head;
        for (;;) {
          const next = await iterator.next();
          if (next.done) return;
          yield next.value;
        }
      })(),
    );
    return { head, body };
  }
}
