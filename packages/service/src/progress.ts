import type { BatchInfo } from '@facepipe/core';

/** A batch with what a person watching it wants to know. */
export interface BatchProgress extends BatchInfo {
  /** False once the batch has all its inputs (folder ingests; closed upload batches). */
  open: boolean;
  finished: number;
  /** 0..1 of the items known so far. */
  progress: number;
  /** Items finished per second since the batch was created (until it finished). */
  ratePerSecond: number;
  /** Seconds until the items known so far are finished at that rate; null when unknown or done. */
  etaSeconds: number | null;
}

export function batchProgress(batch: BatchInfo, now = Date.now()): BatchProgress {
  const finished = batch.done + batch.failed;
  const elapsedSeconds = Math.max(((batch.finishedAt ?? now) - batch.createdAt) / 1000, 0.001);
  const ratePerSecond = finished / elapsedSeconds;
  const remaining = Math.max(batch.total - finished, 0);
  let etaSeconds: number | null = null;
  if (remaining === 0) etaSeconds = 0;
  else if (batch.finishedAt === undefined && ratePerSecond > 0) etaSeconds = remaining / ratePerSecond;
  return {
    ...batch,
    open: !batch.ingested,
    finished,
    progress: batch.total > 0 ? Math.min(finished / batch.total, 1) : 0,
    ratePerSecond: Math.round(ratePerSecond * 100) / 100,
    etaSeconds: etaSeconds === null ? null : Math.round(etaSeconds),
  };
}

/** Nearest-rank percentile of unsorted values (p in 0..100); null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(Math.max(Math.ceil((p / 100) * sorted.length), 1), sorted.length);
  return sorted[rank - 1]!;
}

/** p50/p95/p99 of a sample, rounded to milliseconds. */
export function summarise(values: readonly number[]): { p50: number | null; p95: number | null; p99: number | null } {
  const r = (v: number | null) => (v === null ? null : Math.round(v));
  return { p50: r(percentile(values, 50)), p95: r(percentile(values, 95)), p99: r(percentile(values, 99)) };
}
