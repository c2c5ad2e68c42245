import type { JobsOptions } from 'bullmq';

/** Retention and retry policy shared by all stage queues. */
export interface JobPolicy {
  /** Attempts for transient failures. @defaultValue 5 */
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

export function stageJobOptions(policy: JobPolicy, jobId: string): JobsOptions {
  return {
    jobId,
    attempts: policy.attempts,
    backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
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
