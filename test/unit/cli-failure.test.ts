import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, FacepipeError } from '@facepipe/core';
import { describeFailure, ExitCode } from '@facepipe/cli';

const sysError = (code: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(`${code} something`), { code, ...extra });

test('file errors name the path and exit 4', () => {
  const f = describeFailure(sysError('ENOENT', { path: '/photos/missing' }), 'ingest');
  assert.deepEqual(f, { message: 'facepipe ingest: /photos/missing: no such file or folder', exitCode: ExitCode.File, known: true });
  assert.equal(describeFailure(sysError('EACCES', { path: '/x' }), 'results').exitCode, 4);
});

test('connection errors, however deeply wrapped, exit 3 and name the settings to check', () => {
  const wrapped = new Error('cannot reach Redis', { cause: new AggregateError([sysError('ECONNREFUSED', { address: '127.0.0.1', port: 6379 })]) });
  const f = describeFailure(wrapped, 'status');
  assert.equal(f.exitCode, ExitCode.Unreachable);
  assert.match(f.message, /cannot reach Redis 127\.0\.0\.1:6379 \(ECONNREFUSED\).*REDIS_URL/);
  const saved = process.env.S3_ENDPOINT;
  process.env.S3_ENDPOINT = 'http://127.0.0.1:9123';
  try {
    const s3 = describeFailure(new Error('head x', { cause: sysError('ECONNREFUSED', { address: '127.0.0.1', port: 9123 }) }), 'ingest');
    assert.match(s3.message, /cannot reach S3 127\.0\.0\.1:9123 \(ECONNREFUSED\).*Check S3_ENDPOINT /);
  } finally {
    if (saved === undefined) delete process.env.S3_ENDPOINT;
    else process.env.S3_ENDPOINT = saved;
  }
  const retries = Object.assign(new Error('Reached the max retries per request limit (which is 3).'), { name: 'MaxRetriesPerRequestError' });
  assert.equal(describeFailure(retries, 'ingest').exitCode, ExitCode.Unreachable);
  assert.equal(describeFailure(new FacepipeError('STORAGE_UNAVAILABLE', 'put x: connect ECONNREFUSED'), 'ingest').exitCode, ExitCode.Unreachable);
});

test('a port in use names the setting; config errors exit 2; typed errors keep their code', () => {
  const port = describeFailure(Object.assign(sysError('EADDRINUSE'), { port: 8080 }), 'serve');
  assert.match(port.message, /port 8080 is in use.*FACEPIPE_HTTP_PORT/);
  assert.equal(port.exitCode, ExitCode.Usage);
  assert.equal(describeFailure(new ConfigError(['REDIS_URL ("x"): Invalid URL']), 'status').exitCode, ExitCode.Usage);
  const typed = describeFailure(new FacepipeError('CORRUPT_IMAGE', 'bad bytes'), 'results');
  assert.deepEqual(typed, { message: 'facepipe results: [CORRUPT_IMAGE] bad bytes', exitCode: ExitCode.Failed, known: true });
  assert.equal(describeFailure(new Error('surprise'), 'status').known, false, 'unknown errors point at --debug');
});
