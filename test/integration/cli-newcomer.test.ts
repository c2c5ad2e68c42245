import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchTracker, closeRedis, createRedisConnection } from '@facepipe/core';
import { cliEntry, freshShellEnv, runCli } from '../helpers/cli.js';
import { dataPath, missingData } from '../helpers/data.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startS3, type TestS3 } from '../helpers/s3-server.js';

// What a newcomer runs into with nothing set up, and the human output of the commands that
// follow a deployment: each in its own empty folder, as a fresh shell runs them.

const photos = 'recognition/face_recognition_examples/knn_test';

describe('no deployment running: the library commands say so and create nothing', () => {
  let cwd: string;
  before(() => {
    cwd = mkdtempSync(join(tmpdir(), 'facepipe-newcomer-'));
  });
  after(() => rmSync(cwd, { recursive: true, force: true }));

  for (const args of [['people'], ['people', '--json'], ['clusters'], ['people', 'name', 'c1', 'Ann'], ['search', dataPath(photos, 'obama1.jpg')]]) {
    test(`facepipe ${args.join(' ').replace(dataPath(photos), '…')}`, async () => {
      const r = await runCli(args, { cwd });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /no local deployment is running in .*\.facepipe and DATABASE_URL is not set: start one with `facepipe up/);
      assert.doesNotMatch(r.stderr, /nobody yet|\n\s+at /);
      assert.equal(r.stdout, '');
      assert.deepEqual(readdirSync(cwd), [], 'no database (or anything else) was created');
    });
  }
});

describe('facepipe run checks its folders and output before starting anything', () => {
  let cwd: string;
  before(() => {
    cwd = mkdtempSync(join(tmpdir(), 'facepipe-run-args-'));
    writeFileSync(join(cwd, 'a-file.jpg'), 'not a folder');
  });
  after(() => rmSync(cwd, { recursive: true, force: true }));

  const cases: { args: string[]; code: number; says: RegExp }[] = [
    { args: ['no-such-photos'], code: 4, says: /facepipe run: no-such-photos: no such file or folder/ },
    { args: [dataPath(photos), '--enroll', 'no-such-people'], code: 4, says: /facepipe run: no-such-people: no such file or folder/ },
    { args: [dataPath(photos), '--enroll', 'a-file.jpg'], code: 2, says: /--enroll a-file\.jpg is not a folder/ },
    { args: [dataPath(photos), '--out', 'no-such-folder/results.jsonl'], code: 2, says: /--out no-such-folder\/results\.jsonl: cannot write in .*no-such-folder \(no such folder\)/ },
  ];
  for (const { args, code, says } of cases) {
    test(`facepipe run ${args.join(' ').replace(dataPath(photos), 'photos/')}`, { skip: missingData(photos) }, async () => {
      const r = await runCli(['run', ...args], { cwd });
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, says);
      assert.ok(!existsSync(join(cwd, '.facepipe')), 'no stack was started (it would have made .facepipe)');
    });
  }
});

test('facepipe up on a port another program holds: a clear error, nothing started, the kept port unchanged', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'facepipe-up-port-'));
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const port = (holder.address() as AddressInfo).port;
  try {
    const taken = await runCli(['up', '--port', String(port)], { cwd });
    assert.equal(taken.code, 2, taken.stderr);
    assert.match(taken.stderr, new RegExp(`facepipe up: port ${port} is in use by another program: .*facepipe up --port <n>`));
    assert.ok(!existsSync(join(cwd, '.facepipe', 'deployment.json')), 'no deployment was started');
    assert.ok(!existsSync(join(cwd, '.facepipe', 'port')), 'a port that could not be had is not kept');
    // The data dir's kept port, held by another program: the message says where it is kept.
    mkdirSync(join(cwd, '.facepipe'), { recursive: true, mode: 0o700 }); // owner-only, as up makes it
    writeFileSync(join(cwd, '.facepipe', 'port'), `${port}\n`);
    const kept = await runCli(['up'], { cwd });
    assert.equal(kept.code, 2, kept.stderr);
    assert.match(kept.stderr, new RegExp(`port ${port} \\(this data dir's, kept in .*port\\) is in use`));
  } finally {
    holder.close();
    rmSync(cwd, { recursive: true, force: true });
  }
});

describe('ingest --wait on a deployment: plain output, and Ctrl-C leaves the batch going', { skip: missingData(photos) }, () => {
  let redis: TestRedis;
  let s3: TestS3;
  let env: Record<string, string | undefined>;
  let cwd: string;
  let prefix: string;

  before(async () => {
    cwd = mkdtempSync(join(tmpdir(), 'facepipe-ingest-wait-'));
    [redis, s3] = await Promise.all([startRedis(), startS3(`w${randomUUID().slice(0, 8)}`, 'local')]);
    prefix = `w${randomUUID().slice(0, 8)}`;
    // The default log level (info): the producer logs "batch ingested", which must not reach the terminal.
    env = freshShellEnv({ REDIS_URL: redis.url, ...s3.env, FACEPIPE_REDIS_PREFIX: prefix, FACEPIPE_LOG_LEVEL: 'info' });
  });
  after(async () => {
    await Promise.allSettled([redis?.stop(), s3?.stop()]);
    rmSync(cwd, { recursive: true, force: true });
  });

  test('no worker takes the batch; the first Ctrl-C ends the wait, says the batch goes on and how to follow it', async () => {
    const child = spawn(process.execPath, [cliEntry, 'ingest', dataPath(photos), '--wait'], { cwd, env: env as NodeJS.ProcessEnv });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));

    const redisClient = createRedisConnection(redis.url, 'client');
    const tracker = new BatchTracker(redisClient, { prefix });
    try {
      // Waiting: the batch is fully queued (nothing processes it: no workers here).
      let batchId: string | undefined;
      for (let i = 0; i < 300; i += 1) {
        batchId = /^batch (\S+)$/m.exec(stdout)?.[1];
        if (batchId && (await tracker.getBatch(batchId))?.ingested) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(batchId, stdout + stderr);
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGINT');
      const code = await exited;
      assert.equal(code, 130, stderr);
      assert.match(stderr, new RegExp(`stopped waiting; batch ${batchId} goes on in the deployment\\. Follow it with: facepipe status ${batchId}`));
      assert.doesNotMatch(stdout + stderr, /\{"time"/, 'no JSON log line in a command\'s output');
      const batch = await tracker.getBatch(batchId);
      assert.equal(batch?.total, 5, 'the batch is still there, whole');
    } finally {
      child.kill('SIGKILL');
      await closeRedis(redisClient);
    }
  });
});
