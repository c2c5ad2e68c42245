import {
  BatchManifestWriter,
  newBatchId,
  objectKeys,
  type Logger,
  type ObjectStore,
  type BatchTracker,
  type PipelineQueues,
  type ResultDocument,
} from '@facepipe/core';
import type { Queue } from 'bullmq';

/**
 * What a re-index does:
 * - `classify`: names every embedded face again against the current gallery (after enrolling
 *   people, or changing the tolerance or classifier); detection and embeddings are reused.
 * - `stale`: processes again every image whose result was made under another pipeline version
 *   (a new detector or embedding model, changed detection settings); originals are reused.
 */
export type ReindexKind = 'classify' | 'stale';

export interface ReindexDeps {
  store: ObjectStore;
  tracker: BatchTracker;
  queues: Pick<PipelineQueues, 'addDetect' | 'reclassify' | 'detect' | 'classify'>;
  log: Logger;
  /** The pipeline version current results must have. */
  pipelineVersion: string;
  /** Bound on waiting jobs in the queue being filled (Redis memory). */
  maxQueued: number;
}

/**
 * Re-index jobs as batches: streams the stored results a page at a time, queues the work each
 * needs, and records it as a batch (progress, counts, JSONL export) like any ingest. Run it by
 * hand or on a schedule (`facepipe reindex … ` from cron or a Kubernetes CronJob).
 */
export class Reindexer {
  constructor(readonly deps: ReindexDeps) {}

  async run(kind: ReindexKind, options: { onItem?: (count: number) => void } = {}): Promise<{ batchId: string; total: number; scanned: number }> {
    const { store, tracker, queues, log, pipelineVersion } = this.deps;
    const batchId = newBatchId();
    await tracker.createBatch(batchId, 'reindex', `reindex ${kind}`);
    await store.putJson(objectKeys.batch(batchId), { id: batchId, purpose: 'reindex', source: `reindex ${kind}`, createdAt: new Date().toISOString() });
    const manifest = new BatchManifestWriter(store, batchId);
    let total = 0;
    let scanned = 0;
    for await (const object of store.list(objectKeys.resultsPrefix)) {
      scanned += 1;
      const result = await store.getJson<ResultDocument>(object.key);
      if (!result || result.status !== 'done') continue;
      const detect = result.versions.detect;
      const embed = result.versions.embed;
      if (kind === 'classify') {
        if (result.faceCount === 0 || !detect || !embed) continue;
      } else if (result.versions.pipeline === pipelineVersion) continue;
      const index = await tracker.addItem(batchId);
      await manifest.add({ index, source: result.source, imageId: result.imageId });
      total += 1;
      const now = Date.now();
      const base = { imageId: result.imageId, originalKey: result.originalKey, source: result.source, batchId, enqueuedAt: now };
      if (kind === 'classify') {
        // Force past "done": the image is current, but its names are what we want again.
        const claim = await tracker.claimImage(result.imageId, result.versions.pipeline, batchId, index, true);
        if (claim.kind !== 'enqueue') continue;
        await this.#waitForRoom(queues.classify);
        await queues.reclassify(
          { ...base, pipelineVersion: result.versions.pipeline, detectVersion: detect!.tag, embedVersion: embed!.tag, faceCount: result.faceCount },
          batchId,
        );
      } else {
        const claim = await tracker.claimImage(result.imageId, pipelineVersion, batchId, index);
        if (claim.kind === 'done') await tracker.markItem(batchId, index, { kind: 'done', faces: 0, cached: true });
        if (claim.kind !== 'enqueue') continue;
        await this.#waitForRoom(queues.detect);
        await queues.addDetect({ ...base, pipelineVersion });
      }
      options.onItem?.(total);
    }
    await manifest.flush();
    await tracker.finishIngest(batchId, total);
    log.info('re-index queued', { batchId, kind, total, scanned });
    return { batchId, total, scanned };
  }

  async #waitForRoom(queue: Queue): Promise<void> {
    let delay = 20;
    while ((await queue.getWaitingCount()) >= this.deps.maxQueued) {
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 500);
    }
  }
}
