import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { objectKeys, type ResultDocument } from '@facepipe/core';
import { dataPath, missingData } from '../helpers/data.js';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.js';

const photos = 'recognition/face_recognition_examples/knn_test';

/**
 * A store failure is never blamed on the input: an original gone from facepipe's own store
 * fails its image as STORED_OBJECT_MISSING (a system failure), and ingesting the same folder
 * again stores it anew and processes the image, instead of answering with the old failure.
 */
describe('a re-ingest heals images whose last outcome was a system failure', { skip: missingData(photos) }, () => {
  let pipeline: TestPipeline;

  before(async () => {
    // One attempt: the failure is final at once instead of after the retry window.
    pipeline = await startPipeline({ FACEPIPE_JOB_ATTEMPTS: '1' });
  });
  after(async () => {
    await pipeline?.stop();
  });

  test('an original lost from the store: STORED_OBJECT_MISSING, then healed by ingesting the folder again', async () => {
    const { producer } = pipeline;
    await producer.ctx.queues.detect.pause();
    const { batchId } = await producer.ingest({ input: dataPath(photos) });
    // Admitted and queued, not processed yet: lose one original.
    const lost = (await producer.getBatch(batchId))!;
    assert.ok(lost.total >= 3);
    let victim: string | undefined;
    for await (const o of producer.ctx.store.list('originals/')) {
      victim = o.key.slice(o.key.lastIndexOf('/') + 1);
      break;
    }
    await producer.ctx.store.delete(objectKeys.original(victim!));
    await producer.ctx.queues.detect.resume();
    const first = await producer.waitForBatch(batchId);
    assert.equal(first.failed, 1);
    assert.deepEqual(Object.keys(first.errors ?? {}), ['STORED_OBJECT_MISSING']);
    const failed = await producer.ctx.store.getJson<ResultDocument>(objectKeys.result(victim!));
    assert.equal(failed?.error?.code, 'STORED_OBJECT_MISSING');

    const again = await pipeline.ingestAndWait(dataPath(photos));
    assert.equal(again.batch.failed, 0, JSON.stringify(again.batch.errors));
    assert.equal(again.batch.done, first.total);
    const healed = await producer.ctx.store.getJson<ResultDocument>(objectKeys.result(victim!));
    assert.equal(healed?.status, 'done');
    assert.ok((await producer.ctx.store.head(objectKeys.original(victim!))) !== undefined, 'the original is stored again');
  });
});
