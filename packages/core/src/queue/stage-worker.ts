import { hostname } from 'node:os';
import { UnrecoverableError, Worker, type Job, MetricsTime } from 'bullmq';
import type { Redis } from 'ioredis';
import { FacepipeError } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import type { StageMetrics } from '../observability/index.js';
import { retryBackoffType } from './job-options.js';
import { parseJobData, type JobData } from './job-payloads.js';
import type { JobName, QueueName } from './queue-names.js';
import { defaultRetryPolicy, jitteredDelayMs, type RetryPolicy } from './retry-policy.js';

/**
 * BullMQ's reasons for failing a job it never handed to the processor: its holder died more
 * often than maxStalledCount allows (or it started more often than maxStartedAttempts).
 */
const crashReasons = ['job stalled more than allowable limit', 'job started more than allowable limit'];

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
  onFinalFailure?: (data: JobData<N>, error: FacepipeError, ctx: StageContext) => Promise<unknown>;
  /**
   * How long a job's lock lasts without renewal (renewed every half of it). Inference runs off
   * the event loop (worker threads), so renewals are not starved; after a crash the job is taken
   * back within about lockDuration + stalledInterval (FACEPIPE_LOCK_DURATION_MS).
   * @defaultValue 5000
   */
  lockDuration?: number;
  /** How often this worker looks for jobs whose holder died (FACEPIPE_STALLED_INTERVAL_MS). @defaultValue 2500 */
  stalledInterval?: number;
  /** Times a job may be taken back from a dead worker before it fails as WORKER_CRASHED. @defaultValue 1 */
  maxStalledCount?: number;
  /** The waits between attempts of a job failing on a transient error. @defaultValue defaultRetryPolicy */
  retry?: RetryPolicy;
  /**
   * The pipeline version this process produces, computed once at start from its settings and
   * models. Set for stages whose output depends on it (detect, embed): a job made for another
   * version fails as PIPELINE_VERSION_MISMATCH instead of mixing two pipelines' results.
   * Unset (classify, builds), the job's version is taken as it is. @defaultValue undefined
   */
  pipelineVersion?: string;
  /** Where job durations and outcomes are counted (facepipe_jobs_*, facepipe_stage_duration_seconds). */
  metrics?: StageMetrics;
}

/** Prefix of failure reasons: `[CODE] message`, so failures can be grouped by code. */
export function formatFailure(error: FacepipeError): string {
  return `[${error.code}] ${error.message}`;
}

/** Reads the code back from a BullMQ failedReason written by {@link formatFailure} (BullMQ's crash reasons: WORKER_CRASHED). */
export function failureCode(failedReason: string | undefined): string {
  if (crashReasons.includes(failedReason ?? '')) return 'WORKER_CRASHED';
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
    const retry = options.retry ?? defaultRetryPolicy;
    this.worker = new Worker(options.queue, (job) => this.#process(job), {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency ?? 1,
      // Recorded as each job's processedBy: which process holds (or held) it.
      name: `${options.queue}@${hostname()}:${process.pid}`,
      lockDuration: options.lockDuration ?? 5000,
      stalledInterval: options.stalledInterval ?? 2500,
      maxStalledCount: options.maxStalledCount ?? 1,
      autorun: false,
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
      settings: {
        backoffStrategy: (attemptsMade: number, type?: string) => {
          if (type !== retryBackoffType) throw new Error(`unknown backoff ${type ?? '(none)'}`);
          return jitteredDelayMs(attemptsMade, retry);
        },
      },
    });
    this.worker.on('error', (err) => options.log.error('worker error', { queue: options.queue, err }));
    // BullMQ fails a job that crashed its workers too often without calling the processor, and
    // only on the one worker that took it back: record it here, exactly once, as a typed failure.
    this.worker.on('failed', (job, err) => {
      if (job && crashReasons.includes(err.message)) void this.#recordCrash(job, err.message);
    });
  }

  async #recordCrash(job: Job, reason: string): Promise<void> {
    const { queue, jobName, onFinalFailure, metrics } = this.#options;
    const log = this.#options.log.child({ queue, jobId: job.id, stage: queue });
    const error = new FacepipeError('WORKER_CRASHED', `the ${queue} worker holding this job died ${job.stalledCounter ?? 'several'} times (${reason})`);
    metrics?.recordJob(queue, 0, { ok: false, code: error.code, final: true });
    let data: JobData<N>;
    try {
      data = parseJobData(jobName, job.data);
    } catch {
      log.error('crashed job has an invalid payload; nothing to record', { code: error.code });
      return;
    }
    const ids = data as { imageId?: string; batchId?: string };
    const jobLog = log.child({ imageId: ids.imageId, batchId: ids.batchId });
    jobLog.warn('job failed', { code: error.code, err: error.message });
    try {
      await onFinalFailure?.(data, error, { job, log: jobLog, lastAttempt: true });
    } catch (err) {
      // The sweeper finds the item later (a failed job whose batch item is still pending).
      jobLog.error('could not record the crash; the sweeper will', { err: (err as Error).message });
    }
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
      const wanted = (data as { pipelineVersion?: string }).pipelineVersion;
      const own = this.#options.pipelineVersion;
      if (own !== undefined && wanted !== undefined && wanted !== own) {
        throw new FacepipeError(
          'PIPELINE_VERSION_MISMATCH',
          `the job was made for pipeline ${wanted}, this ${queue} worker produces ${own}: the producer and this worker run different detection or embedding settings or models; deploy them with the same settings (docs/configuration.md), then ingest again`,
        );
      }
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
        // Recording needs only Redis (a failure stays there while S3 is down); if even that
        // fails, the job is retried, or on its last attempt the sweeper records it later.
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
