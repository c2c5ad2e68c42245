import {
  allQueueNames,
  objectKeys,
  queueStates,
  type GalleryDocument,
  type GalleryPointer,
  type QueueName,
  type ResultDocument,
} from '@facepipe/core';
import type { Job, Queue } from 'bullmq';
import type { Producer } from '../producer.js';
import { ApiError } from './api-errors.js';
import { batchProgress, summarise, type BatchProgress } from './progress.js';
import { failedJobIds, failureGroups, recentLatencies, type FailureGroup } from './queue-scripts.js';

/** How far back throughput and latency look. */
export const recentMinutes = 15;

export interface QueueOverview {
  name: string;
  counts: Record<(typeof queueStates)[number], number>;
  paused: boolean;
  /** Worker connections (BullMQ names them per queue). */
  workers: number;
  /** Jobs completed and failed per minute, oldest first, the last entry being the current minute. */
  completedPerMinute: number[];
  failedPerMinute: number[];
  /** Wait (added → started) and processing (started → finished) percentiles, ms, over recent completed jobs. */
  latency: { samples: number; waitMs: ReturnType<typeof summarise>; processMs: ReturnType<typeof summarise> };
}

export interface Overview {
  generatedAt: string;
  queues: QueueOverview[];
  batches: BatchProgress[];
  gallery: { version: number; people: number; faces: number } | null;
}

/** BullMQ's per-minute metrics (newest first, `meta` holding the current minute) as a timeline. */
export function perMinute(metrics: { meta: { count: number; prevTS: number; prevCount: number }; data: number[] }, now: number, minutes = recentMinutes): number[] {
  const out = new Array<number>(minutes).fill(0);
  const nowMinute = Math.floor(now / 60_000);
  const put = (minute: number, count: number) => {
    const slot = minutes - 1 - (nowMinute - minute);
    if (slot >= 0 && slot < minutes) out[slot] = (out[slot] ?? 0) + count;
  };
  if (metrics.meta.prevTS > 0) {
    const prevMinute = Math.floor(metrics.meta.prevTS / 60_000);
    put(prevMinute, Math.max(metrics.meta.count - metrics.meta.prevCount, 0));
    metrics.data.forEach((count, i) => put(prevMinute - 1 - i, count));
  }
  return out;
}

export interface FailureSample {
  id: string;
  failedReason: string;
  attemptsMade: number;
  finishedOn: number | null;
  data: { imageId?: string; source?: string; batchId?: string };
}

export interface QueueFailures {
  queue: string;
  failed: number;
  scanned: number;
  groups: (FailureGroup & { sample: FailureSample | null })[];
}

export interface RecentResult {
  imageId: string;
  source: string;
  width: number | null;
  height: number | null;
  faceCount: number;
  faces: { index: number; box: [number, number, number, number]; name: string | null; distance: number | null; confidence: number; cropIndex: number }[];
  galleryVersion: number | null;
  processedAt: string;
}

export interface PersonEntry {
  name: string;
  /** Faces of this person in the current gallery version. */
  faces: { imageId: string; cropIndex: number }[];
}

/**
 * Everything the dashboard shows, computed from counters and bounded reads only — job counts,
 * BullMQ's per-minute metrics, the newest N completed jobs — never a listing of all jobs, so it
 * costs the same with a thousand or a million completed jobs.
 */
export class DashboardData {
  constructor(readonly producer: Producer) {}

  queue(name: string): Queue {
    if (!(allQueueNames as readonly string[]).includes(name)) throw new ApiError(404, 'UNKNOWN_QUEUE', `no queue "${name}" (queues: ${allQueueNames.join(', ')})`);
    return this.producer.ctx.queues.byName(name as QueueName);
  }

  async overview(now = Date.now()): Promise<Overview> {
    const [queues, batches, gallery] = await Promise.all([
      Promise.all(allQueueNames.map((name) => this.#queueOverview(name, now))),
      this.producer.ctx.tracker.listBatches(10),
      this.producer.ctx.store.getJson<GalleryPointer>(objectKeys.galleryCurrent),
    ]);
    return {
      generatedAt: new Date(now).toISOString(),
      queues,
      batches: batches.map((b) => batchProgress(b, now)),
      gallery: gallery ? { version: gallery.version, people: gallery.people, faces: gallery.faces } : null,
    };
  }

  async #queueOverview(name: QueueName, now: number): Promise<QueueOverview> {
    const queue = this.producer.ctx.queues.byName(name);
    const redis = this.producer.ctx.redis;
    const [counts, paused, workers, completed, failed, latency] = await Promise.all([
      queue.getJobCounts(...queueStates),
      queue.isPaused(),
      queue.getWorkersCount(),
      queue.getMetrics('completed', 0, recentMinutes),
      queue.getMetrics('failed', 0, recentMinutes),
      recentLatencies(redis, queue, now - recentMinutes * 60_000),
    ]);
    return {
      name,
      counts: Object.fromEntries(queueStates.map((s) => [s, counts[s] ?? 0])) as QueueOverview['counts'],
      paused,
      workers,
      completedPerMinute: perMinute(completed, now),
      failedPerMinute: perMinute(failed, now),
      latency: { samples: latency.processMs.length, waitMs: summarise(latency.waitMs), processMs: summarise(latency.processMs) },
    };
  }

  /** Failed jobs of every queue grouped by error code, with the newest job of each code. */
  async failures(): Promise<QueueFailures[]> {
    return Promise.all(
      allQueueNames.map(async (name) => {
        const queue = this.producer.ctx.queues.byName(name);
        const [{ scanned, groups }, failed] = await Promise.all([failureGroups(this.producer.ctx.redis, queue), queue.getFailedCount()]);
        const withSamples = await Promise.all(groups.map(async (g) => ({ ...g, sample: sampleOf(await queue.getJob(g.sampleJobId)) })));
        return { queue: name, failed, scanned, groups: withSamples };
      }),
    );
  }

  /** Retries every failed job of `queue` with this code; returns how many were moved back to waiting. */
  async retryFailures(queueName: string, code: string): Promise<number> {
    return this.#forEachFailed(queueName, code, 'retried', (job) => job.retry('failed'));
  }

  /** Removes every failed job of `queue` with this code (their failed results stay in S3). */
  async discardFailures(queueName: string, code: string): Promise<number> {
    return this.#forEachFailed(queueName, code, 'discarded', (job) => job.remove());
  }

  async #forEachFailed(queueName: string, code: string, verb: string, action: (job: Job) => Promise<unknown>): Promise<number> {
    const queue = this.queue(queueName);
    if (!/^[A-Z_]{1,64}$/.test(code)) throw new ApiError(400, 'BAD_REQUEST', 'error codes are upper-case letters and _');
    const ids = await failedJobIds(this.producer.ctx.redis, queue, code);
    let done = 0;
    for (let i = 0; i < ids.length; i += 100) {
      const results = await Promise.allSettled(
        ids.slice(i, i + 100).map(async (id) => {
          const job = await queue.getJob(id);
          if (job && (await job.isFailed())) await action(job);
          else throw new Error('gone');
        }),
      );
      done += results.filter((r) => r.status === 'fulfilled').length;
    }
    this.producer.ctx.log.info(`failed jobs ${verb}`, { queue: queueName, code, jobs: done });
    return done;
  }

  async setPaused(queueName: string, paused: boolean): Promise<boolean> {
    const queue = this.queue(queueName);
    if (paused) await queue.pause();
    else await queue.resume();
    this.producer.ctx.log.info(paused ? 'queue paused' : 'queue resumed', { queue: queueName });
    return queue.isPaused();
  }

  /** The newest results (from the classify queue's newest completed jobs). */
  async recentResults(limit = 8): Promise<RecentResult[]> {
    const jobs = await this.producer.ctx.queues.classify.getJobs(['completed'], 0, limit * 2 - 1, false);
    const ids = [...new Set(jobs.map((j) => (j?.data as { imageId?: string } | undefined)?.imageId).filter((id): id is string => typeof id === 'string'))].slice(0, limit);
    const results = await Promise.all(ids.map((id) => this.producer.ctx.store.getJson<ResultDocument>(objectKeys.result(id)).catch(() => undefined)));
    return results
      .filter((r): r is ResultDocument => r !== undefined && r.status === 'done')
      .map((r) => ({
        imageId: r.imageId,
        source: r.source,
        width: r.width,
        height: r.height,
        faceCount: r.faceCount,
        faces: r.faces.map((f) => ({ index: f.index, box: f.box, name: f.name, distance: f.match.distance, confidence: f.match.confidence, cropIndex: f.cropIndex })),
        galleryVersion: r.versions.gallery,
        processedAt: r.processedAt,
      }));
  }

  /** People in the current gallery version with their enrolled faces. */
  async people(): Promise<{ galleryVersion: number | null; people: PersonEntry[] }> {
    const store = this.producer.ctx.store;
    const pointer = await store.getJson<GalleryPointer>(objectKeys.galleryCurrent);
    if (!pointer) return { galleryVersion: null, people: [] };
    const doc = await store.getJson<GalleryDocument>(pointer.key);
    return {
      galleryVersion: pointer.version,
      people: (doc?.people ?? []).map((p) => ({ name: p.name, faces: p.faces.map((f) => ({ imageId: f.imageId, cropIndex: f.cropIndex })) })),
    };
  }
}

function sampleOf(job: Job | undefined): FailureSample | null {
  if (!job) return null;
  const data = (job.data ?? {}) as Record<string, unknown>;
  const pick = (k: string) => (typeof data[k] === 'string' ? (data[k] as string) : undefined);
  return {
    id: job.id ?? '',
    failedReason: job.failedReason ?? '',
    attemptsMade: job.attemptsMade,
    finishedOn: job.finishedOn ?? null,
    data: { imageId: pick('imageId'), source: pick('source'), batchId: pick('batchId') },
  };
}
