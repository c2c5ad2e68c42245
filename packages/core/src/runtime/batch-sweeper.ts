import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { readManifestEntries, type BatchInfo, type BatchTracker } from '../batch/index.js';
import { FacepipeError, isErrorCode } from '../errors/index.js';
import type { Logger } from '../logging/index.js';
import { failureCode, jobIds, type ImageJobData, type PipelineQueues, type StageName } from '../queue/index.js';
import type { OutcomeRecorder, ResultDocument } from '../results/index.js';
import { objectKeys, redisKeys, type ObjectStore } from '../storage/index.js';

export interface BatchSweeperOptions {
  redis: Redis;
  prefix: string;
  store: ObjectStore;
  tracker: BatchTracker;
  queues: PipelineQueues;
  outcomes: OutcomeRecorder;
  log: Logger;
  /** A batch whose counts have not moved for this long is inspected item by item. @defaultValue 60000 */
  idleMs?: number;
  /** Recent batches looked at per pass. @defaultValue 200 */
  batchLimit?: number;
  /** Pending items inspected per batch and pass. @defaultValue 1000 */
  itemLimit?: number;
  /** Times an image no job carries is queued again before it is failed as lost. @defaultValue 1 */
  maxRequeues?: number;
}

/** What one pass found and did. */
export interface SweepReport {
  /** Stashed failures written to S3 now that it answers. */
  flushed: number;
  /** Failures still waiting for S3. */
  stashed: number;
  /** Unfinished batches looked at, and those idle long enough to be inspected. */
  unfinished: number;
  inspected: number;
  /** Items whose outcome was known but not counted (counted now). */
  repaired: number;
  /** Items no job carried any more, queued again. */
  requeued: number;
  /** Items that could not be placed (no manifest entry, no pipeline version): logged. */
  reported: number;
}

const liveStates = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused']);

/**
 * The safety net behind "a result for every input": writes failures stashed during an S3 outage,
 * and finds batches whose counts do not add up — items neither done nor failed while no job
 * carries them any more (a failure recorded nowhere, a waiter forgotten, a job lost with Redis
 * data) — and counts them from what is known (the image's outcome, its failed job, its result
 * document), or queues them again. Every repair is logged. One pass at a time cluster-wide.
 */
export class BatchSweeper {
  readonly #o: Required<BatchSweeperOptions>;

  constructor(options: BatchSweeperOptions) {
    this.#o = { idleMs: 60_000, batchLimit: 200, itemLimit: 1000, maxRequeues: 1, ...options };
  }

  #key(name: string): string {
    return redisKeys(this.#o.prefix).sweeper(name);
  }

  /** One pass, unless another process is sweeping now (then undefined). */
  async sweep(): Promise<SweepReport | undefined> {
    const { redis } = this.#o;
    const token = `${process.pid}:${Date.now()}`;
    const locked = await redis.set(this.#key('lock'), token, 'PX', Math.max(30_000, this.#o.idleMs), 'NX');
    if (locked !== 'OK') return undefined;
    try {
      return await this.#pass();
    } finally {
      if ((await redis.get(this.#key('lock'))) === token) await redis.del(this.#key('lock'));
    }
  }

  async #pass(): Promise<SweepReport> {
    const { tracker, outcomes, redis, log } = this.#o;
    const report: SweepReport = { flushed: 0, stashed: 0, unfinished: 0, inspected: 0, repaired: 0, requeued: 0, reported: 0 };
    if ((await tracker.stashedCount()) > 0) {
      const flush = await outcomes.flushStashed();
      report.flushed = flush.written + flush.superseded;
      report.stashed = flush.remaining;
      if (report.flushed > 0) log.info('sweeper: stored failures written to S3', { ...flush });
    }
    const now = Date.now();
    for (const batch of await tracker.listBatches(this.#o.batchLimit)) {
      if (!batch.ingested || batch.finishedAt !== undefined) {
        await redis.hdel(this.#key('progress'), batch.id);
        continue;
      }
      report.unfinished += 1;
      if (batch.done + batch.failed >= batch.total) {
        // Every item counted but the finish never stamped: stamp it.
        await tracker.finishIngest(batch.id, batch.total);
        report.repaired += 1;
        continue;
      }
      const progress = `${batch.done + batch.failed}`;
      const seen = await redis.hget(this.#key('progress'), batch.id);
      const [seenProgress, seenAt] = (seen ?? '').split(':');
      if (seenProgress !== progress) {
        await redis.hset(this.#key('progress'), batch.id, `${progress}:${now}`);
        continue;
      }
      if (now - Number(seenAt) < this.#o.idleMs) continue;
      report.inspected += 1;
      await this.#inspect(batch, report);
      // What the repairs counted is no progress of the pipeline: the idle clock starts again.
      const after = await tracker.getBatch(batch.id);
      await redis.hset(this.#key('progress'), batch.id, `${after ? after.done + after.failed : progress}:${now}`);
    }
    if (report.repaired + report.requeued + report.reported > 0) log.warn('sweeper: batches whose counts did not add up', { ...report });
    return report;
  }

  async #inspect(batch: BatchInfo, report: SweepReport): Promise<void> {
    const { tracker, store, log } = this.#o;
    const pending = new Set(await tracker.pendingItems(batch.id, batch.total, this.#o.itemLimit));
    if (pending.size === 0) return;
    const entries = await readManifestEntries(store, batch.id, pending);
    for (const index of pending) {
      const entry = entries.get(index);
      if (!entry) {
        report.reported += 1;
        log.warn('sweeper: batch item has no manifest entry (the ingest stopped early); re-run the ingest', { batchId: batch.id, index });
        continue;
      }
      const outcome = await this.#settle(batch.id, index, entry.imageId, entry.error?.code, entry.source).catch((err: unknown) => {
        log.warn('sweeper: could not settle an item', { batchId: batch.id, index, err: (err as Error).message });
        return 'reported' as const;
      });
      if (outcome === 'alive') continue;
      report[outcome] += 1;
      log.warn('sweeper: item settled', { batchId: batch.id, index, imageId: entry.imageId, outcome });
    }
  }

  /** Counts one pending item from what is known of its image, or queues the image again. */
  async #settle(batchId: string, index: number, imageId: string | null, rejectedCode: string | undefined, source: string): Promise<'repaired' | 'requeued' | 'reported' | 'alive'> {
    const { tracker, queues, store, outcomes } = this.#o;
    if (rejectedCode !== undefined || imageId === null) {
      await tracker.markItem(batchId, index, { kind: 'failed', code: rejectedCode ?? 'INTERNAL' });
      return 'repaired';
    }
    const image = await tracker.imageState(imageId);
    if (image?.state === 'done' || image?.state === 'failed') {
      const result = await store.getJson<ResultDocument>(objectKeys.result(imageId)).catch(() => undefined);
      if (image.state === 'done') await tracker.markItem(batchId, index, { kind: 'done', faces: result?.faceCount ?? 0 });
      else await tracker.markItem(batchId, index, { kind: 'failed', code: image.code ?? 'INTERNAL' });
      return 'repaired';
    }
    const version = image?.version;
    if (!version) return 'reported';
    const stages: [StageName, string][] = [
      ['classify', jobIds.classify(imageId, version)],
      ['embed', jobIds.embed(imageId, version)],
      ['detect', jobIds.detect(imageId, version)],
    ];
    let failed: { stage: StageName; job: Job } | undefined;
    for (const [stage, id] of stages) {
      const queue = queues.byName(stage);
      const state = await queue.getJobState(id);
      if (liveStates.has(state)) return 'alive';
      if (state === 'failed' && !failed) {
        const job = await queue.getJob(id);
        if (job) failed = { stage, job };
      }
    }
    if (failed) {
      const reason = failed.job.failedReason ?? '';
      const code = failureCode(reason);
      const error = new FacepipeError(isErrorCode(code) ? code : 'INTERNAL', reason.replace(/^\[[A-Z_]+\]\s*/, '') || 'the job failed');
      await outcomes.recordFailure(failed.job.data as ImageJobData, error, failed.stage, failed.job.id ?? '');
      return 'repaired';
    }
    const result = await store.getJson<ResultDocument>(objectKeys.result(imageId));
    if (result !== undefined && result.versions.pipeline === version) {
      if (result.status === 'done') await tracker.completeImage(imageId, version, { kind: 'done', faces: result.faceCount });
      else await tracker.completeImage(imageId, version, { kind: 'failed', code: result.error?.code ?? 'INTERNAL', queue: result.error?.stage ?? 'detect', jobId: '' });
      return 'repaired';
    }
    // No job, no outcome: the job was lost (Redis lost data). Queue it again, once.
    const requeues = await this.#o.redis.hincrby(this.#key('requeues'), imageId, 1);
    await this.#o.redis.expire(this.#key('requeues'), 7 * 86_400);
    const data: ImageJobData = { imageId, originalKey: objectKeys.original(imageId), source, batchId, enqueuedAt: Date.now(), pipelineVersion: version };
    if (requeues > this.#o.maxRequeues) {
      await outcomes.recordFailure(data, new FacepipeError('INTERNAL', `no job carried this image any more (queued again ${requeues - 1} times)`), 'detect', '');
      return 'repaired';
    }
    // A repair, not an admission: the item was admitted (through BatchIntake's gate) and counted
    // already, so it does not wait at the gate again; a pass holds the cluster-wide sweep lock.
    await queues.clearFinishedJobs(imageId, version);
    await queues.addDetect(data);
    return 'requeued';
  }
}
