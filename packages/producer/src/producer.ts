import { QueueEvents } from 'bullmq';
import {
  closeRedis,
  createRedisConnection,
  newBatchId,
  objectKeys,
  S3ObjectStore,
  ServiceContext,
  type BatchInfo,
  type BatchPurpose,
  type EnrollmentReport,
  type FacepipeConfig,
} from '@facepipe/core';
import { configuredVersions, probeImage } from '@facepipe/vision';
import { Ingestor, type AdmitOutcome } from './ingest/ingestor.js';
import type { FaceIndex } from '@facepipe/face-index';
import { Reindexer } from './reindex/reindexer.js';
import { Eraser } from './erasure/eraser.js';
import { LocalFolderSource, parseS3Url, s3PrefixItems, type IngestItem } from './ingest/sources.js';
import type { InputSkipReason } from '@facepipe/core';

export interface IngestRequest {
  /** A local folder or file, or `s3://bucket/prefix`. */
  input: string;
  purpose?: BatchPurpose;
  /** Enrollment from a folder: one subfolder per person. */
  personFromFolder?: boolean;
  /** Take every file of a folder, not only image file names. */
  allFiles?: boolean;
  force?: boolean;
  concurrency?: number;
  onItem?: (count: number, outcome: AdmitOutcome) => void;
  /** Called with the batch id as soon as the batch exists (before inputs are queued). */
  onBatch?: (batchId: string) => void;
}

/** How {@link Producer.waitForBatch} follows a batch. */
export interface WaitOptions {
  /** Poll interval. @defaultValue 200 */
  pollMs?: number;
  /**
   * How long Redis may stay unreachable before the wait gives up (it reconnects and carries on
   * meanwhile, so a Redis restart does not end it). @defaultValue 300000
   */
  outageMs?: number;
  /** Told when the connection is lost (with the error) and when it is back (undefined). */
  onConnection?: (lost: Error | undefined) => void;
}

/** What {@link Producer.ingest} did. */
export interface IngestResult {
  batchId: string;
  /** Items in the batch: each gets a result. */
  total: number;
  /** Folder entries skipped on purpose (not inputs), reported rather than silent. */
  skipped: number;
  /** {@link skipped} per reason (only reasons that occurred). */
  skippedBy: Partial<Record<InputSkipReason, number>>;
}

/**
 * The producer side of a deployment: ingest folders, S3 prefixes and uploads as batches; follow
 * batches; run enrollment. Talks to the same Redis and S3 as the workers, never to the workers.
 */
export class Producer {
  readonly ctx: ServiceContext;
  readonly ingestor: Ingestor;
  readonly pipelineVersion: string;
  #closing: Promise<void> | undefined;

  private constructor(ctx: ServiceContext, pipelineVersion: string) {
    this.ctx = ctx;
    this.pipelineVersion = pipelineVersion;
    const { maxPixels, maxBytes } = ctx.config.detect;
    this.ingestor = new Ingestor({
      store: ctx.store,
      tracker: ctx.tracker,
      queues: ctx.queues,
      log: ctx.log,
      pipelineVersion,
      probe: (bytes) => probeImage(bytes, { maxPixels, maxBytes }),
      maxBytes,
      maxQueued: ctx.config.queues.maxQueued,
    });
  }

  /** Connects to Redis and S3 (failing fast with the reason) and reads the model versions. */
  static async connect(config: FacepipeConfig, service = 'producer'): Promise<Producer> {
    const ctx = new ServiceContext(config, service, 'client');
    try {
      const ready = await ctx.checkReady();
      if (!ready.redis) throw new Error(`cannot reach Redis: ${ready.errors.join('; ')}`);
      await ctx.store.ensureBucket();
      const versions = await configuredVersions(config);
      return new Producer(ctx, versions.pipeline);
    } catch (err) {
      await ctx.close();
      throw err;
    }
  }

  /**
   * Ingests a folder or S3 prefix as a new batch; resolves when every input is admitted. `skipped`
   * counts the folder entries that were not inputs (hidden, OS clutter, other names, links to
   * folders), per reason in `skippedBy`; every other entry is one of the `total` items.
   */
  async ingest(request: IngestRequest): Promise<IngestResult> {
    const batchId = newBatchId();
    const items = await this.#items(request);
    const skips = items instanceof LocalFolderSource ? items.skips : undefined;
    const result = await this.ingestor.ingest(items, {
      batchId,
      purpose: request.purpose ?? 'ingest',
      sourceLabel: request.input,
      force: request.force,
      concurrency: request.concurrency,
      onItem: request.onItem,
      onBatch: request.onBatch,
    });
    return { ...result, skipped: skips?.total ?? 0, skippedBy: skips?.nonZero() ?? {} };
  }

  /** Ingests any item stream as a batch (enrollment by name, tests). */
  ingestItems(items: AsyncIterable<IngestItem>, options: { purpose: BatchPurpose; sourceLabel: string; force?: boolean; onItem?: IngestRequest['onItem']; onBatch?: IngestRequest['onBatch'] }) {
    return this.ingestor.ingest(items, { batchId: newBatchId(), ...options });
  }

  async #items(request: IngestRequest): Promise<AsyncIterable<IngestItem>> {
    const s3 = parseS3Url(request.input);
    if (!s3) return LocalFolderSource.open(request.input, { personFromFolder: request.personFromFolder, allFiles: request.allFiles });
    const c = this.ctx.config.s3;
    const source = S3ObjectStore.fromConfig(c, s3.bucket);
    return s3PrefixItems(source, s3.prefix);
  }

  /** Erasure of images and people on this deployment (see {@link Eraser}); people need the face index. */
  eraser(index?: FaceIndex): Eraser {
    return new Eraser({ store: this.ctx.store, redis: this.ctx.redis, prefix: this.ctx.config.redis.prefix, queues: this.ctx.queues, index, log: this.ctx.log });
  }

  /** Re-index jobs against this deployment (see {@link Reindexer}). */
  reindexer(index?: FaceIndex): Reindexer {
    return new Reindexer({
      index,
      store: this.ctx.store,
      tracker: this.ctx.tracker,
      queues: this.ctx.queues,
      log: this.ctx.log,
      pipelineVersion: this.pipelineVersion,
      maxQueued: this.ctx.config.queues.maxQueued,
    });
  }

  getBatch(batchId: string): Promise<BatchInfo | undefined> {
    return this.ctx.tracker.getBatch(batchId);
  }

  /**
   * Polls until every item of the batch is done or failed. Rides out Redis restarts: while Redis
   * is unreachable it keeps retrying (telling `onConnection`) for up to `outageMs`.
   */
  async waitForBatch(batchId: string, onProgress?: (batch: BatchInfo) => void, pollOrOptions: number | WaitOptions = 200): Promise<BatchInfo> {
    const options: WaitOptions = typeof pollOrOptions === 'number' ? { pollMs: pollOrOptions } : pollOrOptions;
    const pollMs = options.pollMs ?? 200;
    const outageMs = options.outageMs ?? 300_000;
    let lostSince: number | undefined;
    for (;;) {
      let batch: BatchInfo | undefined;
      try {
        batch = await this.getBatch(batchId);
      } catch (err) {
        const now = Date.now();
        if (lostSince === undefined) {
          lostSince = now;
          options.onConnection?.(err as Error);
        }
        if (now - lostSince > outageMs) throw err;
        await new Promise((r) => setTimeout(r, Math.max(pollMs, 500)));
        continue;
      }
      if (lostSince !== undefined) {
        lostSince = undefined;
        options.onConnection?.(undefined);
      }
      if (!batch) throw new Error(`batch ${batchId} does not exist`);
      onProgress?.(batch);
      if (batch.finishedAt !== undefined) return batch;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  /**
   * After an enrollment batch finished: queues the gallery build and waits for it (a classify
   * worker runs it), then returns the report of what was enrolled or rejected.
   */
  async completeEnrollment(batchId: string, timeoutMs = 600_000): Promise<EnrollmentReport> {
    // QueueEvents blocks on a stream read: it needs a connection of its own that never gives up.
    const connection = createRedisConnection(this.ctx.config.redis.url, 'worker');
    connection.on('error', () => undefined);
    const events = new QueueEvents(this.ctx.queues.gallery.name, { connection, prefix: this.ctx.config.redis.prefix });
    try {
      await events.waitUntilReady();
      const jobId = await this.ctx.queues.addGalleryBuild({ kind: 'enroll', batchId });
      const job = await this.ctx.queues.gallery.getJob(jobId);
      if (!job) throw new Error(`gallery job ${jobId} vanished`);
      await job.waitUntilFinished(events, timeoutMs);
    } finally {
      await events.close();
      await closeRedis(connection);
    }
    const report = await this.ctx.store.getJson<EnrollmentReport>(objectKeys.enrollReport(batchId));
    if (!report) throw new Error(`enrollment report for ${batchId} is missing`);
    return report;
  }

  close(): Promise<void> {
    this.#closing ??= this.ctx.close();
    return this.#closing;
  }
}
