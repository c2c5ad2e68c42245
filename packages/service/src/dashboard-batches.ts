import type { BatchInfo } from '@facepipe/core';

/** What started a batch: a folder ingest, an API upload, an enrollment, a re-index. */
export const batchKinds = ['ingest', 'upload', 'enroll', 'reindex'] as const;
export type BatchKind = (typeof batchKinds)[number];

export function isBatchKind(value: unknown): value is BatchKind {
  return typeof value === 'string' && (batchKinds as readonly string[]).includes(value);
}

/** Uploads (POST /v1/images) are ingest batches whose source is "upload". */
export function batchKind(batch: Pick<BatchInfo, 'purpose' | 'source'>): BatchKind {
  if (batch.purpose === 'ingest') return batch.source === 'upload' ? 'upload' : 'ingest';
  return batch.purpose;
}

/**
 * Where a batch stands: `waiting` (stuck behind a queue with no workers), `paused` (a queue it
 * needs is paused), `stalled` (no progress for the stall time), `running`, `finished`.
 */
export type BatchState = 'running' | 'paused' | 'waiting' | 'stalled' | 'finished';

/** One batch as the dashboard lists it. */
export interface DashboardBatch {
  id: string;
  kind: BatchKind;
  source: string;
  createdAt: number;
  finishedAt: number | null;
  /** False once the batch has all its inputs. */
  open: boolean;
  total: number;
  done: number;
  failed: number;
  faces: number;
  cached: number;
  /** 0..1 of the items known so far. */
  progress: number;
  state: BatchState;
  /** Items per second over the last minute; null when not known yet or not running. */
  ratePerSecond: number | null;
  /** Seconds left at the recent rate; null when unknown, paused, waiting, stalled or finished. */
  etaSeconds: number | null;
  /** Seconds since the batch last made progress (as far as this service has seen). */
  idleSeconds: number;
  /** Seconds from creation to finish, for finished batches. */
  durationSeconds: number | null;
  /** Failed items per error code, admission rejections included. */
  errors: Record<string, number>;
}

/** Several small uploads shown as one row. */
export interface UploadGroup {
  kind: 'upload-group';
  batches: DashboardBatch[];
  total: number;
  done: number;
  failed: number;
  faces: number;
  newestAt: number;
  oldestAt: number;
  /** Always `finished`: only finished uploads are grouped. */
  state: BatchState;
}

export type BatchRow = DashboardBatch | UploadGroup;

export interface BatchViewInput {
  batch: BatchInfo;
  now: number;
  ratePerSecond: number | null;
  lastProgressAt: number;
  /** A queue the batch needs is paused / has waiting jobs and no worker. */
  blocked: 'paused' | 'waiting' | null;
  stallMs: number;
}

/** A batch with its state, recent rate and ETA (a pure function of what the service sampled). */
export function batchView({ batch, now, ratePerSecond, lastProgressAt, blocked, stallMs }: BatchViewInput): DashboardBatch {
  const finished = batch.done + batch.failed;
  const remaining = Math.max(batch.total - finished, 0);
  const isFinished = batch.finishedAt !== undefined;
  const idleMs = Math.max(now - lastProgressAt, 0);
  let state: BatchState;
  if (isFinished) state = 'finished';
  else if (blocked) state = blocked;
  else if (remaining > 0 && idleMs >= stallMs) state = 'stalled';
  else state = 'running';
  const rate = state === 'running' || state === 'stalled' ? ratePerSecond : null;
  return {
    id: batch.id,
    kind: batchKind(batch),
    source: batch.source,
    createdAt: batch.createdAt,
    finishedAt: batch.finishedAt ?? null,
    open: !batch.ingested,
    total: batch.total,
    done: batch.done,
    failed: batch.failed,
    faces: batch.faces,
    cached: batch.cached,
    progress: batch.total > 0 ? Math.min(finished / batch.total, 1) : 0,
    state,
    ratePerSecond: rate === null ? null : Math.round(rate * 100) / 100,
    etaSeconds: state === 'running' && rate !== null && rate > 0 ? Math.round(remaining / rate) : null,
    idleSeconds: Math.round(idleMs / 1000),
    durationSeconds: batch.finishedAt === undefined ? null : Math.round((batch.finishedAt - batch.createdAt) / 100) / 10,
    errors: batch.errors,
  };
}

/**
 * Runs of two or more consecutive finished small uploads (at most `smallUpload` files each)
 * become one row, so one-file API uploads do not crowd a large ingest out of sight. Unfinished
 * ones stay rows of their own, so a stuck upload is never folded away.
 */
export function groupSmallUploads(batches: readonly DashboardBatch[], smallUpload = 3): BatchRow[] {
  const rows: BatchRow[] = [];
  let run: DashboardBatch[] = [];
  const flush = () => {
    if (run.length === 1) rows.push(run[0]!);
    else if (run.length > 1) {
      const sum = (k: 'total' | 'done' | 'failed' | 'faces') => run.reduce((a, b) => a + b[k], 0);
      rows.push({
        kind: 'upload-group',
        batches: run,
        total: sum('total'),
        done: sum('done'),
        failed: sum('failed'),
        faces: sum('faces'),
        newestAt: Math.max(...run.map((b) => b.createdAt)),
        oldestAt: Math.min(...run.map((b) => b.createdAt)),
        state: 'finished',
      });
    }
    run = [];
  };
  for (const batch of batches) {
    if (batch.kind === 'upload' && batch.total <= smallUpload && batch.state === 'finished') run.push(batch);
    else {
      flush();
      rows.push(batch);
    }
  }
  flush();
  return rows;
}
