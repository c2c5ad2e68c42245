import type { BatchTracker } from '../batch/batch-tracker.js';
import type { FacepipeError } from '../errors/index.js';
import type { ImageJobData } from '../queue/job-payloads.js';
import type { StageName } from '../queue/queue-names.js';
import { objectKeys, type ObjectStore } from '../storage/index.js';
import type { ResultDocument } from './documents.js';

/**
 * Writes an image's final outcome — the result document in S3, then the batch counts in Redis —
 * in that order, so a batch never counts an image whose result is not readable yet.
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
   * why, so "failed" never looks like "not processed".
   */
  async recordFailure(data: ImageJobData, error: FacepipeError, stage: StageName, jobId: string): Promise<void> {
    const key = objectKeys.result(data.imageId);
    const existing = await this.store.getJson<ResultDocument>(key).catch(() => undefined);
    if (!existing || existing.status === 'failed') {
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
      await this.store.putJson(key, failed);
    }
    await this.tracker.completeImage(data.imageId, data.pipelineVersion, { kind: 'failed', code: error.code, queue: stage, jobId });
  }
}
