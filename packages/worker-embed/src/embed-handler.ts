import {
  storedObjectMissing,
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
  engine: Pick<EmbedEngine, 'version' | 'decodeChips' | 'encodeChipsView'>;
  batcher: Pick<MicroBatcher, 'submit'>;
  queues: Pick<PipelineQueues, 'afterEmbed'>;
}

/**
 * The embed stage: chips.rgb → embeddings.json (+ chips-view.webp, the chips kept for display)
 * → classify. The model runs through the shared micro-batcher, so faces of many concurrent jobs
 * share each batch. Idempotent: the output is keyed by image, detect and embed versions and
 * deterministic; a repeat after classify consumed the exact chips finds the image done.
 * S3 requests per image: 1 read, 2 writes.
 */
export class EmbedHandler {
  constructor(readonly deps: EmbedHandlerDeps) {}

  async handle(data: EmbedJobData, ctx?: Pick<StageContext, 'log'>): Promise<{ faces: number }> {
    const { store, engine, queues } = this.deps;
    const embedded = await this.#embed(data);
    if (embedded === 'consumed') {
      ctx?.log.info('embedded and classified already (a repeat of a finished job): nothing to do', { imageId: data.imageId });
      return { faces: data.faceCount };
    }
    await Promise.all([
      store.putJson(objectKeys.embeddings(data.imageId, data.detectVersion, engine.version.tag), embedded.doc, { intermediate: true }),
      store.put(objectKeys.chipsView(data.imageId, data.detectVersion), embedded.view, { contentType: 'image/webp' }),
    ]);
    await queues.afterEmbed(data, engine.version.tag, { chipsView: true });
    ctx?.log.debug('embedded', { faces: data.faceCount });
    return { faces: data.faceCount };
  }

  /**
   * The stored chips: raw RGB as the detect stage stores them; a job queued by a detect worker of
   * an earlier version finds them as a lossless WebP or a PNG. 'consumed' when only the display
   * rendition is left: classify deleted the exact chips after writing the result, so this job is a
   * repeat of one that finished.
   */
  async #chips(data: EmbedJobData): Promise<{ bytes: Buffer; format: 'rgb' | 'image' } | 'consumed'> {
    const { store } = this.deps;
    const key = objectKeys.chips(data.imageId, data.detectVersion);
    try {
      return { bytes: await store.getBytes(key), format: 'rgb' };
    } catch (err) {
      if (!(err instanceof FacepipeError && err.code === 'OBJECT_NOT_FOUND')) throw err;
      // Chips facepipe stored itself: their loss is the system's failure, not the photo's.
      const missing = storedObjectMissing(key, 'the aligned face chips', err);
      for (const earlier of [objectKeys.previousChipsWebp(data.imageId, data.detectVersion), objectKeys.legacyChipsPng(data.imageId, data.detectVersion)]) {
        const bytes = await store.getBytes(earlier).catch(() => undefined);
        if (bytes) return { bytes, format: 'image' };
      }
      if ((await store.head(objectKeys.chipsView(data.imageId, data.detectVersion))) !== undefined) return 'consumed';
      throw missing;
    }
  }

  async #embed(data: EmbedJobData): Promise<{ doc: EmbeddingsDocument; view: Uint8Array } | 'consumed'> {
    const { engine, batcher } = this.deps;
    const t0 = performance.now();
    const stored = await this.#chips(data);
    if (stored === 'consumed') return stored;
    const { chips, count } = await engine.decodeChips(stored.bytes, stored.format);
    if (count !== data.faceCount) {
      throw new FacepipeError('INVALID_PAYLOAD', `job says ${data.faceCount} faces, the stored chips hold ${count}`);
    }
    const t1 = performance.now();
    // The display rendition is encoded (libuv's pool) while the model runs.
    const [flat, view] = await Promise.all([batcher.submit(chips, count), engine.encodeChipsView(chips, count)]);
    const t2 = performance.now();
    const dims = flat.length / count;
    const embeddings = Array.from({ length: count }, (_, i) => Array.from(flat.subarray(i * dims, (i + 1) * dims)));
    return {
      doc: {
        schema: 'facepipe.embeddings/1',
        imageId: data.imageId,
        detectVersion: data.detectVersion,
        embed: engine.version,
        embeddings,
        timings: { fetchMs: Math.round(t1 - t0), embedMs: Math.round(t2 - t1) },
        embeddedAt: new Date().toISOString(),
      },
      view,
    };
  }
}
