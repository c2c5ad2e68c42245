import type { Redis } from 'ioredis';
import { BatchTracker } from '../batch/index.js';
import { redactUrl, type FacepipeConfig } from '../config/index.js';
import { Logger } from '../logging/index.js';
import { DiskSpaceMonitor, FacepipeMetrics } from '../observability/index.js';
import { closeRedis, createRedisConnection, PipelineQueues, type RetryPolicy } from '../queue/index.js';
import { OutcomeRecorder } from '../results/index.js';
import { AdmissionGate } from '../intake/index.js';
import { S3ObjectStore } from '../storage/index.js';

/** The adapters every facepipe process needs, built once from the validated config. */
export class ServiceContext {
  readonly log: Logger;
  /** Blocking-safe connection for BullMQ workers (`maxRetriesPerRequest: null`). */
  readonly redis: Redis;
  readonly store: S3ObjectStore;
  readonly tracker: BatchTracker;
  readonly queues: PipelineQueues;
  readonly outcomes: OutcomeRecorder;
  /** The free space of the data dirs this deployment writes to (FACEPIPE_DATA_DIRS; none: no check). */
  readonly disk: DiskSpaceMonitor;
  /** Whole-pipeline backpressure for everything this process admits (FACEPIPE_MAX_QUEUED*, a full disk). */
  readonly gate: AdmissionGate;
  /** This process's Prometheus metrics (served by the health server or the HTTP service). */
  readonly metrics: FacepipeMetrics;
  #closing: Promise<void> | undefined;

  constructor(
    readonly config: FacepipeConfig,
    service: string,
    role: 'worker' | 'client' = 'worker',
    /**
     * The pipeline version this process's settings and models produce, resolved once at start
     * (see runWorkerProcess); detect and embed workers check each job against it.
     * @defaultValue undefined (not checked)
     */
    readonly pipelineVersion?: string,
  ) {
    this.log = new Logger({ level: config.logLevel, context: { service, pid: process.pid } });
    this.redis = createRedisConnection(config.redis.url, role);
    // A CLI says once that it lost Redis (and waits); a worker logs every failed reconnect.
    const connectionError = (err: Error) => this.log[role === 'worker' ? 'warn' : 'debug']('redis connection error', { err: err.message });
    this.redis.on('error', connectionError);
    this.store = S3ObjectStore.fromConfig(config.s3);
    this.tracker = new BatchTracker(this.redis, {
      prefix: config.redis.prefix,
      rememberDoneSeconds: config.queues.rememberDoneSeconds,
      rememberDoneMax: config.queues.rememberDoneMax,
      rememberFailedSeconds: config.queues.rememberFailedSeconds,
    });
    this.queues = new PipelineQueues(this.redis, config.redis.prefix, {
      attempts: config.queues.attempts,
      keepCompleted: config.queues.keepCompleted,
      keepFailed: config.queues.keepFailed,
    }, (err) => this.log.debug('queue connection error', { err: err.message }));
    this.outcomes = new OutcomeRecorder(this.store, this.tracker);
    this.disk = new DiskSpaceMonitor(config.disk.dirs, { fullFreeBytes: config.disk.fullFreeBytes });
    this.gate = new AdmissionGate(this.queues, config.queues.bounds, {
      disk: config.disk.dirs.length > 0 ? this.disk : undefined,
      onHeld: (reasons) =>
        reasons.length > 0
          ? this.log.info('admission held back', { heldBackBy: reasons.join(','), bounds: config.queues.bounds })
          : this.log.info('admission resumed'),
    });
    this.metrics = new FacepipeMetrics(service);
  }

  /** Lock, stalled-check and retry settings every StageWorker of this process takes (spread them into its options). */
  get stageSettings(): { lockDuration: number; stalledInterval: number; maxStalledCount: number; retry: RetryPolicy } {
    const q = this.config.queues;
    return { lockDuration: q.lockDurationMs, stalledInterval: q.stalledIntervalMs, maxStalledCount: q.maxStalledCount, retry: q.retry };
  }

  /** Checks Redis and S3 answer; used at start (fail fast) and by /readyz. */
  async checkReady(): Promise<{ redis: boolean; s3: boolean; errors: string[] }> {
    const errors: string[] = [];
    const redis = await this.redis.ping().then(
      () => true,
      (err: Error) => (errors.push(`redis ${redactUrl(this.config.redis.url)}: ${err.message}`), false),
    );
    const s3 = await this.store.head('.facepipe-ready-probe').then(
      () => true,
      (err: Error) => (errors.push(`s3 ${this.config.s3.endpoint ?? 'aws'} bucket ${this.config.s3.bucket}: ${err.message}`), false),
    );
    return { redis, s3, errors };
  }

  /** Closes queues, storage and Redis; safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.queues.close();
      await this.store.close();
      await closeRedis(this.redis);
    })();
    return this.#closing;
  }
}
