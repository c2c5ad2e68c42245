import { describeDisk, type DiskReading } from '@facepipe/core';
import type { DashboardAlert, DashboardBatch } from './dashboard/api-types.js';

export type { DashboardAlert };

/** What {@link dashboardAlerts} needs of a queue. */
export interface QueueHealth {
  name: string;
  paused: boolean;
  workers: number;
  /** Jobs waiting to start (waiting + prioritized). */
  waiting: number;
  /** Completed and failed jobs over the recent window. */
  recentCompleted: number;
  recentFailed: number;
}

export interface AlertThresholds {
  /** Share of failed jobs (0..1) over the recent window above which a queue is flagged. */
  failureRate: number;
  /** Finished jobs in the window below which the failure share says too little. @defaultValue 5 */
  minJobs?: number;
  /** Minutes the window covers (for the message). */
  windowMinutes: number;
  /** Seconds without progress that make an unfinished batch stalled (for the message). */
  stallSeconds: number;
}

const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** The banners for these queues and batches, most urgent first. Pure. */
export function dashboardAlerts(
  queues: readonly QueueHealth[],
  batches: readonly DashboardBatch[],
  thresholds: AlertThresholds,
  more: {
    /** The data dirs' free space ("disk full", "disk space low"). */
    disks?: readonly DiskReading[];
    /** Which stage holds admission back, and each stage's backlog and bound. */
    admission?: { heldBackBy: readonly string[]; stages: readonly { stage: string; waiting: number; bound: number }[] };
    /** Batches whose admission was cut short (not every input listed, nobody admitting). */
    cutShort?: readonly { id: string; purpose: string; source: string; total: number }[];
  } = {},
): DashboardAlert[] {
  const { disks = [], admission = { heldBackBy: [], stages: [] }, cutShort = [] } = more;
  const alerts: DashboardAlert[] = [];
  for (const d of disks) {
    if (d.state === 'full') alerts.push({ kind: 'disk-full', severity: 'error', dir: d.path, message: describeDisk(d) });
    else if (d.state === 'low') alerts.push({ kind: 'disk-low', severity: 'warning', dir: d.path, message: describeDisk(d) });
  }
  for (const b of cutShort) {
    const finish = b.purpose === 'reindex' ? `run the re-index again (facepipe ${b.source})` : `facepipe ingest ${b.source} --resume ${b.id}`;
    alerts.push({
      kind: 'not-admitted',
      severity: 'warning',
      batchId: b.id,
      message: `batch ${b.id} (${b.source}) was cut short after ${plural(b.total, 'input')}: not every input was admitted; finish it with: ${finish}`,
    });
  }
  if (admission.heldBackBy.length > 0) {
    const why = admission.stages.filter((s) => admission.heldBackBy.includes(s.stage)).map((s) => `${s.stage} (${plural(s.waiting, 'job')} waiting, bound ${s.bound.toLocaleString('en-US')})`);
    alerts.push({
      kind: 'held-back',
      severity: 'warning',
      queue: admission.heldBackBy[0],
      message: `admission held back by: ${admission.heldBackBy.join(', ')} — ${why.join('; ')}; new inputs wait and go on by themselves once it catches up`,
    });
  }
  const minJobs = thresholds.minJobs ?? 5;
  for (const q of queues) {
    if (q.waiting > 0 && q.workers === 0) {
      alerts.push({
        kind: 'no-workers',
        severity: 'error',
        queue: q.name,
        message: `${q.name}: ${plural(q.waiting, 'job')} waiting and no worker connected — start the ${q.name} workers`,
      });
    }
    if (q.paused) {
      alerts.push({
        kind: 'paused',
        severity: 'warning',
        queue: q.name,
        message: `${q.name} is paused${q.waiting > 0 ? ` with ${plural(q.waiting, 'job')} waiting` : ''}: nothing it holds will start until it is resumed`,
      });
    }
    const finished = q.recentCompleted + q.recentFailed;
    if (finished >= minJobs && q.recentFailed / finished > thresholds.failureRate) {
      const percent = Math.round((q.recentFailed / finished) * 100);
      alerts.push({
        kind: 'failure-rate',
        severity: 'error',
        queue: q.name,
        message: `${q.name}: ${percent}% of jobs failed in the last ${thresholds.windowMinutes} min (${q.recentFailed} of ${finished}; threshold ${Math.round(thresholds.failureRate * 100)}%)`,
      });
    }
  }
  for (const b of batches) {
    if (b.state !== 'stalled') continue;
    const left = Math.max(b.total - b.done - b.failed, 0);
    alerts.push({
      kind: 'stalled',
      severity: 'error',
      batchId: b.id,
      message: `batch ${b.id} (${b.source}) has made no progress for ${b.idleSeconds} s with ${plural(left, 'item')} left (stall time ${thresholds.stallSeconds} s)`,
    });
  }
  const rank = { error: 0, warning: 1 };
  return alerts.sort((a, b) => rank[a.severity] - rank[b.severity]);
}
