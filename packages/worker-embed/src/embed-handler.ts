import {
  FacepipeError,
  objectKeys,
  type EmbedEngine,
  type EmbedJobData,
  type EmbeddingsDocument,
  type ObjectStore,
  type PipelineQueues,
  type StageContext,
} from '@facepipe/core';
import type { MicroBatcher } from './micro-batcher.js';

export interface EmbedHandlerDeps {
  store: ObjectStore;
  engine: Pick<EmbedEngine, 'version' | 'decodeChips'>;
  batcher: Pick<MicroBatcher, 'submit'>;
  queues: Pick<PipelineQueues, 'afterEmbed'>;
}

/**
 * The embed stage: chips.webp → embeddings.json → classify. The model runs through the shared
 * micro-batcher, so faces of many concurrent jobs share each batch. Idempotent: the output is
 * keyed by image, detect and embed versions and deterministic.
 * S3 requests per image: 1 read, 1 write.
 */
export class EmbedHandler {
  constructor(readonly deps: EmbedHandlerDeps) {}

  async handle(data: EmbedJobData, ctx?: Pick<StageContext, 'log'>): Promise<{ faces: number }> {
    const { store, engine, queues } = this.deps;
    await store.putJson(objectKeys.embeddings(data.imageId, data.detectVersion, engine.version.tag), await this.#embed(data));
    await queues.afterEmbed(data, engine.version.tag);
    ctx?.log.debug('embedded', { faces: data.faceCount });
    return { faces: data.faceCount };
  }

  /** The stored chips; a job queued by a detect worker of an earlier version finds them as PNG. */
  async #chips(data: EmbedJobData): Promise<Buffer> {
    try {
      return await this.deps.store.getBytes(objectKeys.chips(data.imageId, data.detectVersion));
    } catch (err) {
      if (!(err instanceof FacepipeError && err.code === 'OBJECT_NOT_FOUND')) throw err;
      return this.deps.store.getBytes(objectKeys.legacyChipsPng(data.imageId, data.detectVersion)).catch(() => Promise.reject(err));
    }
  }

  async #embed(data: EmbedJobData): Promise<EmbeddingsDocument> {
    const { store, engine, batcher } = this.deps;
    const t0 = performance.now();
    const stored = await this.#chips(data);
    const { chips, count } = await engine.decodeChips(stored);
    if (count !== data.faceCount) {
      throw new FacepipeError('INVALID_PAYLOAD', `job says ${data.faceCount} faces, the stored chips hold ${count}`);
    }
    const t1 = performance.now();
    const flat = await batcher.submit(chips, count);
    const t2 = performance.now();
    const dims = flat.length / count;
    const embeddings = Array.from({ length: count }, (_, i) => Array.from(flat.subarray(i * dims, (i + 1) * dims)));
    return {
      schema: 'facepipe.embeddings/1',
      imageId: data.imageId,
      detectVersion: data.detectVersion,
      embed: engine.version,
      embeddings,
      timings: { fetchMs: Math.round(t1 - t0), embedMs: Math.round(t2 - t1) },
      embeddedAt: new Date().toISOString(),
    };
  }
}
