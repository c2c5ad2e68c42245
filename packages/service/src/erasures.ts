import type { Logger, ObjectStore, PipelineQueues } from '@facepipe/core';
import { Eraser, type ErasureOutcome, type ErasureRecord, type PersonErasureMode } from '@facepipe/producer';
import type { Redis } from 'ioredis';
import type { Principal } from './credentials.js';
import type { ImageRenditions } from './image-renditions.js';
import type { LibraryAccess } from './library-access.js';

export interface ErasureCommandsDeps {
  store: ObjectStore;
  redis: Redis;
  prefix: string;
  queues: PipelineQueues;
  access: LibraryAccess;
  log: Logger;
  /** The dashboard's photo renditions: an erased photo's go too. */
  renditions?: ImageRenditions;
}

/** Who asked, as the erasure log records it. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'key' ? `key:${principal.name}` : principal.kind;
}

/** Erasure over HTTP: the face index is opened when the deployment has one (images erase without it). */
export class ErasureCommands {
  constructor(readonly deps: ErasureCommandsDeps) {}

  async eraseImage(imageId: string, principal: Principal): Promise<ErasureOutcome> {
    const outcome = await (await this.#eraser(false)).eraseImage(imageId, actorOf(principal));
    this.deps.renditions?.forget(imageId);
    return outcome;
  }

  async erasePerson(name: string, mode: PersonErasureMode, principal: Principal): Promise<ErasureOutcome> {
    const outcome = await (await this.#eraser(true)).erasePerson(name, mode, actorOf(principal));
    // Which photos went is not told (the log keeps no ids): every rendition goes.
    if (outcome.imagesErased > 0) this.deps.renditions?.clear();
    return outcome;
  }

  /** A page of the erasure log, newest first, and where the next starts (null: the last page). */
  async log(limit: number, before?: string): Promise<{ erasures: ErasureRecord[]; nextCursor: string | null }> {
    // One more than asked says whether another page follows.
    const records = await (await this.#eraser(false)).log.list(limit + 1, before);
    const page = records.slice(0, limit);
    return { erasures: page, nextCursor: records.length > limit ? page[page.length - 1]!.id : null };
  }

  async #eraser(needIndex: boolean): Promise<Eraser> {
    const { access, store, redis, prefix, queues, log } = this.deps;
    const index = access.configured || needIndex ? (await access.library()).index : undefined;
    return new Eraser({ store, redis, prefix, queues, index, log });
  }
}
