import type { Redis } from 'ioredis';
import { BatchManifestWriter } from '../batch/batch-manifest.js';
import type { BatchInfo, BatchPurpose, BatchTracker } from '../batch/batch-tracker.js';
import type { Logger } from '../logging/index.js';
import type { ClassifyJobData, DetectJobData } from '../queue/job-payloads.js';
import type { PipelineQueues } from '../queue/pipeline-queues.js';
import type { ManifestEntry, ResultDocument } from '../results/documents.js';
import { objectKeys, redisKeys } from '../storage/keys.js';
import type { ObjectStore } from '../storage/object-store.js';
import type { AdmissionGate } from './admission-gate.js';
import { whileStorageFull } from './storage-full-wait.js';

export interface BatchIntakeDeps {
  store: ObjectStore;
  tracker: BatchTracker;
  queues: Pick<PipelineQueues, 'addDetectBulk' | 'reclassify' | 'clearFinishedJobs'>;
  /** The Redis of the tracker (manifest part numbers, intake leases). */
  redis: Pick<Redis, 'incr' | 'set' | 'del' | 'exists' | 'pexpire'>;
  prefix: string;
  log: Logger;
  /** The pipeline version results must have to count as current. */
  pipelineVersion: string;
  /** Whole-pipeline backpressure: every job enters through it. */
  gate: AdmissionGate;
  /**
   * How long admission waits, retrying, while a store is out of space (STORAGE_FULL) before the
   * ingest stops with that error. @defaultValue 900000 (the retry window)
   */
  storageFullWaitMs?: number;
}

/** What a claim decided for one batch item. */
export type IntakeClaim =
  /** A current result exists: the item is counted done (from cache) already. */
  | { kind: 'cached'; faces: number }
  /** The same bytes are in flight (for this or another batch): the item completes with them. */
  | { kind: 'attached' }
  /** The image needs work: store its original unless `haveOriginal`, then queue it. */
  | { kind: 'new'; haveOriginal: boolean };

export interface ClaimOptions {
  /** Re-process even when a current result exists. @defaultValue false */
  force?: boolean;
  /** The version to claim under. @defaultValue the intake's pipeline version */
  pipelineVersion?: string;
  /**
   * Look at the image's result document in S3 when Redis no longer remembers it (a repeat after
   * FACEPIPE_REMEMBER_DONE_S): current ones answer from cache. @defaultValue true
   */
  checkResult?: boolean;
  /**
   * Free the image's deterministic job ids (remove its finished jobs) before a forced or
   * failed-before run. Off for runs under job ids of their own (re-classification). @defaultValue true
   */
  clearFinished?: boolean;
}

/**
 * The one way images enter facepipe, whatever brings them (a folder, an S3 prefix, the upload
 * API, a re-index): create the batch, add items and their manifest lines (one numbering scheme:
 * parts numbered through Redis), claim each image (cached / attached / new), queue through the
 * {@link AdmissionGate} (one backpressure rule over every stage), finish.
 */
export class BatchIntake {
  constructor(readonly deps: BatchIntakeDeps) {}

  /**
   * Creates a batch (Redis counts, then batch.json in S3) and returns it for adding items. With
   * `awaitDocument: false` the batch.json write goes on while items are added: await
   * {@link IntakeBatch.documentWritten} before answering (the upload API saves a round trip).
   */
  async create(batchId: string, purpose: BatchPurpose, source: string, options: { awaitDocument?: boolean } = {}): Promise<IntakeBatch> {
    const { tracker, store } = this.deps;
    await tracker.createBatch(batchId, purpose, source);
    const doc = { id: batchId, purpose, source, createdAt: new Date().toISOString() };
    const written = this.whileStorageFull('store the batch document', () => store.putJson(objectKeys.batch(batchId), doc));
    written.catch(() => undefined); // seen by whoever awaits documentWritten
    const batch = new IntakeBatch(this.deps, batchId, written);
    if (options.awaitDocument !== false) await written;
    return batch;
  }

  /** Runs a write of admission, waiting (admission paused) while a store is full. */
  whileStorageFull(what: string, write: () => Promise<unknown>): Promise<void> {
    return whileStorageFull(this.deps.log, what, write, this.deps.storageFullWaitMs);
  }

  /** Whether a process is admitting into the batch now (it holds the batch's intake lease). */
  async admitting(batchId: string): Promise<boolean> {
    return (await this.deps.redis.exists(redisKeys(this.deps.prefix).intakeLease(batchId))) === 1;
  }

  /**
   * Batches whose admission was cut short: not every input listed (`ingested` false) and no
   * process admitting now; upload batches (open until closed on purpose) are not among them.
   */
  async cutShort(batches: readonly BatchInfo[]): Promise<BatchInfo[]> {
    const candidates = batches.filter((b) => !b.ingested && b.source !== 'upload');
    const live = await Promise.all(candidates.map((b) => this.admitting(b.id)));
    return candidates.filter((_, i) => !live[i]);
  }

  /** An existing batch, to add more items to (an open upload batch, a resumed ingest). */
  batch(batchId: string): IntakeBatch {
    return new IntakeBatch(this.deps, batchId);
  }
}

/** Items being added to one batch. Not shared between processes; one per ingest or request. */
export class IntakeBatch {
  readonly manifest: BatchManifestWriter;
  #pending: DetectJobData[] = [];

  constructor(
    readonly deps: BatchIntakeDeps,
    readonly batchId: string,
    /** The write of batch.json when this batch was created here. @defaultValue resolved */
    readonly documentWritten: Promise<void> = Promise.resolve(),
  ) {
    const key = redisKeys(deps.prefix).manifestParts(batchId);
    this.manifest = new BatchManifestWriter(
      deps.store,
      batchId,
      undefined,
      async () => (await deps.redis.incr(key)) - 1,
      (what, write) => whileStorageFull(deps.log, what, write, deps.storageFullWaitMs),
    );
  }

  /** Counts one more item (once no data dir is full: a full disk pauses intake here); returns its index. */
  async addItem(): Promise<number> {
    await this.deps.gate.untilDiskHasRoom();
    return this.deps.tracker.addItem(this.batchId);
  }

  /** Counts one more item of an open (upload) batch: undefined when it is closed or gone. */
  addOpenItem(): Promise<number | undefined> {
    return this.deps.tracker.addOpenItem(this.batchId);
  }

  /** Adds an item's manifest line (lines go out in parts of 10,000, numbered through Redis). */
  record(entry: ManifestEntry): Promise<void> {
    return this.manifest.add(entry);
  }

  /**
   * Registers item `index` as waiting for `imageId` and decides what it needs: nothing (cached,
   * counted now; attached, counted when the image in flight completes) or a run (new: finished
   * jobs of a failed or forced earlier run are cleared so the deterministic job ids are free).
   */
  async claim(imageId: string, index: number, options: ClaimOptions = {}): Promise<IntakeClaim> {
    const { tracker, store, queues } = this.deps;
    const version = options.pipelineVersion ?? this.deps.pipelineVersion;
    const force = options.force ?? false;
    const claim = await tracker.claimImage(imageId, version, this.batchId, index, force);
    if (claim.kind === 'done') {
      await tracker.markItem(this.batchId, index, { kind: 'done', faces: claim.faces, cached: true });
      return { kind: 'cached', faces: claim.faces };
    }
    if (claim.kind === 'attached') return { kind: 'attached' };
    // A finished result of any version means the original is stored already; without one, the
    // caller uploads it (overwriting identical bytes is harmless), so a new image costs no extra
    // lookup. After a failed result the original is looked for: the failure may have been its loss.
    let haveOriginal = false;
    let failedBefore = false;
    const originalKey = objectKeys.original(imageId);
    if (!force && options.checkResult !== false) {
      const result = await store.getJson<ResultDocument>(objectKeys.result(imageId));
      if (result?.status === 'done' && result.versions.pipeline === version) {
        await tracker.markItem(this.batchId, index, { kind: 'done', faces: result.faceCount, cached: true });
        await tracker.completeImage(imageId, version, { kind: 'done', faces: result.faceCount });
        return { kind: 'cached', faces: result.faceCount };
      }
      failedBefore = result?.status === 'failed';
      haveOriginal = result?.status === 'done' && result.originalKey === originalKey;
      if (failedBefore) haveOriginal = (await store.head(originalKey)) !== undefined;
    } else if (force && options.checkResult !== false) {
      haveOriginal = (await store.head(originalKey)) !== undefined;
    }
    // A failed job keeps its deterministic id: without removing it, adding the job again would be
    // a no-op and the item would answer with the old failure.
    if ((claim.failedJobId || failedBefore || force) && options.clearFinished !== false) await queues.clearFinishedJobs(imageId, version);
    return { kind: 'new', haveOriginal };
  }

  /** Queues a detect job, in bulks of `bulkSize` (one round trip each) through the gate. */
  async enqueueDetect(job: Omit<DetectJobData, 'batchId' | 'enqueuedAt' | 'pipelineVersion'> & { pipelineVersion?: string }, bulkSize = 50): Promise<void> {
    this.#pending.push({ ...job, batchId: this.batchId, enqueuedAt: Date.now(), pipelineVersion: job.pipelineVersion ?? this.deps.pipelineVersion });
    if (this.#pending.length >= Math.min(bulkSize, this.deps.gate.bounds.detect)) await this.flushJobs();
  }

  /** Queues the detect jobs gathered so far. */
  flushJobs(): Promise<void> {
    const jobs = this.#pending;
    this.#pending = [];
    if (jobs.length === 0) return Promise.resolve();
    return this.deps.gate.admit('detect', jobs.length, () => whileStorageFull(this.deps.log, 'queue detect jobs', () => this.deps.queues.addDetectBulk(jobs), this.deps.storageFullWaitMs));
  }

  /** Queues a classify run of an embedded image again (re-index), through the gate. */
  reclassify(data: Omit<ClassifyJobData, 'batchId' | 'enqueuedAt'>): Promise<void> {
    return this.deps.gate.admit('classify', 1, () => this.deps.queues.reclassify({ ...data, batchId: this.batchId, enqueuedAt: Date.now() }, this.batchId));
  }

  /** Queues what is pending and writes the manifest's last part (an open batch stays open). */
  async flush(): Promise<void> {
    await this.flushJobs();
    await this.manifest.flush();
  }

  /** Everything admitted: queues the rest, writes the manifest, and records the batch's total. */
  async finish(total: number): Promise<void> {
    await this.flush();
    await this.deps.tracker.finishIngest(this.batchId, total);
  }

  /**
   * Holds the batch's intake lease while `work` runs (renewed every third of `ttlMs`), so no
   * other run resumes a batch that is still being admitted; a killed process's lease expires.
   */
  async leased<T>(work: () => Promise<T>, ttlMs = 15_000): Promise<T> {
    const key = redisKeys(this.deps.prefix).intakeLease(this.batchId);
    await this.deps.redis.set(key, String(process.pid), 'PX', ttlMs);
    const renew = setInterval(() => void this.deps.redis.pexpire(key, ttlMs).catch(() => undefined), Math.floor(ttlMs / 3));
    try {
      return await work();
    } finally {
      clearInterval(renew);
      await this.deps.redis.del(key).catch(() => undefined);
    }
  }

  /** Closes an open (upload) batch at the items it has. */
  async close(): Promise<void> {
    await this.flush();
    await this.deps.tracker.closeBatch(this.batchId);
  }
}
