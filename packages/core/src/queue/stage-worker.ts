import { UnrecoverableError, Worker, type Job, MetricsTime } from 'bullmq';
import type { Redis } from 'ioredis';
import { FacepipeError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type { StageMetrics } from '../observability/index.js';
import { parseJobData, type JobData } from './job-payloads.js';
import type { JobName, QueueName } from './queue-names.js';

/** What a handler gets besides its validated payload. */
export interface StageContext {
  job: Job;
  log: Logger;
  /** True on the last attempt BullMQ will make. */
  lastAttempt: boolean;
}

export interface StageWorkerOptions<N extends JobName> {
  queue: QueueName;
  jobName: N;
  connection: Redis;
  prefix: string;
  /** Jobs this process works on at once. @defaultValue 1 */
  concurrency?: number;
  log: Logger;
  handler: (data: JobData<N>, ctx: StageContext) => Promise<unknown>;
  /**
   * Called once when a job fails for good (permanent error, or transient error on its last
   * attempt), before BullMQ records the failure: the place to write the failed result and update
   * batch counts so "failed" is never mistaken for "not processed".
   */
  onFinalFailure?: (data: JobData<N>, error: FacepipeError, ctx: StageContext) => Promise<void>;
  /**
   * How long a job's lock lasts without renewal. Inference runs off the event loop (worker
   * threads), so the default renewal every lockDuration/2 is never starved.
   * @defaultValue 30000
   */
  lockDuration?: number;
  /** Where job durations and outcomes are counted (facepipe_jobs_*, facepipe_stage_duration_seconds). */
  metrics?: StageMetrics;
}

/** Prefix of failure reasons: `[CODE] message`, so failures can be grouped by code. */
export function formatFailure(error: FacepipeError): string {
  return `[${error.code}] ${error.message}`;
}

/** Reads the code back from a BullMQ failedReason written by {@link formatFailure}. */
export function failureCode(failedReason: string | undefined): string {
  const match = /^\[([A-Z_]+)\]/.exec(failedReason ?? '');
  return match?.[1] ?? 'INTERNAL';
}

/**
 * One BullMQ worker for one stage: validates payloads at the boundary, logs with
 * `{queue, jobId}`, turns permanent errors into UnrecoverableError (no retry storm), records
 * final failures, and closes idempotently.
 */
export class StageWorker<N extends JobName> {
  readonly worker: Worker;
  readonly #options: StageWorkerOptions<N>;
  #closing: Promise<void> | undefined;

  constructor(options: StageWorkerOptions<N>) {
    this.#options = options;
    this.worker = new Worker(options.queue, (job) => this.#process(job), {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency ?? 1,
      lockDuration: options.lockDuration ?? 30_000,
      autorun: false,
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
    });
    this.worker.on('error', (err) => options.log.error('worker error', { queue: options.queue, err }));
  }

  /** Starts taking jobs; resolves when the worker has stopped. */
  run(): Promise<void> {
    return this.worker.run();
  }

  async #process(job: Job): Promise<unknown> {
    const { queue, jobName, handler, onFinalFailure, metrics } = this.#options;
    const log = this.#options.log.child({ queue, jobId: job.id, stage: queue });
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const ctx: StageContext = { job, log, lastAttempt };
    let data: JobData<N>;
    try {
      if (job.name !== jobName) throw new FacepipeError('INVALID_PAYLOAD', `unexpected job name ${job.name} on queue ${queue}`);
      data = parseJobData(jobName, job.data);
    } catch (err) {
      const error = FacepipeError.from(err, 'INVALID_PAYLOAD');
      log.error('invalid job payload', { code: error.code, err: error.message });
      metrics?.recordJob(queue, 0, { ok: false, code: error.code, final: true });
      throw new UnrecoverableError(formatFailure(error));
    }
    const ids = data as { imageId?: string; batchId?: string };
    const jobLog = log.child({ imageId: ids.imageId, batchId: ids.batchId });
    ctx.log = jobLog;
    const started = performance.now();
    try {
      const result = await handler(data, ctx);
      const ms = performance.now() - started;
      jobLog.debug('job done', { ms: Math.round(ms) });
      const faces = (result as { faces?: unknown } | null)?.faces;
      metrics?.recordJob(queue, ms, { ok: true, images: ids.imageId ? 1 : 0, faces: typeof faces === 'number' ? faces : undefined });
      return result;
    } catch (err) {
      const error = FacepipeError.from(err);
      const final = !error.retryable || lastAttempt;
      metrics?.recordJob(queue, performance.now() - started, { ok: false, code: error.code, final });
      jobLog[final ? 'warn' : 'info'](final ? 'job failed' : 'job failed, will retry', {
        code: error.code,
        err: error.message,
        attempt: job.attemptsMade + 1,
      });
      if (!final) throw new Error(formatFailure(error), { cause: error });
      if (onFinalFailure) {
        // If recording the failure itself fails (S3/Redis down), let BullMQ retry the whole job.
        await onFinalFailure(data, error, ctx);
      }
      throw new UnrecoverableError(formatFailure(error));
    }
  }

  /**
   * Stops taking jobs and waits for active ones (graceful), or abandons them (`force`) so their
   * locks expire and another worker picks them up. Safe to call more than once.
   */
  close(force = false): Promise<void> {
    if (force) return this.worker.close(true);
    this.#closing ??= this.worker.close();
    return this.#closing;
  }
}
