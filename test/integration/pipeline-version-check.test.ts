import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@facepipe/core';
import { configuredVersions } from '@facepipe/vision';
import { dataPath, missingData } from '../helpers/data.js';
import { startPipeline, type TestPipeline } from '../helpers/pipeline.js';

const photos = 'recognition/face_recognition_examples/knn_test';
const skip = missingData(photos);

/**
 * Settings are resolved once per process, and the pipeline version with them: a detect worker
 * deployed with other detection settings than the producer's must not mix its results with the
 * producer's version; each job fails, typed and counted, and nothing of that worker is stored.
 */
describe('a worker whose settings differ from the producer’s', { skip }, () => {
  let pipeline: TestPipeline;
  const workerSettings = { FACEPIPE_DETECT_MIN_SCORE: '0.61' };

  before(async () => {
    pipeline = await startPipeline({}, {}, { detect: workerSettings });
  });
  after(async () => {
    await pipeline?.stop();
  });

  test('fails each job as PIPELINE_VERSION_MISMATCH naming both versions; no detection is stored', async () => {
    const own = await configuredVersions(loadConfig({ ...pipeline.env, ...workerSettings }));
    assert.notEqual(own.pipeline, pipeline.producer.pipelineVersion, 'the settings give another version');
    const { batch, results } = await pipeline.ingestAndWait(dataPath(photos));
    assert.ok(batch.total >= 3);
    assert.equal(batch.done, 0);
    assert.equal(batch.failed, batch.total);
    for (const r of results) {
      const error = r.result?.error;
      assert.equal(error?.code, 'PIPELINE_VERSION_MISMATCH', `${r.source}: ${JSON.stringify(error)}`);
      assert.match(error.message, new RegExp(`made for pipeline ${pipeline.producer.pipelineVersion}.*produces ${own.pipeline}`));
      assert.equal(r.result?.faceCount, 0);
    }
    const stored: string[] = [];
    for await (const object of pipeline.producer.ctx.store.list('faces/')) stored.push(object.key);
    assert.deepEqual(stored, [], 'the mismatched worker stored no detection');
  });
});
