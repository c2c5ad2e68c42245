import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { loadConfig, type BatchInfo, type StageName } from '@facepipe/core';
import { batchResults, Producer, toResultLine } from '@facepipe/producer';
import { freePort, startEmbeddedS3, startLocalRedis, waitForWorkers, WorkerProcesses, type EmbeddedS3, type LocalRedis } from '@facepipe/devstack';
import { dataPath, missingData } from '../helpers/data.js';

/**
 * Faults against a deployment as it runs in production: each pool as processes, Redis with an
 * append-only file, facepipe's own S3 server, real photos. Every faulted pass is compared with a
 * clean pass: one result per input, equal to the clean one, counters that add up, the batch
 * finished. The long variants (10 s outages early and late, 180 s mid-batch, every pool killed) run only under CI=true.
 */
const CI = process.env.CI === 'true';
const lfw = 'recognition/lfw_dev/lfw-deepfunneled';
const skip = missingData(lfw);
const photoCount = CI ? 60 : 24;
const root = fileURLToPath(new URL('../..', import.meta.url));
const cli = join(root, 'packages/cli/dist/main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The recovery bound after a kill -9 (lock 5 s + stalled check 2.5 s + taking the job). */
const recoveryBoundMs = 10_000;

type Summary = Map<string, string>;

describe('faults: crashes, restarts and outages lose nothing', { skip, timeout: CI ? 1_500_000 : 300_000 }, () => {
  let dir: string;
  let photos: string;
  let redis: LocalRedis;
  let redisPort: number;
  let s3: EmbeddedS3 | undefined;
  let s3Port: number;
  let env: Record<string, string>;
  let pools: WorkerProcesses;
  let producer: Producer;
  let clean: Summary;
  const perPool = CI ? 2 : 1;

  // One secret (and Redis password) for every restart of the stores: the workers keep their settings.
  const storeSecret = randomUUID().replaceAll('-', '');
  const startStore = async () => {
    s3 = await startEmbeddedS3({ directory: join(dir, 's3'), port: s3Port, engine: 'local', secretAccessKey: storeSecret });
  };
  const startRedisServer = async () => {
    redis = await startLocalRedis({ directory: join(dir, 'redis'), appendOnly: true, port: redisPort, password: storeSecret });
  };
  const startPools = () => {
    const next = new WorkerProcesses(env, join(dir, `logs-${Date.now()}`));
    // Two detect processes always: a kill -9 leaves one to take the dead one's jobs back.
    next.start('detect', 2);
    next.start('embed', perPool);
    next.start('classify', perPool);
    return next;
  };
  const alive = (stage: StageName) => pools.processes.filter((p) => p.stage === stage && p.child.exitCode === null && p.child.signalCode === null);

  /** One line per input: faces (boxes to the pixel, names) or the error code. */
  const summarize = async (batchId: string): Promise<Summary> => {
    const out: Summary = new Map();
    for await (const { entry, result } of batchResults(producer.ctx.store, batchId)) {
      const line = toResultLine(entry, result);
      assert.ok(!out.has(line.file), `one result per input (${line.file} twice)`);
      out.set(line.file, 'error' in line ? `error ${line.error.code}` : JSON.stringify(line.faces.map((f) => [f.box.map(Math.round), f.match.name])));
    }
    return out;
  };

  const waitFinished = async (batchId: string, timeoutMs = CI ? 400_000 : 180_000): Promise<BatchInfo> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const batch = await producer.getBatch(batchId).catch(() => undefined);
      if (batch?.finishedAt !== undefined) return batch;
      if (Date.now() > deadline) throw new Error(`batch ${batchId} did not finish: ${JSON.stringify(batch)}`);
      await sleep(200);
    }
  };

  /**
   * The checks every faulted pass must pass; `failures` maps files expected to fail to their code.
   * A failure never replaces a good result of an earlier run (`kept`: the earlier passes wrote one).
   */
  const assertLikeClean = async (batch: BatchInfo, failures: Map<string, string> = new Map(), kept = false) => {
    assert.ok(batch.finishedAt, 'the batch finished');
    assert.equal(batch.total, photoCount);
    assert.equal(batch.done + batch.failed, batch.total, 'counters add up');
    assert.equal(batch.failed, failures.size, `failures: ${JSON.stringify(batch.errors)}`);
    const got = await summarize(batch.id);
    assert.equal(got.size, photoCount, 'a result for every input');
    for (const [file, expected] of clean) {
      const code = failures.get(file);
      assert.equal(got.get(file), code && !kept ? `error ${code}` : expected, file);
    }
  };

  const startPass = async () => (await producer.ingest({ input: photos, force: true })).batchId;
  const progress = async (batchId: string, fraction: number) => {
    for (;;) {
      const b = await producer.getBatch(batchId);
      if (b && b.done + b.failed >= Math.floor(b.total * fraction) && b.ingested) return;
      await sleep(50);
    }
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'facepipe-faults-'));
    photos = join(dir, 'photos');
    mkdirSync(photos);
    const people = readdirSync(dataPath(lfw)).sort();
    let n = 0;
    for (const person of people) {
      for (const file of readdirSync(dataPath(lfw, person)).sort()) {
        if (n < photoCount) copyFileSync(dataPath(lfw, person, file), join(photos, file));
        n += 1;
      }
    }
    [redisPort, s3Port] = [await freePort(), await freePort()];
    await startRedisServer();
    await startStore();
    env = {
      REDIS_URL: redis.url,
      ...s3!.env,
      S3_BUCKET: 'faults',
      FACEPIPE_REDIS_PREFIX: `f${randomUUID().slice(0, 8)}`,
      FACEPIPE_LOG_LEVEL: 'info',
      FACEPIPE_METRICS_PORT: '-1',
      FACEPIPE_DETECT_CONCURRENCY: '1',
      FACEPIPE_INFERENCE_THREADS: '1',
    };
    pools = startPools();
    producer = await Producer.connect(loadConfig({ ...env, FACEPIPE_LOG_LEVEL: 'silent' }), 'faults');
    await waitForWorkers(producer, pools, { timeoutMs: 180_000 });
    const batchId = await startPass();
    const batch = await waitFinished(batchId);
    assert.equal(batch.failed, 0, 'the clean pass has no failures');
    clean = await summarize(batchId);
    assert.equal(clean.size, photoCount);
  });
  after(async () => {
    await pools?.stop();
    await producer?.close();
    await s3?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** kill -9 of the process holding a job of `stage`; returns how long until its jobs were free again (back in the queue, or taken). */
  const killHolder = async (stage: StageName): Promise<number> => {
    const queue = producer.ctx.queues.byName(stage);
    for (;;) {
      const active = await queue.getActive();
      const victim = alive(stage).find((p) => active.some((j) => j.processedBy?.endsWith(`:${p.child.pid}`)));
      if (victim) {
        victim.child.kill('SIGSTOP'); // what it holds now is what the kill takes down
        const held = (await queue.getActive()).filter((j) => j.processedBy?.endsWith(`:${victim.child.pid}`));
        if (held.length === 0) {
          victim.child.kill('SIGCONT');
          continue;
        }
        const started = new Map(held.map((j) => [j.id!, j.attemptsStarted]));
        victim.child.kill('SIGKILL');
        const killedAt = Date.now();
        pools.start(stage); // a replacement, as an orchestrator would start
        for (;;) {
          const states = await Promise.all(
            [...started].map(async ([id, attempts]) => {
              const job = await queue.getJob(id);
              const state = job ? await job.getState() : 'gone';
              return state !== 'active' || (job?.attemptsStarted ?? 0) > attempts;
            }),
          );
          if (states.every(Boolean)) return Date.now() - killedAt;
          if (Date.now() - killedAt > 60_000) throw new Error(`${stage} jobs of the killed worker were not taken back`);
          await sleep(100);
        }
      }
      await sleep(20);
    }
  };

  for (const stage of CI ? (['detect', 'embed', 'classify'] as const) : (['detect'] as const)) {
    test(`kill -9 of one ${stage} worker: its jobs resume within ${recoveryBoundMs / 1000} s, nothing lost`, async () => {
      const batchId = await startPass();
      const recoveryMs = await killHolder(stage);
      console.log(`  recovery after kill -9 of ${stage}: ${(recoveryMs / 1000).toFixed(1)} s`);
      await assertLikeClean(await waitFinished(batchId));
      assert.ok(recoveryMs < recoveryBoundMs, `recovered in ${recoveryMs} ms`);
      await waitForWorkers(producer, undefined, { timeoutMs: 120_000 });
    });
  }

  test('a job whose worker is killed twice ends as WORKER_CRASHED, counted; everything else as clean', async () => {
    const detect = producer.ctx.queues.detect;
    const batchId = await startPass();
    // SIGSTOP first: a stopped process cannot finish its job, so what is active then is exactly
    // what the kill takes down.
    const freeze = (signal: NodeJS.Signals) => alive('detect').forEach((p) => p.child.kill(signal));
    const killAll = () => {
      freeze('SIGKILL');
      pools.start('detect', 2);
    };
    let heldOnce = new Set<string>();
    while (heldOnce.size === 0) {
      if ((await detect.getActiveCount()) > 0) {
        freeze('SIGSTOP');
        heldOnce = new Set((await detect.getActive()).map((j) => j.id!));
        if (heldOnce.size === 0) freeze('SIGCONT');
      }
      if (heldOnce.size === 0) await sleep(20);
    }
    killAll();
    // Taken back after the first crash (stalled once), they are killed again.
    let twice: string[] = [];
    const deadline = Date.now() + 90_000;
    while (twice.length === 0) {
      assert.ok(Date.now() < deadline, 'the stalled jobs were taken back');
      const again = (await detect.getActive()).filter((j) => heldOnce.has(j.id!) && j.stalledCounter >= 1);
      if (again.length > 0) {
        freeze('SIGSTOP');
        twice = (await detect.getActive()).filter((j) => heldOnce.has(j.id!) && j.stalledCounter >= 1).map((j) => j.data.source as string);
        if (twice.length === 0) freeze('SIGCONT');
      }
      if (twice.length === 0) await sleep(10);
    }
    killAll();
    const batch = await waitFinished(batchId);
    // The batch counts them as WORKER_CRASHED; their result documents keep the good result the
    // earlier passes wrote (a failed re-run never erases one), and Redis says why they failed.
    const sourceToImage = new Map<string, string>();
    for await (const { entry } of batchResults(producer.ctx.store, batchId)) if (entry.imageId) sourceToImage.set(entry.source, entry.imageId);
    const crashed: string[] = [];
    for (const [file, imageId] of sourceToImage) if ((await producer.ctx.tracker.imageState(imageId))?.code === 'WORKER_CRASHED') crashed.push(file);
    console.log(`  killed twice: ${twice.join(', ')}; counted WORKER_CRASHED: ${crashed.join(', ')}`);
    assert.deepEqual(crashed.sort(), twice.sort(), 'exactly the twice-crashed jobs are typed failures');
    assert.deepEqual(batch.errors, { WORKER_CRASHED: crashed.length });
    await assertLikeClean(batch, new Map(crashed.map((f) => [f, 'WORKER_CRASHED'])), true);
    await waitForWorkers(producer, undefined, { timeoutMs: 120_000 });
  });

  test('Redis restarts from its append-only file; `facepipe ingest --wait` prints the batch id first and rides it out', async () => {
    const child = spawn(process.execPath, [cli, 'ingest', photos, '--wait', '--force'], { env: { ...process.env, ...env, FACEPIPE_LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    while (!/^batch \S+\n/.test(stdout)) {
      assert.equal(child.exitCode, null, `ingest exited early: ${stderr}`);
      await sleep(20);
    }
    const batchId = /^batch (\S+)\n/.exec(stdout)![1]!;
    await progress(batchId, 0.3);
    await redis.stop();
    await sleep(CI ? 10_000 : 6000);
    await startRedisServer();
    const code = await exited;
    assert.equal(code, 0, `ingest --wait: ${stderr}`);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
    assert.match(stderr, /reconnecting/);
    assert.match(stdout, new RegExp(`batch ${batchId}: ${photoCount} done, 0 failed`));
    assert.doesNotMatch(stderr, /Warning|ECONNREFUSED\n/, 'no raw warnings or errors');
    await assertLikeClean(await waitFinished(batchId));
  });

  const outages: [string, number, number][] = CI
    ? [
        ['early', 0.1, 10_000],
        ['late', 0.85, 10_000],
        // Longer than any count-based retry budget would last: the time-based window rides it out.
        ['mid-batch', 0.5, 180_000],
      ]
    : [['late', 0.8, 8000]];
  for (const [when, fraction, ms] of outages) {
    test(`S3 down ${ms / 1000} s ${when} in a batch: no failure, nothing lost`, async () => {
      const batchId = await startPass();
      await progress(batchId, fraction);
      await s3?.close();
      await sleep(ms);
      await startStore();
      await assertLikeClean(await waitFinished(batchId));
    });
  }

  test('SIGTERM of every worker mid-batch: new workers finish it, nothing lost', async () => {
    const batchId = await startPass();
    await progress(batchId, 0.3);
    const old = pools;
    await old.stop();
    for (const p of old.processes) assert.ok(p.child.exitCode === 0 || p.child.signalCode === 'SIGKILL', `${p.stage} exit ${p.child.exitCode}`);
    pools = startPools();
    await waitForWorkers(producer, pools, { timeoutMs: 180_000 });
    await assertLikeClean(await waitFinished(batchId));
  });
});
