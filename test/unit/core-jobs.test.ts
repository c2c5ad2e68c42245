import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FacepipeError,
  JobName,
  Logger,
  failureCode,
  formatFailure,
  isPersonName,
  jobIds,
  objectKeys,
  parseJobData,
  personFromMemberKey,
  versionTag,
} from '@facepipe/core';

const imageId = 'a'.repeat(64);
const valid = {
  imageId,
  originalKey: objectKeys.original(imageId),
  source: 'holiday/1.jpg',
  batchId: 'b1',
  enqueuedAt: 1,
  pipelineVersion: '0123456789ab',
};

test('job payloads are validated at the boundary with field names', () => {
  assert.deepEqual(parseJobData(JobName.DetectImage, valid), valid);
  assert.throws(
    () => parseJobData(JobName.EmbedFaces, { ...valid, faceCount: 0, detectVersion: 'x' }),
    (err: unknown) => err instanceof FacepipeError && err.code === 'INVALID_PAYLOAD' && /faceCount/.test(err.message) && /detectVersion/.test(err.message),
  );
  // Bytes never travel in payloads: unknown fields are stripped.
  const parsed = parseJobData(JobName.DetectImage, { ...valid, bytes: 'AAAA' }) as Record<string, unknown>;
  assert.equal(parsed.bytes, undefined);
});

test('keys and job ids are deterministic and free of ":"', () => {
  assert.equal(objectKeys.original(imageId), `originals/aa/${imageId}`);
  assert.equal(objectKeys.chips(imageId, '0123456789ab'), `faces/${imageId}/0123456789ab/chips.rgb`);
  assert.equal(objectKeys.previousChipsWebp(imageId, '0123456789ab'), `faces/${imageId}/0123456789ab/chips.webp`);
  assert.equal(objectKeys.legacyChipsPng(imageId, '0123456789ab'), `faces/${imageId}/0123456789ab/chips.png`);
  for (const id of [jobIds.detect(imageId, 'v'), jobIds.embed(imageId, 'v'), jobIds.classify(imageId, 'p')]) {
    assert.ok(!id.includes(':'));
  }
  assert.equal(versionTag({ a: 1, b: 'x' }), versionTag({ b: 'x', a: 1 }));
  assert.notEqual(versionTag({ a: 1 }), versionTag({ a: 2 }));
  assert.match(versionTag({ a: 1 }), /^[0-9a-f]{12}$/);
});

test('person names are checked and survive the round trip through keys', () => {
  for (const name of ['obama', 'Rose Leslie', 'José Ñúñez', "O'Brien", 'kit_harington']) {
    assert.ok(isPersonName(name), name);
    assert.equal(personFromMemberKey(objectKeys.galleryMember(name, imageId)), name);
  }
  for (const name of ['', ' lead', '../etc', 'a/b', 'x'.repeat(101)]) assert.ok(!isPersonName(name), name);
});

test('failure reasons carry their code', () => {
  const reason = formatFailure(new FacepipeError('TRUNCATED_IMAGE', 'cut short'));
  assert.equal(reason, '[TRUNCATED_IMAGE] cut short');
  assert.equal(failureCode(reason), 'TRUNCATED_IMAGE');
  assert.equal(failureCode('something else'), 'INTERNAL');
});

test('FacepipeError.from keeps typed errors and classifies the rest as retryable INTERNAL', () => {
  const typed = new FacepipeError('CORRUPT_IMAGE');
  assert.equal(FacepipeError.from(typed), typed);
  assert.equal(typed.retryable, false);
  const other = FacepipeError.from(new Error('boom'));
  assert.equal(other.code, 'INTERNAL');
  assert.equal(other.retryable, true);
});

test('logger writes JSON lines with context and never secrets', () => {
  const lines: string[] = [];
  const log = new Logger({ level: 'info', sink: (l) => lines.push(l) }).child({ queue: 'detect', jobId: 'j1' });
  log.debug('hidden');
  log.info('hello', { token: 'abc', imageId: 'i' });
  assert.equal(lines.length, 1);
  const record = JSON.parse(lines[0]!);
  assert.equal(record.msg, 'hello');
  assert.equal(record.queue, 'detect');
  assert.equal(record.jobId, 'j1');
  assert.equal(record.token, '[redacted]');
  assert.equal(record.imageId, 'i');
});
