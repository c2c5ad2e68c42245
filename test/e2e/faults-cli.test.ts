import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { BatchTracker, closeRedis, createRedisConnection, loadConfig, objectKeys, S3ObjectStore } from '@facepipe/core';
import { freePort } from '@facepipe/devstack';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startS3, type TestS3 } from '../helpers/s3-server.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'packages/cli/dist/main.js');

/** Runs the CLI; `readLines` > 0 closes its stdout after that many lines (as `| head` does). */
function facepipe(args: string[], env: Record<string, string>, readLines = 0): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (readLines > 0 && stdout.split('\n').length > readLines) child.stdout.destroy();
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('CLI error paths: one line that names the fix, documented exit codes', () => {
  let redis: TestRedis;
  let s3: TestS3;
  let env: Record<string, string>;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'facepipe-cli-faults-'));
    [redis, s3] = await Promise.all([startRedis(), startS3('cli-faults', 'local')]);
    env = { REDIS_URL: redis.url, ...s3.env, FACEPIPE_REDIS_PREFIX: `c${randomUUID().slice(0, 8)}`, FACEPIPE_LOG_LEVEL: 'warn' };
  });
  after(async () => {
    await Promise.allSettled([redis?.stop(), s3?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  test('ingest of a missing folder: exit 4, one line, no batch left behind', async () => {
    const missing = join(dir, 'no-such-folder');
    const { code, stderr, stdout } = await facepipe(['ingest', missing, '--wait'], env);
    assert.equal(code, 4, stderr);
    assert.equal(stdout, '');
    assert.equal(stderr.trim().split('\n').length, 1, stderr);
    assert.match(stderr, /no-such-folder: no such file or folder/);
    const connection = createRedisConnection(redis.url, 'client');
    try {
      assert.deepEqual(await new BatchTracker(connection, { prefix: env.FACEPIPE_REDIS_PREFIX! }).listBatches(), [], 'no open batch');
    } finally {
      await closeRedis(connection);
    }
  });

  test('Redis unreachable: exit 3 and a line naming REDIS_URL; --debug adds the stack', async () => {
    const down = { ...env, REDIS_URL: `redis://127.0.0.1:${await freePort()}` };
    const plain = await facepipe(['status'], down);
    assert.equal(plain.code, 3, plain.stderr);
    assert.match(plain.stderr, /cannot reach Redis.*REDIS_URL/);
    assert.equal(plain.stderr.trim().split('\n').length, 1, plain.stderr);
    assert.doesNotMatch(plain.stderr, /\n\s+at /, 'no stack trace');
    const debug = await facepipe(['status', '--debug'], down);
    assert.equal(debug.code, 3);
    assert.match(debug.stderr, /\n\s+at /, '--debug shows the stack');
  });

  test('`facepipe results <batch> | head` ends quietly on EPIPE', async () => {
    const config = loadConfig(env);
    const connection = createRedisConnection(redis.url, 'client');
    const store = new S3ObjectStore({ bucket: config.s3.bucket, region: config.s3.region, endpoint: config.s3.endpoint, forcePathStyle: true, credentials: config.s3.credentials });
    try {
      await store.ensureBucket();
      const tracker = new BatchTracker(connection, { prefix: config.redis.prefix });
      const batchId = 'bepipe0000000001';
      await tracker.createBatch(batchId, 'ingest', 'test');
      const lines = Array.from({ length: 20_000 }, (_, index) => JSON.stringify({ index, source: `photo-${index}.jpg`, imageId: null, error: { code: 'NOT_AN_IMAGE', message: 'the file is not an image' } }));
      await store.put(objectKeys.batchManifestPart(batchId, 0), `${lines.join('\n')}\n`);
      await tracker.finishIngest(batchId, lines.length);
      const { code, stdout, stderr } = await facepipe(['results', batchId], env, 1);
      assert.ok(stdout.startsWith('{"file":"photo-0.jpg"'), stdout.slice(0, 200));
      assert.equal(stderr, '', 'nothing on stderr');
      assert.equal(code, 0);
    } finally {
      await store.close();
      await closeRedis(connection);
    }
  });
});
