import {
  FacepipeError,
  newBatchId,
  objectKeys,
  readBatchManifest,
  type Logger,
  type ObjectStore,
  type BatchIntake,
  type ResultDocument,
} from '@facepipe/core';
import type { FaceIndex, IndexedImage } from '@facepipe/face-index';

/**
 * What a re-index does:
 * - `classify`: names every embedded face again against the current gallery and the index's
 *   examples (after enrolling people, or changing the tolerance or classifier); detection and
 *   embeddings are reused.
 * - `stale`: processes again every image whose result was made under another pipeline version
 *   (a new detector or embedding model, changed detection settings); originals are reused.
 * - `missing` (face index only): every accepted image (in a batch manifest) the index has no done
 *   result for: processed again when it has no result or failed for a reason that is not the
 *   input's; re-classified (so indexed) when its result is done but predates the index.
 */
export type ReindexKind = 'classify' | 'stale' | 'missing';

export interface ReindexDeps {
  store: ObjectStore;
  /** Creates the batch, claims and queues its images under the whole pipeline's backpressure. */
  intake: BatchIntake;
  log: Logger;
  /** The pipeline version current results must have. */
  pipelineVersion: string;
  /**
   * The face index: work is selected with queries on its version columns, a page at a time,
   * instead of listing and reading every result document in S3.
   */
  index?: FaceIndex;
  /** Images per page selected from the index. @defaultValue 1000 */
  pageSize?: number;
}

/** Codes of failures that are the system's, not the input's: a `missing` re-index retries these. */
const systemFailureCodes = new Set(['MODEL_ERROR', 'STORAGE_UNAVAILABLE', 'DATABASE_UNAVAILABLE', 'INTERNAL', 'OBJECT_NOT_FOUND', 'STORAGE_FULL', 'STORED_OBJECT_MISSING']);

/** One image to queue again, from the index or from a result document. */
interface ReindexItem {
  /** Name the faces again from stored embeddings, or process the original again. */
  action: 'classify' | 'detect';
  imageId: string;
  source: string;
  originalKey: string;
  pipelineVersion: string;
  detectVersion: string | null;
  embedVersion: string | null;
  faceCount: number;
}

/**
 * Re-index jobs as batches: selects the images that need work (from the face index in keyset
 * pages when there is one, else by listing the stored results), queues the work each needs, and
 * records it as a batch (progress, counts, JSONL export) like any ingest. Run it by hand or on a
 * schedule (`facepipe reindex … ` from cron or a Kubernetes CronJob).
 */
export class Reindexer {
  constructor(readonly deps: ReindexDeps) {}

  async run(kind: ReindexKind, options: { onItem?: (count: number) => void } = {}): Promise<{ batchId: string; total: number; scanned: number }> {
    const { log } = this.deps;
    if (kind === 'missing' && !this.deps.index) throw new FacepipeError('INVALID_PAYLOAD', 'reindex missing needs the face index (DATABASE_URL)');
    const batchId = newBatchId();
    const batch = await this.deps.intake.create(batchId, 'reindex', `reindex ${kind}`);
    let total = 0;
    let scanned = 0;
    const pages = kind === 'missing' ? this.#missingPages(batchId) : this.deps.index ? this.#indexPages(kind) : this.#resultPages(kind);
    for await (const page of pages) {
      scanned += page.scanned;
      for (const item of page.items) {
        const index = await batch.addItem();
        await batch.record({ index, source: item.source, imageId: item.imageId });
        total += 1;
        const base = { imageId: item.imageId, originalKey: item.originalKey, source: item.source };
        if (item.action === 'classify') {
          // Force past "done": the image is current, but its names are what we want again.
          const claim = await batch.claim(item.imageId, index, { pipelineVersion: item.pipelineVersion, force: true, checkResult: false, clearFinished: false });
          if (claim.kind !== 'new') continue;
          await batch.reclassify({ ...base, pipelineVersion: item.pipelineVersion, detectVersion: item.detectVersion!, embedVersion: item.embedVersion!, faceCount: item.faceCount });
        } else {
          // `missing`: forced, since Redis may still remember the image as done.
          const claim = await batch.claim(item.imageId, index, { force: kind === 'missing', checkResult: false });
          if (claim.kind !== 'new') continue;
          await batch.enqueueDetect(base, 1000);
        }
      }
      // One round trip per page.
      await batch.flushJobs();
      options.onItem?.(total);
    }
    await batch.finish(total);
    log.info('re-index queued', { batchId, kind, total, scanned, from: this.deps.index ? 'face index' : 'result listing' });
    return { batchId, total, scanned };
  }

  /** Pages of the images the index selects for `kind` (keyset paging on the image id). */
  async *#indexPages(kind: 'classify' | 'stale'): AsyncIterable<{ items: ReindexItem[]; scanned: number }> {
    const index = this.deps.index!;
    const size = this.deps.pageSize ?? 1000;
    await index.analyze(); // current statistics: each page is then one primary-key range scan
    let after = '';
    for (;;) {
      const rows = await index.repos.images.selectForReindex(kind, this.deps.pipelineVersion, after, size);
      if (rows.length === 0) return;
      after = rows[rows.length - 1]!.id;
      yield { items: rows.map((r) => fromIndexed(r, kind === 'classify' ? 'classify' : 'detect')), scanned: rows.length };
      if (rows.length < size) return;
    }
  }

  /**
   * Accepted images from every batch manifest, a page at a time; one index query per page keeps
   * those with a done result out, and only the rest have their result document looked at.
   */
  async *#missingPages(ownBatchId: string): AsyncIterable<{ items: ReindexItem[]; scanned: number }> {
    const { store } = this.deps;
    const index = this.deps.index!;
    const size = this.deps.pageSize ?? 1000;
    let page = new Map<string, string>();
    const flush = async (): Promise<{ items: ReindexItem[]; scanned: number }> => {
      const ids = [...page.keys()];
      const done = await index.repos.images.doneAmong(ids);
      const items: ReindexItem[] = [];
      for (const id of ids) {
        if (done.has(id)) continue;
        const result = await store.getJson<ResultDocument>(objectKeys.result(id));
        if (result?.status === 'failed' && result.error && !systemFailureCodes.has(result.error.code)) continue; // the input's fault: again would fail again
        const item: ReindexItem = { action: 'detect', imageId: id, source: page.get(id)!, originalKey: objectKeys.original(id), pipelineVersion: this.deps.pipelineVersion, detectVersion: null, embedVersion: null, faceCount: 0 };
        if (result?.status === 'done' && result.versions.detect && result.versions.embed) {
          items.push({ ...item, action: 'classify', originalKey: result.originalKey, pipelineVersion: result.versions.pipeline, detectVersion: result.versions.detect.tag, embedVersion: result.versions.embed.tag, faceCount: result.faceCount });
        } else items.push(result ? { ...item, originalKey: result.originalKey } : item);
      }
      const out = { items, scanned: ids.length };
      page = new Map();
      return out;
    };
    for await (const object of store.list('batches/')) {
      if (!object.key.endsWith('/batch.json')) continue;
      const batchId = object.key.slice('batches/'.length, -'/batch.json'.length);
      if (batchId === ownBatchId) continue;
      for await (const entry of readBatchManifest(store, batchId)) {
        if (entry.error || !entry.imageId) continue;
        page.set(entry.imageId, entry.source);
        if (page.size >= size) yield await flush();
      }
    }
    if (page.size > 0) yield await flush();
  }

  /** Without an index: every stored result, read one by one (one GET per image). */
  async *#resultPages(kind: ReindexKind): AsyncIterable<{ items: ReindexItem[]; scanned: number }> {
    const { store, pipelineVersion } = this.deps;
    for await (const object of store.list(objectKeys.resultsPrefix)) {
      const result = await store.getJson<ResultDocument>(object.key);
      if (!result || result.status !== 'done') {
        yield { items: [], scanned: 1 };
        continue;
      }
      const detect = result.versions.detect;
      const embed = result.versions.embed;
      const wanted = kind === 'classify' ? result.faceCount > 0 && detect !== null && embed !== null : result.versions.pipeline !== pipelineVersion;
      const item: ReindexItem = {
        action: kind === 'classify' ? 'classify' : 'detect',
        imageId: result.imageId,
        source: result.source,
        originalKey: result.originalKey,
        pipelineVersion: result.versions.pipeline,
        detectVersion: detect?.tag ?? null,
        embedVersion: embed?.tag ?? null,
        faceCount: result.faceCount,
      };
      yield { items: wanted ? [item] : [], scanned: 1 };
    }
  }
}

function fromIndexed(image: IndexedImage, action: ReindexItem['action']): ReindexItem {
  return {
    action,
    imageId: image.id,
    source: image.source,
    originalKey: image.originalKey,
    pipelineVersion: image.pipelineVersion,
    detectVersion: image.detectVersion,
    embedVersion: image.embedVersion,
    faceCount: image.faceCount,
  };
}
