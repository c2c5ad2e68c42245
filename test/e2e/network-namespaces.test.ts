import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt, randomUUID } from 'node:crypto';
import { loadConfig, stageNames, type StageName } from '@facepipe/core';
import { startEmbeddedS3, startLocalRedis, workerEntry, type EmbeddedS3, type LocalRedis } from '@facepipe/devstack';
import { batchResults, Producer } from '@facepipe/producer';
import { dataPath, missingData } from '../helpers/data.js';

const photos = 'recognition/face_recognition_examples/knn_test';

/**
 * Proves nothing assumes one host: each pool runs in a network namespace of its own (its own
 * loopback, its own address), joined to the services' address by veth pairs on a bridge. Redis
 * and the S3-protocol server listen only on the bridge address, so the workers reach them over
 * TCP, and each worker gets a temporary folder of its own: the only thing they share is the code.
 */
const id = randomUUID().slice(0, 4);
const subnet = `10.213.${randomInt(1, 250)}`;
const hostAddress = `${subnet}.1`;
const bridge = `fpbr${id}`;
const namespaces = stageNames.map((stage, i) => ({ stage, ns: `fp${id}-${stage}`, veth: `fv${id}${i}`, address: `${subnet}.${i + 2}` }));

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

/** Why namespaces cannot be made here, or false when they can. */
function cannotMakeNamespaces(): string | false {
  const probe = `fp${id}-probe`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `network namespaces cannot be made here (ip netns add: ${(r.stderr || r.error?.message || '').trim()}); needs root and iproute2`;
  spawnSync('ip', ['netns', 'del', probe]);
  return false;
}

const skip = missingData(photos) || cannotMakeNamespaces();

let redis: LocalRedis | undefined;
let s3: EmbeddedS3 | undefined;
let producer: Producer | undefined;
const workers: { stage: StageName; child: ChildProcess; log: string }[] = [];
const dirs: string[] = [];

function cleanupNetwork(): void {
  for (const { ns } of namespaces) spawnSync('ip', ['netns', 'del', ns]);
  spawnSync('ip', ['link', 'del', bridge]);
}

before(async () => {
  if (skip) return;
  ip('link', 'add', bridge, 'type', 'bridge');
  ip('addr', 'add', `${hostAddress}/24`, 'dev', bridge);
  ip('link', 'set', bridge, 'up');
  for (const { ns, veth, address } of namespaces) {
    ip('netns', 'add', ns);
    ip('link', 'add', `${veth}a`, 'type', 'veth', 'peer', 'name', `${veth}b`);
    ip('link', 'set', `${veth}a`, 'master', bridge);
    ip('link', 'set', `${veth}a`, 'up');
    ip('link', 'set', `${veth}b`, 'netns', ns);
    ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/24`, 'dev', `${veth}b`);
    ip('netns', 'exec', ns, 'ip', 'link', 'set', `${veth}b`, 'up');
    ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
  }
}, { timeout: 30_000 });

after(async () => {
  await Promise.all(
    workers.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
          child.once('exit', () => (clearTimeout(timer), resolve()));
          child.kill('SIGTERM');
        }),
    ),
  );
  await producer?.close();
  await s3?.close();
  await redis?.stop();
  if (!skip) cleanupNetwork();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

test('each pool in its own network namespace processes a batch of real photos end to end, over TCP only', { skip, timeout: 300_000 }, async () => {
  const serviceDir = mkdtempSync(join(tmpdir(), 'facepipe-netns-services-'));
  dirs.push(serviceDir);
  redis = await startLocalRedis({ directory: join(serviceDir, 'redis'), bind: hostAddress });
  s3 = await startEmbeddedS3({ directory: join(serviceDir, 's3'), host: hostAddress });
  assert.ok(s3.endpoint.includes(hostAddress), 'the S3 server listens on the bridge address only');
  const env = {
    REDIS_URL: redis.url,
    ...s3.env,
    S3_BUCKET: 'netns',
    FACEPIPE_REDIS_PREFIX: `n${id}`,
    FACEPIPE_LOG_LEVEL: 'info',
    FACEPIPE_METRICS_PORT: '-1',
  };
  for (const { stage, ns } of namespaces) {
    const own = mkdtempSync(join(tmpdir(), `facepipe-netns-${stage}-`));
    dirs.push(own);
    const log = join(own, 'worker.log');
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, workerEntry(stage)], {
      env: { PATH: process.env.PATH, HOME: own, TMPDIR: own, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = createWriteStream(log);
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    workers.push({ stage, child, log });
  }
  producer = await Producer.connect(loadConfig({ ...env, FACEPIPE_LOG_LEVEL: 'warn' }), 'netns-test');
  const deadline = Date.now() + 180_000;
  for (;;) {
    const dead = workers.find((w) => w.child.exitCode !== null);
    if (dead) assert.fail(`worker-${dead.stage} exited in its namespace:\n${readFileSync(dead.log, 'utf8')}`);
    const counts = await Promise.all(stageNames.map((s) => producer!.ctx.queues.byName(s).getWorkersCount()));
    if (counts.every((c) => c > 0)) break;
    if (Date.now() > deadline) assert.fail(`workers did not register: ${JSON.stringify(counts)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  // Each worker registered from its own address, not from this host's.
  const clients = (await producer.ctx.redis.client('LIST')) as string;
  for (const { address } of namespaces) assert.match(clients, new RegExp(`addr=${address.replaceAll('.', '\\.')}:`), `a connection from ${address}`);

  const { batchId } = await producer.ingest({ input: dataPath(photos) });
  const batch = await producer.waitForBatch(batchId, undefined, 250);
  assert.equal(batch.total, 5);
  assert.equal(batch.done, 5, JSON.stringify(batch));
  assert.equal(batch.failed, 0);
  const lines = [];
  for await (const { entry, result } of batchResults(producer.ctx.store, batchId)) lines.push({ source: entry.source, faces: result?.faceCount ?? -1 });
  assert.equal(lines.length, 5);
  assert.ok(lines.every((l) => l.faces >= 1), JSON.stringify(lines));
  assert.equal(lines.find((l) => l.source === 'obama_and_biden.jpg')?.faces, 2);
});
