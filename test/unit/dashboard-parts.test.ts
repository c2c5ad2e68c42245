import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BatchInfo } from '@facepipe/core';
import { BatchRates, batchKind, batchView, dashboardAlerts, groupSmallUploads, itemFace, type DashboardBatch } from '@facepipe/service';

const info = (over: Partial<BatchInfo> = {}): BatchInfo => ({
  id: 'b1',
  purpose: 'ingest',
  source: '/photos',
  createdAt: 0,
  total: 100,
  done: 0,
  failed: 0,
  faces: 0,
  cached: 0,
  ingested: true,
  errors: {},
  ...over,
});

test('the recent rate follows the last minute, not the batch’s whole life', () => {
  const rates = new BatchRates({ windowMs: 60_000 });
  // Fast for two minutes (10/s), then slow (1/s).
  let finished = 0;
  for (let t = 0; t <= 120_000; t += 2_000) {
    rates.record('b', finished, t, 0);
    finished += 20;
  }
  finished -= 20;
  for (let t = 122_000; t <= 240_000; t += 2_000) {
    finished += 2;
    rates.record('b', finished, t, 0);
  }
  assert.equal(rates.rate('b', 240_000), 1);
  // A whole-life average would say (1200 + 120) / 240 = 5.5/s.
  assert.ok(Math.abs(finished / 240 - 5.5) < 0.1);
});

test('a rate needs a few seconds of samples; one sample (a one-file batch) says nothing', () => {
  const rates = new BatchRates({ minSpanMs: 3_000 });
  rates.record('one', 1, 1_000, 999);
  assert.equal(rates.rate('one', 1_000), null);
  rates.record('one', 1, 2_000, 999);
  assert.equal(rates.rate('one', 2_000), null);
  rates.record('one', 1, 5_000, 999);
  assert.equal(rates.rate('one', 5_000), 0);
  assert.equal(rates.rate('never-seen', 5_000), null);
});

test('samples closer than minGap are skipped; progress time moves only with progress; reset and prune', () => {
  const rates = new BatchRates({ minGapMs: 1_000, forgetAfterMs: 10_000 });
  rates.record('b', 0, 1_000, 500);
  assert.equal(rates.lastProgressAt('b'), 500, 'a batch first seen with nothing done: progress since creation');
  rates.record('b', 5, 1_200);
  rates.record('b', 5, 4_000);
  assert.equal(rates.lastProgressAt('b'), 1_200);
  assert.equal(rates.rate('b', 4_000), 5 / 3, 'the next sample kept carries the count');
  rates.reset('b', 5_000);
  assert.equal(rates.rate('b', 5_000), null);
  assert.equal(rates.lastProgressAt('b'), 5_000);
  rates.prune(14_000);
  assert.equal(rates.size, 1);
  rates.prune(16_000);
  assert.equal(rates.size, 0);
});

test('batch views: state, ETA from the recent rate, none while paused, stalled after the stall time', () => {
  const base = { now: 100_000, lastProgressAt: 99_000, blocked: null, stallMs: 60_000 } as const;
  const running = batchView({ ...base, batch: info({ done: 40, failed: 10 }), ratePerSecond: 2 });
  assert.deepEqual([running.state, running.etaSeconds, running.ratePerSecond, running.progress], ['running', 25, 2, 0.5]);
  const paused = batchView({ ...base, batch: info({ done: 40 }), ratePerSecond: 2, blocked: 'paused' });
  assert.deepEqual([paused.state, paused.etaSeconds, paused.ratePerSecond], ['paused', null, null]);
  const waiting = batchView({ ...base, batch: info({ done: 40 }), ratePerSecond: 2, blocked: 'waiting' });
  assert.equal(waiting.state, 'waiting');
  const stalled = batchView({ ...base, batch: info({ done: 40 }), ratePerSecond: 0, lastProgressAt: 30_000 });
  assert.deepEqual([stalled.state, stalled.etaSeconds, stalled.idleSeconds], ['stalled', null, 70]);
  const finished = batchView({ ...base, batch: info({ total: 1, done: 1, finishedAt: 2_000, createdAt: 0 }), ratePerSecond: null });
  assert.deepEqual([finished.state, finished.ratePerSecond, finished.etaSeconds, finished.durationSeconds], ['finished', null, null, 2]);
  const unknownRate = batchView({ ...base, batch: info({ done: 1 }), ratePerSecond: null });
  assert.deepEqual([unknownRate.state, unknownRate.etaSeconds], ['running', null]);
});

test('batch kinds: uploads are ingest batches with source "upload"', () => {
  assert.equal(batchKind({ purpose: 'ingest', source: 'upload' }), 'upload');
  assert.equal(batchKind({ purpose: 'ingest', source: '/data/photos' }), 'ingest');
  assert.equal(batchKind({ purpose: 'enroll', source: 'upload enroll Ann' }), 'enroll');
  assert.equal(batchKind({ purpose: 'reindex', source: 'reindex all' }), 'reindex');
});

test('runs of finished small uploads become one row; large batches, lone and unfinished uploads stay rows', () => {
  const view = (id: string, over: Partial<BatchInfo>) => batchView({ batch: info({ id, ...over }), now: 10, ratePerSecond: null, lastProgressAt: 10, blocked: null, stallMs: 1000 });
  const up = (id: string, done: number) => view(id, { source: 'upload', total: 1, done, createdAt: Number(id.slice(1)), finishedAt: done ? 5 : undefined });
  const rows = groupSmallUploads([up('u9', 1), up('u8', 1), up('u7', 1), up('u6', 0), up('u5', 1), up('u4', 1), view('big', { total: 50, done: 50, finishedAt: 9 }), up('u2', 1), view('bigup', { source: 'upload', total: 40 })]);
  assert.deepEqual(
    rows.map((r) => (r.kind === 'upload-group' ? `group:${r.batches.map((b) => b.id).join(',')}` : r.id)),
    ['group:u9,u8,u7', 'u6', 'group:u5,u4', 'big', 'u2', 'bigup'],
  );
  const group = rows[0]!;
  assert.ok(group.kind === 'upload-group');
  assert.deepEqual([group.total, group.done, group.state, group.oldestAt, group.newestAt], [3, 3, 'finished', 7, 9]);
});

test('banners: waiting jobs with no worker, a paused queue, a high failure share, a stalled batch', () => {
  const q = { name: 'detect', paused: false, workers: 2, waiting: 0, recentCompleted: 100, recentFailed: 1 };
  const thresholds = { failureRate: 0.1, windowMinutes: 15, stallSeconds: 120 };
  assert.deepEqual(dashboardAlerts([q], [], thresholds), []);
  assert.deepEqual(dashboardAlerts([{ ...q, waiting: 0, workers: 0 }], [], thresholds), [], 'no workers and nothing waiting is fine');
  const noWorkers = dashboardAlerts([{ ...q, waiting: 12, workers: 0 }], [], thresholds);
  assert.deepEqual(noWorkers.map((a) => [a.kind, a.queue, a.severity]), [['no-workers', 'detect', 'error']]);
  assert.match(noWorkers[0]!.message, /12 jobs waiting and no worker/);
  const paused = dashboardAlerts([{ ...q, paused: true, waiting: 3 }], [], thresholds);
  assert.deepEqual(paused.map((a) => a.kind), ['paused']);
  assert.match(paused[0]!.message, /paused with 3 jobs waiting/);
  const failing = dashboardAlerts([{ ...q, recentCompleted: 8, recentFailed: 2 }], [], thresholds);
  assert.deepEqual(failing.map((a) => a.kind), ['failure-rate']);
  assert.match(failing[0]!.message, /20% of jobs failed in the last 15 min \(2 of 10; threshold 10%\)/);
  assert.deepEqual(dashboardAlerts([{ ...q, recentCompleted: 1, recentFailed: 2 }], [], thresholds), [], 'too few jobs to judge');
  const stalledBatch = { ...batchView({ batch: info({ done: 10 }), now: 200_000, ratePerSecond: 0, lastProgressAt: 0, blocked: null, stallMs: 120_000 }) } satisfies DashboardBatch;
  const stalled = dashboardAlerts([{ ...q, paused: true }], [stalledBatch], thresholds);
  assert.deepEqual(stalled.map((a) => a.kind), ['stalled', 'paused'], 'errors before warnings');
  assert.match(stalled[0]!.message, /no progress for 200 s with 90 items left/);
});

test('alerts: admission held back names the stage; a cut-short batch says how to finish it', () => {
  const thresholds = { failureRate: 0.1, windowMinutes: 5, stallSeconds: 120 };
  const admission = {
    heldBackBy: ['classify'],
    stages: [
      { stage: 'detect', waiting: 10, bound: 2000 },
      { stage: 'classify', waiting: 2000, bound: 2000 },
    ],
  };
  const [held] = dashboardAlerts([], [], thresholds, { admission });
  assert.equal(held?.kind, 'held-back');
  assert.equal(held?.queue, 'classify');
  assert.match(held!.message, /^admission held back by: classify — classify \(2,000 jobs waiting, bound 2,000\)/);
  const [cut] = dashboardAlerts([], [], thresholds, { cutShort: [{ id: 'b1', purpose: 'ingest', source: '/photos', total: 411 }] });
  assert.equal(cut?.kind, 'not-admitted');
  assert.equal(cut?.batchId, 'b1');
  assert.match(cut!.message, /cut short after 411 inputs.*finish it with: facepipe ingest \/photos --resume b1$/);
});

test('a face named through its cluster shows as named (not unknown); a hand label as hand; a match as auto', () => {
  const face = (name: string | null, matchName: string | null, label?: string) =>
    ({ index: 0, box: [0, 0, 1, 1], cropIndex: 0, name, match: { name: matchName, distance: matchName ? 0.4 : 0.7 }, ...(label ? { label: { name: label, at: 'now' } } : {}) }) as unknown as Parameters<typeof itemFace>[0];
  assert.deepEqual(
    [face('Rose', null), face('Rose', 'Rose'), face('Kit', 'Rose', 'Kit'), face(null, null)].map((f) => itemFace(f).naming),
    ['named', 'auto', 'hand', 'unknown'],
  );
});
