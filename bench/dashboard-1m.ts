/**
 * Dashboard load time with a million completed jobs recorded. Puts N detect jobs in with
 * BullMQ's addBulk, lets a no-op BullMQ worker (metrics on, completed jobs kept) complete them,
 * plus N/500 more that fail with typed codes (so the failures panel has work), then starts `facepipe serve` (its own process)
 * and times what the dashboard loads: the page, its overview (BullMQ's counters and per-minute
 * metrics, bounded latency sample), the failures panel, recent results; and, with Debian's
 * chromium present, the page in a headless browser until the counts are on screen.
 *
 *   npx tsx bench/dashboard-1m.ts [--jobs 1000000] [--loads 20] [--json]
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { MetricsTime, Queue, UnrecoverableError, Worker } from 'bullmq';
import { closeRedis, createRedisConnection, JobName, QueueName } from '@facepipe/core';
import { startEmbeddedS3, startLocalRedis } from '@facepipe/devstack';

const { values } = parseArgs({
  options: { jobs: { type: 'string', default: '1000000' }, loads: { type: 'string', default: '20' }, json: { type: 'boolean', default: false } },
});
const total = Number(values.jobs);
const loads = Number(values.loads);
const root = fileURLToPath(new URL('..', import.meta.url));
const log = (msg: string) => process.stderr.write(`${msg}\n`);
const token = 'bench-token-0123456789abcdef';
const prefix = 'facepipe';
const chromiumPath = process.env.FACEPIPE_CHROMIUM ?? '/usr/bin/chromium';
const codes = ['CORRUPT_IMAGE', 'STORAGE_UNAVAILABLE', 'MODEL_ERROR'];

const dir = mkdtempSync(join(tmpdir(), 'facepipe-bench-dash-'));
const redis = await startLocalRedis({ directory: join(dir, 'redis') });
const s3 = await startEmbeddedS3({ directory: join(dir, 's3'), port: 0, buckets: ['facepipe'] });
const connection = createRedisConnection(redis.url, 'worker');
const figures: Record<string, unknown> = { jobs: total, cpus: cpus().length, cpu: cpus()[0]?.model };
let service: ReturnType<typeof spawn> | undefined;

const ms = (t0: number) => Math.round((performance.now() - t0) * 10) / 10;
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
  return { median: at(50), p95: at(95), max: s.at(-1)! };
};

try {
  // 1. N jobs in with addBulk, then completed by a no-op worker (completed jobs kept, metrics on).
  const queue = new Queue(QueueName.Detect, { connection, prefix });
  let t0 = performance.now();
  const chunk = 5000;
  const failing = Math.floor(total / 500);
  const all = total + failing;
  for (let start = 0; start < all; start += chunk) {
    const jobs = Array.from({ length: Math.min(chunk, all - start) }, (_, i) => {
      const n = start + i;
      return {
        name: JobName.DetectImage,
        data: { imageId: n.toString(16).padStart(64, '0'), originalKey: `originals/00/${n}`, source: `photo-${n}.jpg`, batchId: 'bench', enqueuedAt: Date.now(), pipelineVersion: '0123456789ab' },
        // Failing jobs are spread through the run, one in every 501.
        opts: { jobId: n % 501 === 500 ? `det_fail_${n}` : `det_${n}`, attempts: 1 },
      };
    });
    await queue.addBulk(jobs);
  }
  figures.addBulkSeconds = Math.round(ms(t0) / 100) / 10;
  log(`addBulk: ${all} jobs in ${figures.addBulkSeconds} s`);
  t0 = performance.now();
  const workerConnection = createRedisConnection(redis.url, 'worker');
  const worker = new Worker(
    QueueName.Detect,
    async (job) => {
      const id = String(job.id);
      if (id.startsWith('det_fail_')) throw new UnrecoverableError(`[${codes[Math.floor(Number(id.slice(9)) / 501) % codes.length]}] bench failure ${id}`);
      return { faces: 1 };
    },
    { connection: workerConnection, prefix, concurrency: 300, metrics: { maxDataPoints: MetricsTime.ONE_WEEK }, drainDelay: 1 },
  );
  worker.on('error', () => undefined);
  for (;;) {
    const c = await queue.getJobCounts('completed', 'failed');
    if ((c.completed ?? 0) + (c.failed ?? 0) >= all) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  await worker.close();
  await closeRedis(workerConnection);
  const counts = await queue.getJobCounts('completed', 'failed', 'waiting');
  figures.processSeconds = Math.round(ms(t0) / 100) / 10;
  figures.counts = counts;
  const memory = /used_memory_human:(\S+)/.exec(await connection.info('memory'))?.[1];
  figures.redisMemory = memory;
  log(`worker: completed ${counts.completed}, failed ${counts.failed} in ${figures.processSeconds} s; Redis uses ${memory}`);
  await queue.close();

  // 2. The service, in its own process.
  service = spawn(process.execPath, [join(root, 'packages/cli/dist/main.js'), 'serve', '--host', '127.0.0.1', '--port', '0'], {
    env: {
      ...process.env,
      REDIS_URL: redis.url,
      ...s3.env,
      FACEPIPE_API_TOKEN: token,
      FACEPIPE_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let out = '';
  service.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /facepipe service at (http:\/\/\S+)/.exec(out);
      if (m || service!.exitCode !== null) {
        clearInterval(timer);
        if (m) resolve(m[1]!);
        else reject(new Error(out));
      }
    }, 50);
  });
  const headers = { authorization: `Bearer ${token}` };
  const timeGet = async (path: string, n: number) => {
    const times: number[] = [];
    let body: unknown;
    for (let i = 0; i < n; i += 1) {
      const t = performance.now();
      const res = await fetch(`${url}${path}`, { headers });
      body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      times.push(ms(t));
    }
    return { ...stats(times), body };
  };
  const page = await timeGet('/dashboard', loads);
  const overview = await timeGet('/dashboard/api/overview', loads);
  const failures = await timeGet('/dashboard/api/failures', Math.max(3, Math.round(loads / 4)));
  const recent = await timeGet('/dashboard/api/recent', Math.max(3, Math.round(loads / 4)));
  const shown = (overview.body as { queues: { name: string; counts: { completed: number; failed: number } }[] }).queues.find((q) => q.name === 'detect')!;
  const groups = (failures.body as { queue: string; groups: { code: string; count: number }[] }[]).find((q) => q.queue === 'detect')!.groups;
  figures.http = {
    page: { median: page.median, p95: page.p95 },
    overview: { median: overview.median, p95: overview.p95, max: overview.max },
    failures: { median: failures.median, p95: failures.p95 },
    recent: { median: recent.median, p95: recent.p95 },
  };
  figures.shown = { completed: shown.counts.completed, failed: shown.counts.failed, failureGroups: groups };
  log(`GET /dashboard              median ${page.median} ms, p95 ${page.p95} ms`);
  log(`GET /dashboard/api/overview median ${overview.median} ms, p95 ${overview.p95} ms, max ${overview.max} ms (shows completed ${shown.counts.completed}, failed ${shown.counts.failed})`);
  log(`GET /dashboard/api/failures median ${failures.median} ms, p95 ${failures.p95} ms (${groups.map((g) => `${g.code}×${g.count}`).join(', ')})`);
  log(`GET /dashboard/api/recent   median ${recent.median} ms, p95 ${recent.p95} ms`);
  if (shown.counts.completed !== counts.completed || shown.counts.failed !== counts.failed) throw new Error('the dashboard counts differ from BullMQ');

  // 3. A real browser: from navigation until the queue counts are on screen.
  if (existsSync(chromiumPath)) {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
    try {
      const context = await browser.newContext();
      const signIn = await context.newPage();
      await signIn.goto(`${url}/dashboard`);
      await signIn.fill('input[name=token]', token);
      await signIn.click('button[type=submit]');
      await signIn.waitForSelector('body[data-loaded=true]');
      await signIn.close();
      const times: number[] = [];
      const everything: number[] = [];
      for (let i = 0; i < Math.min(loads, 10); i += 1) {
        const tab = await context.newPage();
        const t = performance.now();
        await tab.goto(`${url}/dashboard`);
        await tab.waitForSelector('body[data-loaded=true]');
        times.push(ms(t));
        await tab.waitForSelector('#failures [data-code]');
        everything.push(ms(t));
        const onScreen = Number((await tab.textContent('td[data-queue=detect][data-count=completed]'))?.replace(/,/g, ''));
        if (onScreen !== counts.completed) throw new Error(`page shows ${onScreen} completed, BullMQ ${counts.completed}`);
        await tab.close();
      }
      figures.browser = { countsOnScreen: stats(times), withFailures: stats(everything) };
      log(`browser: counts on screen median ${stats(times).median} ms, p95 ${stats(times).p95} ms; with the failures panel median ${stats(everything).median} ms`);
    } finally {
      await browser.close();
    }
  } else {
    log(`browser: skipped (${chromiumPath} not found)`);
  }
  if (values.json) process.stdout.write(`${JSON.stringify(figures)}\n`);
} finally {
  if (service && service.exitCode === null) {
    service.kill('SIGTERM');
    await new Promise((r) => service!.once('exit', r));
  }
  await closeRedis(connection);
  await Promise.allSettled([s3.close(), redis.stop()]);
  rmSync(dir, { recursive: true, force: true });
}
