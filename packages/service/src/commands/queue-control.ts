import { allQueueNames, type BatchTracker, type Logger, type PipelineQueues, type QueueName } from '@facepipe/core';
import type { Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ApiError, errorCodeInfo } from '../api-errors.js';
import { failedJobIds } from '../queue-scripts.js';

export interface QueueControlDeps {
  queues: PipelineQueues;
  tracker: BatchTracker;
  /** The queues' Redis (failed jobs are found by code in BullMQ's keys). */
  redis: Redis;
  log: Logger;
}

/**
 * What the dashboard's buttons do to the queues: pause and resume a queue, retry or discard its
 * failed jobs of one error code (or one batch's). Input errors are never retried: the same bytes
 * fail the same way.
 */
export class QueueControl {
  constructor(readonly deps: QueueControlDeps) {}

  /** A queue by name; 404 UNKNOWN_QUEUE for any other. */
  queue(name: string): Queue {
    if (!(allQueueNames as readonly string[]).includes(name)) throw new ApiError(404, 'UNKNOWN_QUEUE', `no queue "${name}" (queues: ${allQueueNames.join(', ')})`);
    return this.deps.queues.byName(name as QueueName);
  }

  /** Retries every failed job of `queue` with this code; returns how many were moved back to waiting. */
  async retryFailures(queueName: string, code: string): Promise<number> {
    if (!errorCodeInfo(code).retryable) throw new ApiError(409, 'NOT_RETRYABLE', `${code} is an input error (${errorCodeInfo(code).summary}): retrying the same bytes cannot succeed; discard these jobs instead`);
    return this.#forEachFailed(queueName, code, 'retried', (job) => job.retry('failed'));
  }

  /**
   * Retries the failed jobs of one batch with this code, in every queue. Only jobs the batch
   * queued count (an image shared with another batch was queued by that one; its retry, from
   * the queue's failures, marks both).
   */
  async retryBatchFailures(batchId: string, code: string): Promise<number> {
    if (!errorCodeInfo(code).retryable) throw new ApiError(409, 'NOT_RETRYABLE', `${code} is an input error (${errorCodeInfo(code).summary}): retrying the same bytes cannot succeed`);
    if (!(await this.deps.tracker.getBatch(batchId))) throw new ApiError(404, 'NOT_FOUND', `no batch ${batchId}`);
    let retried = 0;
    for (const name of allQueueNames) {
      retried += await this.#forEachFailed(name, code, 'retried', (job) => job.retry('failed'), (job) => (job.data as { batchId?: unknown } | undefined)?.batchId === batchId);
    }
    return retried;
  }

  /** Removes every failed job of `queue` with this code (their failed results stay in S3). */
  async discardFailures(queueName: string, code: string): Promise<number> {
    return this.#forEachFailed(queueName, code, 'discarded', (job) => job.remove());
  }

  async #forEachFailed(queueName: string, code: string, verb: string, action: (job: Job) => Promise<unknown>, only: (job: Job) => boolean = () => true): Promise<number> {
    const queue = this.queue(queueName);
    if (!/^[A-Z_]{1,64}$/.test(code)) throw new ApiError(400, 'BAD_REQUEST', 'error codes are upper-case letters and _');
    const ids = await failedJobIds(this.deps.redis, queue, code);
    let done = 0;
    for (let i = 0; i < ids.length; i += 100) {
      const results = await Promise.allSettled(
        ids.slice(i, i + 100).map(async (id) => {
          const job = await queue.getJob(id);
          if (!job || !only(job)) return false;
          if (await job.isFailed()) await action(job);
          else throw new Error('gone');
          return true;
        }),
      );
      done += results.filter((r) => r.status === 'fulfilled' && r.value).length;
    }
    if (done > 0 || ids.length > 0) this.deps.log.info(`failed jobs ${verb}`, { queue: queueName, code, jobs: done });
    return done;
  }

  async setPaused(queueName: string, paused: boolean): Promise<boolean> {
    const queue = this.queue(queueName);
    if (paused) await queue.pause();
    else await queue.resume();
    this.deps.log.info(paused ? 'queue paused' : 'queue resumed', { queue: queueName });
    return queue.isPaused();
  }
}
