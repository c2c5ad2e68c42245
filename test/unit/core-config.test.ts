import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@facepipe/core';

test('defaults give a working local configuration', () => {
  const config = loadConfig({});
  assert.equal(config.redis.url, 'redis://127.0.0.1:6379');
  assert.equal(config.s3.bucket, 'facepipe');
  assert.equal(config.s3.forcePathStyle, false);
  assert.equal(config.embed.batchSize, 32);
  assert.equal(config.classify.tolerance, 0.6);
  assert.equal(config.inference.executionProvider, 'cpu');
  assert.equal(config.embed.flip, false);
});

test('values are coerced and grouped; empty strings count as unset', () => {
  const config = loadConfig({
    S3_ENDPOINT: 'http://127.0.0.1:9000',
    FACEPIPE_EMBED_BATCH_SIZE: '8',
    FACEPIPE_EMBED_FLIP: 'true',
    FACEPIPE_MATCH_TOLERANCE: '0.55',
    FACEPIPE_CLASSIFIER: '',
  });
  assert.equal(config.s3.forcePathStyle, true);
  assert.equal(config.embed.batchSize, 8);
  assert.equal(config.embed.flip, true);
  assert.equal(config.classify.tolerance, 0.55);
  assert.equal(config.classify.classifier, 'nearest');
});

test('every bad variable is named in one error a person can act on', () => {
  assert.throws(
    () => loadConfig({ FACEPIPE_EMBED_BATCH_SIZE: 'lots', FACEPIPE_EXECUTION_PROVIDER: 'tpu', S3_BUCKET: 'Bad_Bucket' }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /FACEPIPE_EMBED_BATCH_SIZE \("lots"\)/);
      assert.match(err.message, /FACEPIPE_EXECUTION_PROVIDER \("tpu"\)/);
      assert.match(err.message, /S3_BUCKET/);
      assert.match(err.message, /docs\/configuration\.md/);
      return true;
    },
  );
});

test('S3 credentials must come in pairs', () => {
  assert.throws(() => loadConfig({ S3_ACCESS_KEY_ID: 'abc' }), /S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY/);
});

test('the detect passes and the NOT_A_FACE checks are name sets: all, none or a list; anything else fails with the allowed names', () => {
  const d = loadConfig({});
  assert.deepEqual(d.detect.passes, { padded: true, tiles: true, turned: true });
  assert.deepEqual(d.detect.notAFace, { animal: true, mirror: false });
  assert.deepEqual(loadConfig({ FACEPIPE_NOT_A_FACE_CHECKS: 'none' }).detect.notAFace, { animal: false, mirror: false });
  assert.deepEqual(loadConfig({ FACEPIPE_NOT_A_FACE_CHECKS: 'all' }).detect.notAFace, { animal: true, mirror: true });
  assert.deepEqual(loadConfig({ FACEPIPE_NOT_A_FACE_CHECKS: 'mirror, animal' }).detect.notAFace, { animal: true, mirror: true });
  assert.deepEqual(loadConfig({ FACEPIPE_DETECT_PASSES: 'tiles' }).detect.passes, { padded: false, tiles: true, turned: false });
  assert.throws(() => loadConfig({ FACEPIPE_NOT_A_FACE_CHECKS: 'animals' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /FACEPIPE_NOT_A_FACE_CHECKS.*all, none, or a comma-separated list of animal, mirror/s);
    return true;
  });
  assert.throws(() => loadConfig({ FACEPIPE_DETECT_PASSES: 'all,tiles' }), /padded, tiles, turned/);
});
