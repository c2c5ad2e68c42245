import {
  type DiskSpaceMonitor,
  allQueueNames,
  objectKeys,
  admissionStages,
  heldBackBy,
  queueStates,
  readBatchManifest,
  redisKeys,
  type BatchInfo,
  type BatchTracker,
  type FacepipeConfig,
  type GalleryPointer,
  type ManifestEntry,
  type ObjectStore,
  type PipelineQueues,
  type QueueName,
  type ResultDocument,
  type ResultFace,
  type StageBounds,
} from '@facepipe/core';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { ApiError, errorCodeInfo } from './api-errors.js';
import { dashboardAlerts } from './dashboard-alerts.js';
import { batchKind, batchView, groupSmallUploads } from './dashboard-batches.js';
import type {
  BatchDetail,
  BatchItem,
  BatchItems,
  BatchKind,
  CodeCount,
  DashboardBatch,
  FailureSample,
  ItemFace,
  ItemRejected,
  Overview,
  QueueFailures,
  QueueJobState,
  QueueOverview,
  RecentResult,
} from './dashboard/api-types.js';
import { BatchRates } from './dashboard-rates.js';
import { summarise } from './progress.js';
import { failureGroups, recentLatencies } from './queue-scripts.js';

export type { BatchDetail, BatchItem, BatchItems, CodeCount, FailureSample, ItemFace, ItemRejected, Overview, QueueFailures, QueueOverview, RecentResult };

/** How far back throughput and latency look. */
export const recentMinutes = 15;

/** Compiles only while the dashboard's QueueJobState names every state core counts. */
const countedStates: readonly QueueJobState[] = queueStates;
void countedStates;

/** Which batches {@link DashboardData.overview} lists. */
export interface BatchFilter {
  kind?: BatchKind;
  /** Batches to list (before grouping). @defaultValue 50 */
  limit?: number;
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

/** What the dashboard's figures are read from. */
export interface DashboardSources {
  queues: PipelineQueues;
  tracker: BatchTracker;
  store: ObjectStore;
  /** The queues' Redis (failure groups and latencies are read from BullMQ's keys). */
  redis: Redis;
  /** The data dirs' free space, for the "disk full" and "disk space low" banners. */
  disk?: DiskSpaceMonitor;
  /** Admission's per-stage bounds (FACEPIPE_MAX_QUEUED*): which stage holds admission back. @defaultValue none shown */
  bounds?: StageBounds;
  /** The Redis key prefix (intake leases: which open batches were cut short). @defaultValue none shown */
  prefix?: string;
}

/**
 * Everything the dashboard shows, computed from counters and bounded reads only — job counts,
 * BullMQ's per-minute metrics, the newest N completed jobs — never a listing of all jobs, so it
 * costs the same with a thousand or a million completed jobs.
 */
export class DashboardData {
  readonly rates = new BatchRates();
  readonly #stallMs: number;
  readonly #failureRate: number;

  constructor(
    readonly sources: DashboardSources,
    settings: FacepipeConfig['dashboard'] = { stallMs: 120_000, failureRate: 0.1 },
  ) {
    this.#stallMs = settings.stallMs;
    this.#failureRate = settings.failureRate;
  }

  async overview(filter: BatchFilter = {}, now = Date.now()): Promise<Overview> {
    const limit = Math.min(Math.max(Math.trunc(filter.limit ?? 50), 1), 500);
    // A kind filter reads further back, so a rare kind still fills the list.
    const scan = filter.kind === undefined ? limit : Math.min(limit * 5, 2000);
    const [queues, infos, gallery, disks] = await Promise.all([
      Promise.all(allQueueNames.map((name) => this.#queueOverview(name, now))),
      this.sources.tracker.listBatches(scan),
      // A full store may also refuse this read: the banners still show.
      this.sources.store.getJson<GalleryPointer>(objectKeys.galleryCurrent).catch(() => undefined),
      this.sources.disk?.readings() ?? Promise.resolve([]),
    ]);
    const chosen = infos.filter((b) => filter.kind === undefined || batchKind(b) === filter.kind).slice(0, limit);
    const batches = chosen.map((b) => this.#view(b, queues, now));
    this.rates.prune(now);
    const bounds = this.sources.bounds;
    const stages = bounds ? admissionStages.map((stage) => ({ stage, waiting: queues.find((q) => q.name === stage)?.counts.waiting ?? 0, bound: bounds[stage] })) : [];
    const admission = { heldBackBy: heldBackBy(stages), stages };
    // Open batches that are not upload batches and that no process admits into: cut short.
    const open = chosen.filter((b) => !b.ingested && b.source !== 'upload');
    const leases = open.length > 0 ? await Promise.all(open.map((b) => this.sources.redis.exists(redisKeys(this.sources.prefix ?? '').intakeLease(b.id)))) : [];
    const cutShort = this.sources.prefix === undefined ? [] : open.filter((_, i) => leases[i] === 0).map((b) => ({ id: b.id, purpose: b.purpose, source: b.source, total: b.total }));
    const alerts = dashboardAlerts(
      queues.map((q) => ({
        name: q.name,
        paused: q.paused,
        workers: q.workers,
        waiting: q.counts.waiting + q.counts.prioritized,
        recentCompleted: q.completedPerMinute.reduce((a, b) => a + b, 0),
        recentFailed: q.failedPerMinute.reduce((a, b) => a + b, 0),
      })),
      batches,
      { failureRate: this.#failureRate, windowMinutes: recentMinutes, stallSeconds: Math.round(this.#stallMs / 1000) },
      { disks, admission, cutShort },
    );
    return {
      generatedAt: new Date(now).toISOString(),
      queues,
      batches: groupSmallUploads(batches),
      alerts,
      gallery: gallery ? { version: gallery.version, people: gallery.people, faces: gallery.faces } : null,
      admission,
    };
  }

  /** One batch with its per-code failures (admission rejections included) and whether each can be retried. */
  async batch(id: string, now = Date.now()): Promise<BatchDetail> {
    const [info, queues] = await Promise.all([
      this.sources.tracker.getBatch(id),
      Promise.all(allQueueNames.map((name) => this.#queueOverview(name, now))),
    ]);
    if (!info) throw new ApiError(404, 'NOT_FOUND', `no batch ${id}`);
    const failures = Object.entries(info.errors)
      .map(([code, count]) => ({ code, count, ...errorCodeInfo(code) }))
      .sort((a, b) => b.count - a.count);
    return { batch: this.#view(info, queues, now), failures };
  }

  /** Items `offset`… of a batch's manifest with their results (names, boxes) or errors. */
  async batchItems(id: string, offset: number, limit: number): Promise<BatchItems> {
    const store = this.sources.store;
    if (!(await this.sources.tracker.getBatch(id))) throw new ApiError(404, 'NOT_FOUND', `no batch ${id}`);
    const entries: ManifestEntry[] = [];
    let more = false;
    for await (const entry of readBatchManifest(store, id)) {
      if (entry.index < offset) continue;
      if (entries.length === limit) {
        more = true;
        break;
      }
      entries.push(entry);
    }
    const items = await Promise.all(
      entries.map(async (entry): Promise<BatchItem> => {
        const base = { index: entry.index, file: entry.source, imageId: entry.imageId, width: null, height: null, faces: [], rejected: [] };
        if (entry.error) return { ...base, status: 'failed', error: { code: entry.error.code, message: entry.error.message, retryable: errorCodeInfo(entry.error.code).retryable, admission: true } };
        const result = entry.imageId ? await store.getJson<ResultDocument>(objectKeys.result(entry.imageId)).catch(() => undefined) : undefined;
        if (!result) return { ...base, status: 'pending' };
        if (result.status === 'failed') {
          const code = result.error?.code ?? 'INTERNAL';
          return { ...base, status: 'failed', error: { code, message: result.error?.message ?? 'failed', retryable: errorCodeInfo(code).retryable, admission: false } };
        }
        return { ...base, status: 'done', width: result.width, height: result.height, faces: result.faces.map(itemFace), rejected: itemRejected(result) };
      }),
    );
    return { items, next: more ? offset + limit : null };
  }

  /** A batch's view; samples its progress, and restarts its rate while a queue it needs is blocked. */
  #view(info: BatchInfo, queues: readonly QueueOverview[], now: number): DashboardBatch {
    const finished = info.done + info.failed;
    const needs = queuesOf(batchKind(info));
    const needed = queues.filter((q) => (needs as readonly string[]).includes(q.name));
    const blocked = needed.some((q) => q.paused) ? 'paused' : needed.some((q) => q.workers === 0 && q.counts.waiting + q.counts.prioritized > 0) ? 'waiting' : null;
    if (info.finishedAt === undefined) {
      this.rates.record(info.id, finished, now, info.createdAt);
      if (blocked) this.rates.reset(info.id, now);
    }
    return batchView({
      batch: info,
      now,
      ratePerSecond: this.rates.rate(info.id, now),
      lastProgressAt: this.rates.lastProgressAt(info.id) ?? now,
      blocked: info.finishedAt === undefined ? blocked : null,
      stallMs: this.#stallMs,
    });
  }

  async #queueOverview(name: QueueName, now: number): Promise<QueueOverview> {
    const queue = this.sources.queues.byName(name);
    const redis = this.sources.redis;
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
        const queue = this.sources.queues.byName(name);
        const [{ scanned, groups }, failed] = await Promise.all([failureGroups(this.sources.redis, queue), queue.getFailedCount()]);
        const withSamples = await Promise.all(groups.map(async (g) => ({ ...g, ...pick(errorCodeInfo(g.code)), sample: sampleOf(await queue.getJob(g.sampleJobId)) })));
        return { queue: name, failed, scanned, groups: withSamples };
      }),
    );
  }

  /** The newest results (from the classify queue's newest completed jobs). */
  async recentResults(limit = 8): Promise<RecentResult[]> {
    const jobs = await this.sources.queues.classify.getJobs(['completed'], 0, limit * 2 - 1, false);
    const ids = [...new Set(jobs.map((j) => (j?.data as { imageId?: string } | undefined)?.imageId).filter((id): id is string => typeof id === 'string'))].slice(0, limit);
    const results = await Promise.all(ids.map((id) => this.sources.store.getJson<ResultDocument>(objectKeys.result(id)).catch(() => undefined)));
    return results
      .filter((r): r is ResultDocument => r !== undefined && r.status === 'done')
      .map((r) => ({
        imageId: r.imageId,
        source: r.source,
        width: r.width,
        height: r.height,
        faceCount: r.faceCount,
        faces: r.faces.map((f) => ({ index: f.index, ...itemFace(f), confidence: f.match.confidence })),
        rejected: itemRejected(r),
        galleryVersion: r.versions.gallery,
        processedAt: r.processedAt,
      }));
  }
}

/** Queues a batch of this kind goes through (a paused one holds it up). */
function queuesOf(kind: BatchKind): readonly QueueName[] {
  return kind === 'enroll' ? ['detect', 'embed', 'gallery'] : ['detect', 'embed', 'classify'];
}

const pick = (info: { retryable: boolean; summary: string }) => ({ retryable: info.retryable, summary: info.summary });

/** A result face as the dashboard shows it: the name and how it was given. */
export function itemFace(f: ResultFace): ItemFace {
  // A face named through its cluster (or an enrollment) has a name but no automatic match.
  const naming = f.label ? 'hand' : f.name !== null && f.name === f.match.name ? 'auto' : f.name !== null ? 'named' : 'unknown';
  return { box: f.box, cropIndex: f.cropIndex, name: f.label?.name ?? f.name, naming, matchName: f.match.name, distance: f.match.distance };
}

function itemRejected(r: ResultDocument): ItemRejected[] {
  return (r.rejected ?? []).map((x) => ({ box: x.box, score: x.score, reason: x.reason, ...(x.looksLike ? { looksLike: x.looksLike } : {}) }));
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
