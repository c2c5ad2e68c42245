import type { BatchInfo } from '@facepipe/core';
import type { BatchKind, BatchRow, BatchState, DashboardBatch, UploadGroup } from './dashboard/api-types.js';

export type { BatchKind, BatchRow, BatchState, DashboardBatch, UploadGroup };

/** What started a batch: a folder ingest, an API upload, an enrollment, a re-index. */
export const batchKinds = ['ingest', 'upload', 'enroll', 'reindex'] as const satisfies readonly BatchKind[];
/** Compiles only while batchKinds names every BatchKind. */
const everyKind: Exclude<BatchKind, (typeof batchKinds)[number]> extends never ? true : never = true;
void everyKind;

export function isBatchKind(value: unknown): value is BatchKind {
  return typeof value === 'string' && (batchKinds as readonly string[]).includes(value);
}

/** Uploads (POST /v1/images) are ingest batches whose source is "upload". */
export function batchKind(batch: Pick<BatchInfo, 'purpose' | 'source'>): BatchKind {
  if (batch.purpose === 'ingest') return batch.source === 'upload' ? 'upload' : 'ingest';
  return batch.purpose;
}

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
