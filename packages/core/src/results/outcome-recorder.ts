import type { BatchTracker } from '../batch/batch-tracker.js';
import type { FacepipeError } from '../errors/index.js';
import type { ImageJobData } from '../queue/job-payloads.js';
import type { StageName } from '../queue/queue-names.js';
import { objectKeys, type ObjectStore } from '../storage/index.js';
import type { ResultDocument } from './documents.js';

/** What one flush of stashed failures did. */
export interface StashFlushReport {
  written: number;
  /** Kept because a result written meanwhile (a successful re-run) must not be overwritten. */
  superseded: number;
  /** Still waiting (S3 still unavailable, or more than one flush takes). */
  remaining: number;
}

/**
 * Writes an image's final outcome — the result document in S3, then the batch counts in Redis —
 * in that order, so a batch never counts an image whose result is not readable yet. The one
 * exception is a failure while S3 is down: its document is stashed in Redis with the batch
 * counts (readable there by {@link OutcomeRecorder.failureOf}), and written to S3 by
 * {@link OutcomeRecorder.flushStashed} once S3 answers, so an outage never leaves an image
 * uncounted or its batch unfinished.
 */
export class OutcomeRecorder {
  constructor(
    readonly store: ObjectStore,
    readonly tracker: BatchTracker,
  ) {}

  async recordSuccess(result: ResultDocument): Promise<void> {
    await this.store.putJson(objectKeys.result(result.imageId), result);
    await this.tracker.completeImage(result.imageId, result.versions.pipeline, { kind: 'done', faces: result.faceCount });
  }

  /**
   * Records a final failure. A result from an earlier successful run is kept (a re-run that
   * fails, say, on an S3 outage must not erase good results); otherwise a failed result says
   * why, so "failed" never looks like "not processed". Needs only Redis: while S3 is down the
   * document waits in Redis.
   */
  async recordFailure(data: ImageJobData, error: FacepipeError, stage: StageName, jobId: string): Promise<{ stashed: boolean }> {
    const failed: ResultDocument = {
      schema: 'facepipe.result/1',
      imageId: data.imageId,
      status: 'failed',
      source: data.source,
      originalKey: data.originalKey,
      width: null,
      height: null,
      format: null,
      faceCount: 0,
      faces: [],
      error: { ...error.toRecord(), stage },
      versions: { pipeline: data.pipelineVersion, detect: null, embed: null, gallery: null },
      timings: { totalMs: Date.now() - data.enqueuedAt },
      processedAt: new Date().toISOString(),
    };
    let stashed = false;
    try {
      await this.#writeFailure(failed);
    } catch {
      // S3 unavailable (or refusing): Redis keeps the document until a flush writes it.
      await this.tracker.stashResult(data.imageId, failed);
      stashed = true;
    }
    await this.tracker.completeImage(data.imageId, data.pipelineVersion, { kind: 'failed', code: error.code, queue: stage, jobId });
    return { stashed };
  }

  /** The failure recorded for an image still waiting in Redis for S3, if any. */
  failureOf(imageId: string): Promise<ResultDocument | undefined> {
    return this.tracker.stashedResult<ResultDocument>(imageId);
  }

  /** Writes stashed failures to S3 (at most `limit`); stops at the first S3 error. */
  async flushStashed(limit = 500): Promise<StashFlushReport> {
    let written = 0;
    let superseded = 0;
    const pending = await this.tracker.stashedResults(limit);
    for (const { imageId, raw } of pending) {
      const doc = JSON.parse(raw) as ResultDocument;
      try {
        if (await this.#writeFailure(doc)) written += 1;
        else superseded += 1;
      } catch {
        break;
      }
      await this.tracker.dropStashedResult(imageId, raw);
    }
    return { written, superseded, remaining: await this.tracker.stashedCount() };
  }

  /** Writes a failed document unless a good result exists; throws when S3 cannot say. */
  async #writeFailure(failed: ResultDocument): Promise<boolean> {
    const key = objectKeys.result(failed.imageId);
    const existing = await this.store.getJson<ResultDocument>(key);
    if (existing && existing.status !== 'failed') return false;
    await this.store.putJson(key, failed);
    return true;
  }
}
