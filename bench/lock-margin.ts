/**
 * Event-loop delay of each stage process under full load, next to its lock-renewal margin
 * (half of FACEPIPE_LOCK_DURATION_MS: a job's lock lapses only if the loop stalls longer), the
 * measurement behind the lock/stalled-check defaults (docs/deployment.md, Operations).
 * The stages run as separate processes with the layout `facepipe run` uses; each logs
 * `event loop delay` (perf_hooks.monitorEventLoopDelay, 10 ms resolution) when it stops.
 *
 *   npx tsx bench/lock-margin.ts [folder] [--json]
 * Default folder: ../shared/data/recognition/lfw_dev/lfw-deepfunneled (233 photos).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@facepipe/core';
import { Producer } from '@facepipe/producer';
import { localStageSettings, startEmbeddedS3, startLocalRedis, WorkerProcesses } from '@facepipe/devstack';
import { testDataDir } from '../test/helpers/data.js';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { json: { type: 'boolean', default: false } } });
const folder = resolve(positionals[0] ?? join(testDataDir, 'recognition/lfw_dev/lfw-deepfunneled'));
const log = (msg: string) => process.stderr.write(`${msg}\n`);

const dir = mkdtempSync(join(tmpdir(), 'facepipe-lock-margin-'));
const redis = await startLocalRedis({ directory: join(dir, 'redis') });
const s3 = await startEmbeddedS3({ directory: join(dir, 's3') });
const env = { REDIS_URL: redis.url, ...s3.env, S3_BUCKET: 'bench', FACEPIPE_LOG_LEVEL: 'info', FACEPIPE_METRICS_PORT: '-1' };
const workers = new WorkerProcesses(env, join(dir, 'logs'));
const layout = localStageSettings(cpus().length);
for (const stage of ['detect', 'embed', 'classify'] as const) workers.start(stage, 1, layout[stage]);
const producer = await Producer.connect(loadConfig({ ...env, FACEPIPE_LOG_LEVEL: 'warn' }), 'bench');
const rows: Record<string, unknown>[] = [];
try {
  for (;;) {
    const n = await Promise.all((['detect', 'embed', 'classify'] as const).map((q) => producer.ctx.queues.byName(q).getWorkersCount()));
    if (n.every((c) => c > 0)) break;
    if (workers.crashed()) throw new Error(`worker crashed: ${workers.crashed()?.logTail}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const t0 = performance.now();
  const { batchId } = await producer.ingest({ input: folder, concurrency: 8 });
  const batch = await producer.waitForBatch(batchId, undefined, 50);
  const seconds = (performance.now() - t0) / 1000;
  log(`  ${batch.total} photos in ${seconds.toFixed(1)} s (${batch.failed} failed)`);
  await workers.stop();
  for (const p of workers.processes) {
    const line = readFileSync(p.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.includes('"event loop delay"'))
      .at(-1);
    if (!line) continue;
    const r = JSON.parse(line) as { loopDelayMeanMs: number; loopDelayP99Ms: number; loopDelayMaxMs: number; lockRenewalMarginMs: number };
    rows.push({ stage: p.stage, ...r, maxOverMargin: Math.round((r.loopDelayMaxMs / r.lockRenewalMarginMs) * 1000) / 1000 });
  }
} finally {
  await workers.stop();
  await producer.close();
  await s3.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
if (values.json) console.log(JSON.stringify(rows));
else {
  console.log('| stage | loop delay mean ms | p99 ms | max ms | lock renewal margin ms | max / margin |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${String(r.stage)} | ${String(r.loopDelayMeanMs)} | ${String(r.loopDelayP99Ms)} | ${String(r.loopDelayMaxMs)} | ${String(r.lockRenewalMarginMs)} | ${String(r.maxOverMargin)} |`);
}
