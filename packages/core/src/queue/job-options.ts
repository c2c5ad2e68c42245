import type { JobsOptions } from 'bullmq';

/** The custom backoff every stage job uses (StageWorker supplies the strategy). */
export const retryBackoffType = 'facepipe-capped';

/** Retention and retry policy shared by every queue (stages, gallery builds, scheduled re-index). */
export interface JobPolicy {
  /**
   * Attempts for transient failures: by default enough for the retry window (see
   * retry-policy.ts), so it is time, not a count, that runs out.
   */
  attempts: number;
  /** Failed jobs kept for inspection and retry. @defaultValue 10000 */
  keepFailed: number;
  /**
   * Completed jobs kept. Completed image jobs hand everything on to S3 and the next queue, so
   * keeping them only costs Redis memory on huge imports; BullMQ's metrics still count them.
   * @defaultValue 1000
   */
  keepCompleted: number;
}

/** The options of every job facepipe adds, whatever the queue: the one place retries are set. */
export function stageJobOptions(policy: JobPolicy, jobId?: string): JobsOptions {
  return {
    ...(jobId === undefined ? {} : { jobId }),
    attempts: policy.attempts,
    // Capped exponential with jitter, computed by every StageWorker's backoffStrategy.
    backoff: { type: retryBackoffType },
    removeOnComplete: policy.keepCompleted === 0 ? true : { count: policy.keepCompleted },
    removeOnFail: { count: policy.keepFailed },
  };
}

/**
 * Deterministic job ids: the same image under the same pipeline version always gets the same id
 * at each stage, so a repeated add while the job exists is a no-op and retries keep their id.
 * BullMQ forbids ':' in ids.
 */
export const jobIds = {
  detect: (imageId: string, pipelineVersion: string) => `det_${imageId}_${pipelineVersion}`,
  embed: (imageId: string, pipelineVersion: string) => `emb_${imageId}_${pipelineVersion}`,
  classify: (imageId: string, pipelineVersion: string) => `cls_${imageId}_${pipelineVersion}`,
  galleryEnroll: (batchId: string) => `enroll_${batchId}`,
} as const;
