import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchTracker } from '@facepipe/core';
import { testImageId, trackerFixture } from '../helpers/tracker.js';

const fixture = trackerFixture();
const img = testImageId;
const tracker = () => fixture.tracker;

test('a batch finishes when every item is done or failed, and marking is idempotent', async () => {
  await tracker().createBatch('b1', 'ingest', 'test');
  const indexes = [await tracker().addItem('b1'), await tracker().addItem('b1'), await tracker().addItem('b1')];
  assert.deepEqual(indexes, [0, 1, 2]);
  for (const [i, index] of indexes.entries()) {
    assert.deepEqual(await tracker().claimImage(img(i), 'v1', 'b1', index), { kind: 'enqueue', failedQueue: undefined, failedJobId: undefined });
  }
  await tracker().finishIngest('b1', 3);
  await tracker().completeImage(img(0), 'v1', { kind: 'done', faces: 2 });
  await tracker().completeImage(img(0), 'v1', { kind: 'done', faces: 2 }); // retry: no double count
  await tracker().completeImage(img(1), 'v1', { kind: 'failed', code: 'CORRUPT_IMAGE', queue: 'detect', jobId: 'j' });
  let batch = await tracker().getBatch('b1');
  assert.equal(batch?.done, 1);
  assert.equal(batch?.faces, 2);
  assert.equal(batch?.failed, 1);
  assert.deepEqual(batch?.errors, { CORRUPT_IMAGE: 1 });
  assert.equal(batch?.finishedAt, undefined);
  await tracker().completeImage(img(2), 'v1', { kind: 'done', faces: 0 });
  batch = await tracker().getBatch('b1');
  assert.equal(batch?.done, 2);
  assert.ok(batch?.finishedAt);
  assert.equal(await tracker().itemState('b1', 1), 'failed');
});

test('an image in flight is processed once for every batch waiting on it', async () => {
  await tracker().createBatch('b2', 'ingest', 'a');
  await tracker().createBatch('b3', 'ingest', 'b');
  const first = await tracker().claimImage(img(10), 'v1', 'b2', await tracker().addItem('b2'));
  const second = await tracker().claimImage(img(10), 'v1', 'b3', await tracker().addItem('b3'));
  assert.equal(first.kind, 'enqueue');
  assert.equal(second.kind, 'attached');
  assert.equal(await tracker().completeImage(img(10), 'v1', { kind: 'done', faces: 1 }), 2);
  assert.equal((await tracker().getBatch('b2'))?.done, 1);
  assert.equal((await tracker().getBatch('b3'))?.done, 1);
  // Same bytes again later: answered from memory, not queued.
  await tracker().createBatch('b4', 'ingest', 'c');
  assert.deepEqual(await tracker().claimImage(img(10), 'v1', 'b4', await tracker().addItem('b4')), { kind: 'done', faces: 1, code: '' });
  // A new pipeline version, or force, queues it again.
  assert.equal((await tracker().claimImage(img(10), 'v2', 'b4', 0)).kind, 'enqueue');
});

test('a failed image is queued again by a later batch, which learns where the failed job is', async () => {
  await tracker().createBatch('b5', 'ingest', 'x');
  await tracker().claimImage(img(20), 'v1', 'b5', await tracker().addItem('b5'));
  await tracker().completeImage(img(20), 'v1', { kind: 'failed', code: 'MODEL_ERROR', queue: 'embed', jobId: 'emb_1' });
  await tracker().createBatch('b6', 'ingest', 'y');
  const again = await tracker().claimImage(img(20), 'v1', 'b6', await tracker().addItem('b6'));
  assert.deepEqual(again, { kind: 'enqueue', failedQueue: 'embed', failedJobId: 'emb_1' });
  // Success after a failure in the same batch flips the counts.
  await tracker().claimImage(img(20), 'v1', 'b5', 0, true);
  await tracker().completeImage(img(20), 'v1', { kind: 'done', faces: 3 });
  const b5 = await tracker().getBatch('b5');
  assert.equal(b5?.failed, 0);
  assert.equal(b5?.done, 1);
});

test('batches are listed newest first', async () => {
  const list = await tracker().listBatches(3);
  assert.equal(list.length, 3);
  assert.ok(list[0]!.createdAt >= list[1]!.createdAt);
});

test('a done image is remembered for rememberDoneSeconds (0 = not at all), a failed one for rememberFailedSeconds', async () => {
  const { redis } = fixture;
  const forgetful = new BatchTracker(redis, { prefix: 'rem0', rememberDoneSeconds: 0, rememberFailedSeconds: 120 });
  await forgetful.createBatch('r1', 'ingest', 'test');
  for (const i of [0, 1]) {
    assert.equal((await forgetful.claimImage(img(900 + i), 'v1', 'r1', await forgetful.addItem('r1'))).kind, 'enqueue');
  }
  assert.equal(await forgetful.completeImage(img(900), 'v1', { kind: 'done', faces: 1 }), 1);
  assert.equal(await redis.exists(`rem0:img:${img(900)}`), 0, 'nothing kept of a done image');
  assert.equal((await forgetful.getBatch('r1'))?.done, 1, 'the batch still counted it');
  assert.equal((await forgetful.claimImage(img(900), 'v1', 'r1', await forgetful.addItem('r1'))).kind, 'enqueue', 'a repeat goes to the S3 lookup');
  await forgetful.completeImage(img(901), 'v1', { kind: 'failed', code: 'CORRUPT_IMAGE', queue: 'detect', jobId: 'j1' });
  const failedTtl = await redis.ttl(`rem0:img:${img(901)}`);
  assert.ok(failedTtl > 100 && failedTtl <= 120, `failed image kept ${failedTtl} s`);

  const defaults = new BatchTracker(redis, { prefix: 'remd' });
  await defaults.createBatch('r2', 'ingest', 'test');
  await defaults.claimImage(img(902), 'v1', 'r2', await defaults.addItem('r2'));
  await defaults.completeImage(img(902), 'v1', { kind: 'done', faces: 2 });
  const doneTtl = await redis.ttl(`remd:img:${img(902)}`);
  assert.ok(doneTtl > 3500 && doneTtl <= 3600, `done image kept ${doneTtl} s by default`);
  assert.deepEqual(await defaults.claimImage(img(902), 'v1', 'r2', await defaults.addItem('r2')), { kind: 'done', faces: 2, code: '' });
  assert.throws(() => new BatchTracker(redis, { prefix: 'x', rememberFailedSeconds: 0 }), RangeError);
});

test('at most rememberDoneMax done images are remembered: the oldest are forgotten, an image queued again is not', async () => {
  const { redis } = fixture;
  const capped = new BatchTracker(redis, { prefix: 'remx', rememberDoneMax: 3 });
  await capped.createBatch('c1', 'ingest', 'test');
  const ids = [0, 1, 2, 3, 4].map((i) => img(950 + i));
  for (const id of ids) assert.equal((await capped.claimImage(id, 'v1', 'c1', await capped.addItem('c1'))).kind, 'enqueue');
  // The first image is queued again (a forced re-run) before it would be forgotten.
  await capped.completeImage(ids[0]!, 'v1', { kind: 'done', faces: 1 });
  assert.equal((await capped.claimImage(ids[0]!, 'v1', 'c1', await capped.addItem('c1'), true)).kind, 'enqueue');
  for (const id of ids.slice(1)) await capped.completeImage(id, 'v1', { kind: 'done', faces: 1 });
  assert.equal((await capped.getBatch('c1'))?.done, 5, 'every item counted');
  assert.equal(await redis.llen('remx:remembered-done'), 3);
  assert.equal((await capped.imageState(ids[0]!))?.state, 'queued', 'the image in flight again is not forgotten');
  assert.equal(await capped.imageState(ids[1]!), undefined, 'the oldest done image is forgotten');
  for (const id of ids.slice(2)) assert.equal((await capped.claimImage(id, 'v1', 'c1', await capped.addItem('c1'))).kind, 'done', 'the newest are remembered');
  assert.equal((await capped.claimImage(ids[1]!, 'v1', 'c1', await capped.addItem('c1'))).kind, 'enqueue', 'a forgotten image goes to the S3 lookup');
  assert.throws(() => new BatchTracker(redis, { prefix: 'x', rememberDoneMax: -1 }), RangeError);
});
