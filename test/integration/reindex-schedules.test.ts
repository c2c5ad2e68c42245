import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { FacepipeError, loadConfig, parseDuration, ReindexSchedules, scheduleProblems } from '@facepipe/core';
import { Producer, ScheduledReindexWorker } from '@facepipe/producer';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startS3, type TestS3 } from '../helpers/s3-server.js';

let redis: TestRedis;
let s3: TestS3;
let producer: Producer;
let worker: ScheduledReindexWorker;

before(async () => {
  [redis, s3] = await Promise.all([startRedis(), startS3(`sched-${randomUUID().slice(0, 8)}`, 'local')]);
  producer = await Producer.connect(loadConfig({ ...s3.env, REDIS_URL: redis.url, FACEPIPE_REDIS_PREFIX: `s${randomUUID().slice(0, 8)}`, FACEPIPE_LOG_LEVEL: 'silent' }), 'test');
  worker = new ScheduledReindexWorker(producer);
  await worker.start();
});

after(async () => {
  await worker?.close();
  await producer?.close();
  await s3?.stop();
  await redis?.stop();
});

test('durations and schedule requests are checked before anything is stored', () => {
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('15m'), 900_000);
  assert.equal(parseDuration('1.5h'), 5_400_000);
  assert.equal(parseDuration('1d'), 86_400_000);
  assert.equal(parseDuration('soon'), undefined);
  assert.deepEqual(scheduleProblems({ id: 'nightly', kind: 'stale', cron: '0 3 * * *' }), []);
  assert.equal(scheduleProblems({ id: 'Bad Id', kind: 'stale', everyMs: 60_000 }).length, 1);
  assert.equal(scheduleProblems({ id: 'x', kind: 'stale', everyMs: 1000 }).length, 1, 'too often');
  assert.equal(scheduleProblems({ id: 'x', kind: 'stale', everyMs: 60_000, cron: '* * * * *' }).length, 1, 'both');
  assert.equal(scheduleProblems({ id: 'x', kind: 'nothing' as 'stale', everyMs: 60_000 }).length, 1);
  assert.equal(scheduleProblems({ id: 'x', kind: 'stale', everyMs: 60_000, runNow: 'yes' as unknown as boolean }).length, 1);
});

test('a schedule is created with its next run, runs a re-index batch at its tick, is listed and deleted', async () => {
  const schedules = new ReindexSchedules(producer.ctx.queues);
  const before = Date.now();
  const info = await schedules.upsert({ id: 'hourly-stale', kind: 'stale', everyMs: 3_600_000 });
  assert.equal(info.id, 'hourly-stale');
  assert.equal(info.kind, 'stale');
  assert.equal(info.everyMs, 3_600_000);
  // The first run is one interval away: creating an hourly schedule starts no re-index now.
  assert.ok(info.nextRunAt !== null && info.nextRunAt >= before + 3_600_000 - 1000, `next run ${info.nextRunAt}`);
  const nightly = await schedules.upsert({ id: 'nightly', kind: 'classify', cron: '0 3 * * *', tz: 'UTC' });
  assert.equal(nightly.cron, '0 3 * * *');
  assert.ok(nightly.nextRunAt! > Date.now(), 'a cron schedule runs at its next match');
  assert.deepEqual((await schedules.list()).map((s) => s.id).sort(), ['hourly-stale', 'nightly']);
  // Neither has queued anything (the service's worker would take a due tick within a moment).
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual((await producer.ctx.tracker.listBatches(10)).filter((b) => b.purpose === 'reindex'), [], 'no re-index before the first interval');
  assert.equal((await producer.ctx.queues.maintenance.getJobCounts('waiting', 'active', 'completed')).completed, 0);

  // Asked to run now: the first tick is due at once, and the service's worker queues the re-index.
  const now = await schedules.upsert({ id: 'hourly-now', kind: 'stale', everyMs: 3_600_000, runNow: true });
  assert.ok(now.nextRunAt !== null && now.nextRunAt < Date.now() + 3_600_000 - 1000, `due at once: ${now.nextRunAt}`);
  let batches = await producer.ctx.tracker.listBatches(10);
  for (let i = 0; i < 100 && !batches.some((b) => b.purpose === 'reindex' && b.finishedAt !== undefined); i += 1) {
    await new Promise((r) => setTimeout(r, 100));
    batches = await producer.ctx.tracker.listBatches(10);
  }
  const reindex = batches.find((b) => b.purpose === 'reindex');
  assert.ok(reindex, 'the tick queued a re-index batch');
  assert.equal(reindex.source, 'reindex stale');
  assert.ok(reindex.ingested && reindex.finishedAt !== undefined, 'the (empty) re-index batch finished');

  // Same id again replaces it.
  await schedules.upsert({ id: 'nightly', kind: 'classify', cron: '30 4 * * *', tz: 'UTC' });
  assert.equal((await schedules.get('nightly'))?.cron, '30 4 * * *');
  assert.equal(await schedules.remove('nightly'), true);
  assert.equal(await schedules.remove('nightly'), false);
  assert.equal(await schedules.remove('hourly-now'), true);
  assert.deepEqual((await schedules.list()).map((s) => s.id), ['hourly-stale']);
});

test('a cron pattern BullMQ cannot parse is INVALID_PAYLOAD, and nothing is stored', async () => {
  const schedules = new ReindexSchedules(producer.ctx.queues);
  await assert.rejects(
    schedules.upsert({ id: 'broken', kind: 'stale', cron: '99 99 * * *' }),
    (err: unknown) => err instanceof FacepipeError && err.code === 'INVALID_PAYLOAD',
  );
  assert.equal(await schedules.get('broken'), undefined);
});
