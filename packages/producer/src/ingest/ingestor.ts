import { createHash } from 'node:crypto';
import {
  BatchManifestWriter,
  FacepipeError,
  objectKeys,
  type BatchPurpose,
  type BatchTracker,
  type DetectJobData,
  type Logger,
  type ManifestEntry,
  type ObjectStore,
  type PipelineQueues,
  type ResultDocument,
} from '@facepipe/core';
import type { IngestItem } from './sources.js';

/** What happened to one input at ingest. */
export type AdmitOutcome =
  | { kind: 'queued'; imageId: string }
  /** The same bytes are in flight for another batch; this item completes with them. */
  | { kind: 'attached'; imageId: string }
  /** A current result already exists (same bytes, same model versions): nothing to do. */
  | { kind: 'cached'; imageId: string; faces: number }
  | { kind: 'rejected'; imageId: string | null; error: FacepipeError };

export interface IngestorDeps {
  store: ObjectStore;
  tracker: BatchTracker;
  queues: Pick<PipelineQueues, 'addDetectBulk' | 'clearFinishedJobs' | 'detect'>;
  log: Logger;
  /** The pipeline version results must have to count as current. */
  pipelineVersion: string;
  /** Reads an image header: format and size, or a typed error (NOT_AN_IMAGE, IMAGE_TOO_LARGE…). */
  probe: (bytes: Uint8Array) => Promise<unknown>;
  maxBytes: number;
  /** Hold back while the detect queue has this many waiting jobs (Redis memory on huge imports). */
  maxQueued: number;
}

export interface IngestOptions {
  batchId: string;
  purpose: BatchPurpose;
  /** Describes the batch's input (a folder, an s3:// URL). */
  sourceLabel: string;
  /** Inputs read and hashed at once. @defaultValue 8 */
  concurrency?: number;
  /** Re-process even when a current result exists. @defaultValue false */
  force?: boolean;
  /** Called after each input with the running count. */
  onItem?: (count: number, outcome: AdmitOutcome) => void;
  /** Detect jobs added per Redis round trip. @defaultValue 50 */
  bulkSize?: number;
  /** Called once the batch exists (after the first input was read), before anything waits. */
  onBatch?: (batchId: string) => void;
}

/**
 * The producer: stores each input under its content hash, then queues only what needs work. It
 * streams its inputs with bounded concurrency, writes the batch manifest as it goes, and holds
 * back while the detect queue is deeper than `maxQueued`, so a million-photo import uses bounded
 * memory here and in Redis.
 */
export class Ingestor {
  #pendingJobs: DetectJobData[] = [];
  /**
   * Flushes run one after another: with eight lanes, two could otherwise both see room for
   * their jobs before either added them, and the queue would overshoot its bound.
   */
  #flushing: Promise<void> = Promise.resolve();

  constructor(readonly deps: IngestorDeps) {}

  /** Ingests a stream of inputs as one batch; resolves when every input has been admitted. */
  async ingest(items: AsyncIterable<IngestItem>, options: IngestOptions): Promise<{ batchId: string; total: number }> {
    const { tracker, store } = this.deps;
    const iterator = items[Symbol.asyncIterator]();
    // The first input is read before the batch exists: a source that cannot be read at all (a
    // missing folder, a refused listing) fails here and leaves no open, empty batch behind.
    let first: IteratorResult<IngestItem> | undefined = await iterator.next();
    await tracker.createBatch(options.batchId, options.purpose, options.sourceLabel);
    options.onBatch?.(options.batchId);
    await store.putJson(objectKeys.batch(options.batchId), {
      id: options.batchId,
      purpose: options.purpose,
      source: options.sourceLabel,
      createdAt: new Date().toISOString(),
    });
    const manifest = new BatchManifestWriter(store, options.batchId);
    const done = new Map<number, ManifestEntry>();
    let nextToWrite = 0;
    let nextIndex = 0;
    let admitted = 0;
    let exhausted = false;
    const take = async (): Promise<{ item: IngestItem; index: number } | undefined> => {
      if (exhausted) return undefined;
      const next = first ?? (await iterator.next());
      first = undefined;
      if (next.done) {
        exhausted = true;
        return undefined;
      }
      return { item: next.value, index: nextIndex++ };
    };
    const lane = async () => {
      for (let got = await take(); got; got = await take()) {
        const { item, index } = got;
        await tracker.addItem(options.batchId);
        const outcome = await this.admit(item, options.batchId, index, options);
        done.set(index, {
          index,
          source: item.source,
          imageId: outcome.imageId,
          ...(item.person ? { person: item.person } : {}),
          ...(outcome.kind === 'rejected' ? { error: outcome.error.toRecord() } : {}),
        });
        // Manifest lines go out in index order, whatever order the lanes finish in. Each entry is
        // taken and the cursor moved before awaiting, so two lanes never write the same entry
        // (nor skip the next one).
        while (done.has(nextToWrite)) {
          const entry = done.get(nextToWrite)!;
          done.delete(nextToWrite);
          nextToWrite += 1;
          await manifest.add(entry);
        }
        admitted += 1;
        options.onItem?.(admitted, outcome);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 8 }, lane));
    await this.#flushJobs();
    await manifest.flush();
    await tracker.finishIngest(options.batchId, nextIndex);
    this.deps.log.info('batch ingested', { batchId: options.batchId, total: nextIndex });
    return { batchId: options.batchId, total: nextIndex };
  }

  /**
   * Admits one input into batch item `index`: hash, validate the header, store the original
   * (once per content), and queue it unless a current result exists or the same bytes are
   * already in flight. Bad input is rejected here with its typed reason and counted as failed.
   */
  async admit(item: IngestItem, batchId: string, index: number, options: Pick<IngestOptions, 'force' | 'bulkSize'> = {}): Promise<AdmitOutcome> {
    const { tracker, store, pipelineVersion } = this.deps;
    let imageId: string | null = null;
    try {
      const bytes = await item.read(this.deps.maxBytes);
      imageId = createHash('sha256').update(bytes).digest('hex');
      await this.deps.probe(bytes);
      const claim = await tracker.claimImage(imageId, pipelineVersion, batchId, index, options.force);
      if (claim.kind === 'done') {
        await tracker.markItem(batchId, index, { kind: 'done', faces: claim.faces, cached: true });
        return { kind: 'cached', imageId, faces: claim.faces };
      }
      if (claim.kind === 'attached') return { kind: 'attached', imageId };
      // A result of any version means the original is stored already; without one, upload it
      // (overwriting identical bytes is harmless), so a new image costs no extra lookup.
      let haveOriginal: boolean;
      const originalKey = objectKeys.original(imageId);
      if (!options.force) {
        const result = await store.getJson<ResultDocument>(objectKeys.result(imageId));
        if (result?.status === 'done' && result.versions.pipeline === pipelineVersion) {
          await tracker.markItem(batchId, index, { kind: 'done', faces: result.faceCount, cached: true });
          await tracker.completeImage(imageId, pipelineVersion, { kind: 'done', faces: result.faceCount });
          return { kind: 'cached', imageId, faces: result.faceCount };
        }
        haveOriginal = result !== undefined && result.originalKey === originalKey;
      } else {
        haveOriginal = (await store.head(originalKey)) !== undefined;
      }
      if (claim.failedJobId || options.force) await this.deps.queues.clearFinishedJobs(imageId, pipelineVersion);
      if (!haveOriginal) {
        if (item.s3) await store.copyFrom(item.s3.bucket, item.s3.key, originalKey);
        else await store.put(originalKey, bytes, { contentLength: bytes.length });
      }
      this.#pendingJobs.push({ imageId, originalKey, source: item.source, batchId, enqueuedAt: Date.now(), pipelineVersion });
      if (this.#pendingJobs.length >= Math.min(options.bulkSize ?? 50, this.deps.maxQueued)) await this.#flushJobs();
      return { kind: 'queued', imageId };
    } catch (err) {
      const error = FacepipeError.from(err);
      if (error.retryable) throw error; // S3/Redis trouble: stop the ingest, it can be re-run safely.
      await tracker.markItem(batchId, index, { kind: 'failed', code: error.code });
      this.deps.log.info('input rejected', { batchId, source: item.source, code: error.code, err: error.message });
      return { kind: 'rejected', imageId, error };
    }
  }

  /** Queues gathered jobs in one round trip, after waiting for room in the detect queue. */
  #flushJobs(): Promise<void> {
    if (this.#pendingJobs.length === 0) return this.#flushing;
    const jobs = this.#pendingJobs;
    this.#pendingJobs = [];
    const flush = this.#flushing.then(async () => {
      await this.waitForRoom(jobs.length);
      await this.deps.queues.addDetectBulk(jobs);
    });
    // The next flush waits for this one, failed or not; this one's error goes to its caller.
    this.#flushing = flush.catch(() => undefined);
    return flush;
  }

  /**
   * Resolves once `n` more jobs fit in the detect queue without its waiting jobs exceeding
   * `maxQueued` (one job at a time always fits an empty queue).
   */
  async waitForRoom(n = 1): Promise<void> {
    let delay = 20;
    for (;;) {
      const waiting = await this.deps.queues.detect.getWaitingCount();
      if (waiting + n <= this.deps.maxQueued || waiting === 0) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 500);
    }
  }

  /** Queues whatever single admissions left pending (used by the HTTP upload path). */
  flush(): Promise<void> {
    return this.#flushJobs();
  }
}
