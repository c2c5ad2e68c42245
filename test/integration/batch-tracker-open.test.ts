import { test } from 'node:test';
import assert from 'node:assert/strict';
import { testImageId, trackerFixture } from '../helpers/tracker.js';

const fixture = trackerFixture();
const img = testImageId;
const tracker = () => fixture.tracker;

test('an open batch takes items until it is closed, and finishes once they are all done', async () => {
  assert.equal(await tracker().addOpenItem('nope'), undefined);
  assert.equal(await tracker().closeBatch('nope'), undefined);
  await tracker().createBatch('u1', 'ingest', 'upload');
  const indexes = await Promise.all([tracker().addOpenItem('u1'), tracker().addOpenItem('u1'), tracker().addOpenItem('u1')]);
  assert.deepEqual([...indexes].sort(), [0, 1, 2]);
  for (const i of [0, 1]) {
    await tracker().claimImage(img(i), 'v1', 'u1', i);
    await tracker().completeImage(img(i), 'v1', { kind: 'done', faces: 1 });
  }
  let batch = await tracker().getBatch('u1');
  assert.equal(batch?.ingested, false);
  assert.equal(batch?.finishedAt, undefined, 'an open batch never finishes');
  assert.equal(await tracker().closeBatch('u1'), 3);
  assert.equal(await tracker().addOpenItem('u1'), undefined, 'a closed batch takes no more items');
  batch = await tracker().getBatch('u1');
  assert.equal(batch?.ingested, true);
  assert.equal(batch?.total, 3);
  assert.equal(batch?.finishedAt, undefined);
  await tracker().markItem('u1', 2, { kind: 'failed', code: 'NOT_AN_IMAGE' });
  assert.ok((await tracker().getBatch('u1'))?.finishedAt);
});

test('closing a batch whose items are all finished finishes it at once', async () => {
  await tracker().createBatch('u2', 'ingest', 'upload');
  await tracker().markItem('u2', (await tracker().addOpenItem('u2'))!, { kind: 'failed', code: 'EMPTY_INPUT' });
  await tracker().closeBatch('u2');
  assert.ok((await tracker().getBatch('u2'))?.finishedAt);
});

test('a failed image retried later and done counts as done in the batches that waited on it', async () => {
  await tracker().createBatch('u3', 'ingest', 'upload');
  const index = (await tracker().addOpenItem('u3'))!;
  await tracker().claimImage(img(30), 'v1', 'u3', index);
  await tracker().closeBatch('u3');
  await tracker().completeImage(img(30), 'v1', { kind: 'failed', code: 'STORAGE_UNAVAILABLE', queue: 'detect', jobId: 'det_x' });
  let batch = await tracker().getBatch('u3');
  assert.equal(batch?.failed, 1);
  assert.ok(batch?.finishedAt);
  // The failed job is retried (no new claim) and succeeds.
  assert.equal(await tracker().completeImage(img(30), 'v1', { kind: 'done', faces: 2 }), 1);
  batch = await tracker().getBatch('u3');
  assert.equal(batch?.failed, 0);
  assert.equal(batch?.done, 1);
  assert.equal(batch?.faces, 2);
  assert.deepEqual((await tracker().imageState(img(30)))?.state, 'done');
});
