/**
 * What the dashboard's batch list costs. Creates N batches in the batch tracker (real Redis),
 * half of them small uploads, then times GET /dashboard/api/overview's work (DashboardData.overview:
 * queue counters plus the batch list, sampled for the recent rate, grouped) at several list
 * lengths and with a kind filter, each against the 10-batch list measured in the same run.
 *
 *   npx tsx bench/dashboard-batches.ts [--batches 1000] [--loads 50] [--json]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '@facepipe/core';
import { startEmbeddedS3, startLocalRedis } from '@facepipe/devstack';
import { Producer } from '@facepipe/producer';
import { DashboardData } from '@facepipe/service';

const { values } = parseArgs({ options: { batches: { type: 'string', default: '1000' }, loads: { type: 'string', default: '50' }, json: { type: 'boolean', default: false } } });
const batches = Number(values.batches);
const loads = Number(values.loads);
const log = (msg: string) => process.stderr.write(`${msg}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'facepipe-bench-batches-'));
const redis = await startLocalRedis({ directory: join(dir, 'redis') });
const s3 = await startEmbeddedS3({ directory: join(dir, 's3'), port: 0, buckets: ['facepipe'] });
const producer = await Producer.connect(loadConfig({ ...s3.env, S3_BUCKET: 'facepipe', REDIS_URL: redis.url, FACEPIPE_LOG_LEVEL: 'silent' }), 'service');
try {
  const tracker = producer.ctx.tracker;
  let t0 = performance.now();
  for (let i = 0; i < batches; i += 1) {
    const id = `b${String(i).padStart(6, '0')}`;
    const upload = i % 3 !== 0; // two small uploads, then an ingest of 40
    await tracker.createBatch(id, 'ingest', upload ? 'upload' : `/photos/${i}`);
    const total = upload ? 1 : 40;
    for (let n = 0; n < total; n += 1) await tracker.addItem(id);
    await tracker.finishIngest(id, total);
    for (let n = 0; n < (i % 3 === 0 ? total - 1 : total); n += 1) await tracker.markItem(id, n, { kind: 'done', faces: 1 });
  }
  log(`${batches} batches created in ${Math.round(performance.now() - t0)} ms`);

  const dashboard = new DashboardData(producer.ctx);
  const time = async (filter: { kind?: 'ingest' | 'upload'; limit: number }) => {
    await dashboard.overview(filter); // warm
    const xs: number[] = [];
    let rows = 0;
    for (let i = 0; i < loads; i += 1) {
      t0 = performance.now();
      rows = (await dashboard.overview(filter)).batches.length;
      xs.push(performance.now() - t0);
    }
    return { ms: Math.round(median(xs) * 10) / 10, rows };
  };
  await time({ limit: 10 }); // a first round warms Redis and the JIT
  const cases = [
    { name: 'limit 10 (the old list)', filter: { limit: 10 } },
    { name: 'limit 50 (the default)', filter: { limit: 50 } },
    { name: 'limit 250', filter: { limit: 250 } },
    { name: 'kind=ingest, limit 50', filter: { kind: 'ingest' as const, limit: 50 } },
  ];
  const figures: Record<string, unknown>[] = [];
  let baseline = { ms: 0, rows: 0 };
  for (const c of cases) {
    const r = await time(c.filter);
    if (baseline.ms === 0) baseline = r;
    figures.push({ case: c.name, medianMs: r.ms, rows: r.rows, vsLimit10: Math.round((r.ms / baseline.ms) * 100) / 100 });
    log(`overview, ${c.name}: median ${r.ms} ms (${r.rows} rows), ×${(r.ms / baseline.ms).toFixed(2)} the 10-batch list`);
  }
  const out = { batches, loads, cpus: cpus().length, baselineMs: baseline.ms, figures };
  if (values.json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
} finally {
  await producer.close();
  await s3.close();
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}
