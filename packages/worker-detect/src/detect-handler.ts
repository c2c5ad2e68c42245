import {
  getStoredBytes,
  FacepipeError,
  type DetectEngine,
  objectKeys,
  type DetectJobData,
  type FacesDocument,
  type ObjectStore,
  type PipelineQueues,
  type StageContext,
} from '@facepipe/core';

export interface DetectHandlerDeps {
  store: ObjectStore;
  engine: DetectEngine;
  queues: Pick<PipelineQueues, 'afterDetect'>;
  /** Largest original accepted, in bytes. */
  maxBytes: number;
}

/**
 * The detect stage: original → faces.json + chips.rgb → next stage. Idempotent: its outputs
 * are deterministic and keyed by image and detect version, so a retry or repeat overwrites them
 * with the same bytes. S3 requests per image: 1 read, at most 2 writes.
 */
export class DetectHandler {
  constructor(readonly deps: DetectHandlerDeps) {}

  async handle(data: DetectJobData, ctx?: Pick<StageContext, 'log'>): Promise<{ faces: number }> {
    const doc = await this.#analyze(data);
    await this.deps.queues.afterDetect(data, this.deps.engine.version.tag, doc.faces.length);
    ctx?.log.debug('detected', { faces: doc.faces.length });
    return { faces: doc.faces.length };
  }

  async #analyze(data: DetectJobData): Promise<FacesDocument> {
    const { store, engine, maxBytes } = this.deps;
    const version = engine.version;
    const t0 = performance.now();
    // The producer enforces the byte limit at ingest; this guards originals put there by others.
    const bytes = await getStoredBytes(store, data.originalKey, 'the original');
    if (bytes.length > maxBytes) throw new FacepipeError('FILE_TOO_LARGE', `${bytes.length} bytes is over the limit of ${maxBytes}`);
    const fetchMs = performance.now() - t0;
    const analysis = await engine.analyze(bytes);
    const t1 = performance.now();
    const chipsKey = analysis.chipsRgb ? objectKeys.chips(data.imageId, version.tag) : null;
    if (chipsKey && analysis.chipsRgb) await store.put(chipsKey, analysis.chipsRgb, { contentType: 'application/octet-stream', intermediate: true });
    const doc: FacesDocument = {
      schema: 'facepipe.faces/1',
      imageId: data.imageId,
      width: analysis.width,
      height: analysis.height,
      format: analysis.format,
      orientation: analysis.orientation,
      detect: version,
      faces: analysis.faces,
      chipsKey,
      timings: { fetchMs: round(fetchMs), ...roundAll(analysis.timings), storeMs: 0 },
      ...(analysis.rejected ? { rejected: analysis.rejected } : {}),
      ...(analysis.passes ? { passes: analysis.passes } : {}),
      detectedAt: new Date().toISOString(),
    };
    doc.timings.storeMs = round(performance.now() - t1);
    await store.putJson(objectKeys.faces(data.imageId, version.tag), doc, { intermediate: true });
    return doc;
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
function roundAll<T extends Record<string, number>>(timings: T): T {
  return Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, round(v)])) as T;
}
