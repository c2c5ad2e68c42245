import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attemptsForWindow, defaultRetryPolicy, failureCode, jitteredDelayMs, loadConfig, retryDelayMs, type RetryPolicy } from '@facepipe/core';

const policy: RetryPolicy = { windowMs: 600_000, maxDelayMs: 30_000, baseDelayMs: 1000, jitter: 0.25 };

test('waits double from the base and stop growing at the cap', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 50, 10_000].map((n) => retryDelayMs(n, policy)), [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000]);
});

test('jitter only shortens a wait, by at most its fraction', () => {
  assert.equal(jitteredDelayMs(3, policy, 0), 4000);
  assert.equal(jitteredDelayMs(3, policy, 0.999_999), 3000);
  for (let i = 0; i < 200; i += 1) {
    const d = jitteredDelayMs(8, policy);
    assert.ok(d >= 22_500 && d <= 30_000, `${d}`);
  }
});

test('the attempts cover the window even when every wait is as short as jitter allows', () => {
  for (const windowMs of [0, 1000, 30_000, 180_000, 600_000, 900_000, 3_600_000]) {
    const p = { ...policy, windowMs };
    const attempts = attemptsForWindow(p);
    let shortest = 0;
    for (let n = 1; n < attempts; n += 1) shortest += retryDelayMs(n, p) * (1 - p.jitter);
    assert.ok(shortest >= windowMs, `window ${windowMs}: ${attempts} attempts wait ≥ ${shortest}`);
    // …and not wildly more: one attempt fewer would fall short.
    if (attempts > 1) assert.ok(shortest - retryDelayMs(attempts - 1, p) * (1 - p.jitter) < windowMs);
  }
  assert.equal(attemptsForWindow({ ...policy, windowMs: 0 }), 1);
});

test('a 3-minute outage is inside the default window; the config derives attempts from it', () => {
  const config = loadConfig({});
  assert.equal(config.queues.retry.windowMs, 900_000);
  assert.equal(config.queues.attempts, attemptsForWindow(defaultRetryPolicy));
  assert.ok(config.queues.attempts > 5);
  assert.equal(loadConfig({ FACEPIPE_JOB_ATTEMPTS: '2' }).queues.attempts, 2, 'an explicit cap wins');
  assert.equal(loadConfig({ FACEPIPE_RETRY_WINDOW_S: '180' }).queues.retry.windowMs, 180_000);
  assert.equal(config.queues.lockDurationMs, 5000);
  assert.equal(config.queues.stalledIntervalMs, 2500);
  assert.equal(config.queues.maxStalledCount, 1);
  assert.throws(() => loadConfig({ FACEPIPE_LOCK_DURATION_MS: '10' }), /FACEPIPE_LOCK_DURATION_MS/);
});

test("BullMQ's reasons for failing a crashed job read back as WORKER_CRASHED", () => {
  assert.equal(failureCode('job stalled more than allowable limit'), 'WORKER_CRASHED');
  assert.equal(failureCode('job started more than allowable limit'), 'WORKER_CRASHED');
  assert.equal(failureCode('[STORAGE_UNAVAILABLE] put x: down'), 'STORAGE_UNAVAILABLE');
});
