import { QueueEvents } from 'bullmq';
import {
  BatchIntake,
  closeRedis,
  FacepipeError,
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
  /**
   * Continue a batch whose admission was cut short instead of starting one: its id, or `auto`
   * for the newest such batch of the same input (none: a new batch). Only what its manifest does
   * not list is admitted. @defaultValue undefined (always a new batch)
   */
  resume?: string;
  /** Told when an earlier batch is continued, before anything is admitted. */
  onResume?: (batch: BatchInfo) => void;
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
  /** When an earlier batch was continued: the inputs admitted now (the rest were admitted before). */
  resumed?: number;
}

/**
 * The producer side of a deployment: ingest folders, S3 prefixes and uploads as batches; follow
 * batches; run enrollment. Talks to the same Redis and S3 as the workers, never to the workers.
 */
export class Producer {
  readonly ctx: ServiceContext;
  readonly ingestor: Ingestor;
  /** The one way images enter: batches, manifests, claims and backpressure (ingest, uploads, re-index). */
  readonly intake: BatchIntake;
  readonly pipelineVersion: string;
  #closing: Promise<void> | undefined;

  private constructor(ctx: ServiceContext, pipelineVersion: string) {
    this.ctx = ctx;
    this.pipelineVersion = pipelineVersion;
    const { maxPixels, maxBytes } = ctx.config.detect;
    this.intake = new BatchIntake({
      store: ctx.store,
      tracker: ctx.tracker,
      queues: ctx.queues,
      redis: ctx.redis,
      prefix: ctx.config.redis.prefix,
      log: ctx.log,
      pipelineVersion,
      gate: ctx.gate,
    });
    this.ingestor = new Ingestor({
      intake: this.intake,
      store: ctx.store,
      log: ctx.log,
      probe: (bytes) => probeImage(bytes, { maxPixels, maxBytes }),
      maxBytes,
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
    const items = await this.#items(request);
    const skips = items instanceof LocalFolderSource ? items.skips : undefined;
    const earlier = await this.#batchToResume(request);
    if (earlier) {
      request.onResume?.(earlier);
      const result = await this.ingestor.resume(items, {
        batchId: earlier.id,
        purpose: earlier.purpose,
        sourceLabel: earlier.source,
        force: request.force,
        concurrency: request.concurrency,
        onItem: request.onItem,
        onBatch: request.onBatch,
      });
      return { batchId: result.batchId, total: result.total, resumed: result.resumed, skipped: skips?.total ?? 0, skippedBy: skips?.nonZero() ?? {} };
    }
    const batchId = newBatchId();
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
  ingestItems(items: AsyncIterable<IngestItem>, options: { purpose: BatchPurpose; sourceLabel: string; force?: boolean; concurrency?: number; onItem?: IngestRequest['onItem']; onBatch?: IngestRequest['onBatch'] }) {
    return this.ingestor.ingest(items, { batchId: newBatchId(), ...options });
  }

  /** The batch `request.resume` names (checked), or with `auto` the newest cut-short batch of the same input. */
  async #batchToResume(request: IngestRequest): Promise<BatchInfo | undefined> {
    if (request.resume === undefined) return undefined;
    const purpose = request.purpose ?? 'ingest';
    if (request.resume === 'auto') {
      if (request.force) return undefined;
      const recent = (await this.ctx.tracker.listBatches(200)).filter((b) => b.source === request.input && b.purpose === purpose);
      const newest = recent[0];
      return newest && (await this.intake.cutShort([newest])).length === 1 ? newest : undefined;
    }
    const batch = await this.getBatch(request.resume);
    if (!batch) throw new FacepipeError('INVALID_PAYLOAD', `--resume: there is no batch ${request.resume}`);
    if (batch.ingested) throw new FacepipeError('INVALID_PAYLOAD', `--resume: batch ${batch.id} was fully admitted already (facepipe status ${batch.id})`);
    if (batch.source !== request.input) throw new FacepipeError('INVALID_PAYLOAD', `--resume: batch ${batch.id} is of ${batch.source}, not ${request.input}`);
    if (await this.intake.admitting(batch.id)) throw new FacepipeError('INVALID_PAYLOAD', `--resume: batch ${batch.id} is being admitted by another process now`);
    return batch;
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
      intake: this.intake,
      store: this.ctx.store,
      log: this.ctx.log,
      pipelineVersion: this.pipelineVersion,
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
