/**
 * Upload API sustained rate: small JPEGs POSTed to /v1/images on loopback by autocannon (its
 * own process), against `facepipe serve` (its own process, bearer token on) with a private
 * redis-server and the embedded S3-protocol server. No workers run: this measures the API
 * (read, hash, probe, dedup claim, store the original, queue the detect job, write the
 * manifest), not the pipeline. Prints requests/s and p50/p95/p99 latency for new images and
 * for duplicates, at each connection count.
 *
 *   npx tsx bench/upload-api.ts [--seconds 20] [--connections 8,32] [--jpeg path] [--json]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startEmbeddedS3, startLocalRedis } from '@facepipe/devstack';
import { testDataDir } from '../test/helpers/data.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    connections: { type: 'string', default: '8,32' },
    jpeg: { type: 'string', default: join(testDataDir, 'recognition/lfw_dev/lfw-deepfunneled/Abdullatif_Sener/Abdullatif_Sener_0001.jpg') },
    json: { type: 'boolean', default: false },
  },
});
const root = fileURLToPath(new URL('..', import.meta.url));
const log = (msg: string) => process.stderr.write(`${msg}\n`);
const token = 'bench-token-0123456789abcdef';

const dir = mkdtempSync(join(tmpdir(), 'facepipe-bench-upload-'));
const redis = await startLocalRedis({ directory: join(dir, 'redis') });
const s3 = await startEmbeddedS3({ directory: join(dir, 's3'), port: 0 });
const env = {
  ...process.env,
  REDIS_URL: redis.url,
  ...s3.env,
  FACEPIPE_API_TOKEN: token,
  FACEPIPE_LOG_LEVEL: 'warn',
  FACEPIPE_MAX_QUEUED: '10000000', // no workers here: never hold uploads back
};
const service = spawn(process.execPath, [...(process.env.FACEPIPE_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.FACEPIPE_BENCH_PROFILE}`] : []), join(root, 'packages/cli/dist/main.js'), 'serve', '--host', '127.0.0.1', '--port', '0'], { env, stdio: ['ignore', 'inherit', 'pipe'] });
let serviceOut = '';
service.stderr!.on('data', (d: Buffer) => (serviceOut += d.toString()));
const url = await new Promise<string>((resolve, reject) => {
  const timer = setInterval(() => {
    const m = /facepipe service at (http:\/\/\S+)/.exec(serviceOut);
    if (m) {
      clearInterval(timer);
      resolve(m[1]!);
    } else if (service.exitCode !== null) {
      clearInterval(timer);
      reject(new Error(`service exited:\n${serviceOut}`));
    }
  }, 50);
});

/** Runs the load generator as a child process (asynchronously: the S3 server lives in this one). */
async function load(mode: 'distinct' | 'duplicate', connections: number, seconds: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench/_upload-load.ts'), url, token, values.jpeg!, mode, String(connections), String(seconds)], { cwd: root });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`load generator failed:\n${err}`);
  return JSON.parse(out.trim().split('\n').at(-1)!) as { rps: number; p50: number; p95: number; p99: number; requests: number; statuses: Record<string, number>; errors: number };
}

const rows: Record<string, unknown>[] = [];
try {
  log(`service ${url}; ${cpus().length} CPUs (${cpus()[0]?.model}); JPEG ${statSync(values.jpeg!).size} bytes; ${values.seconds}s per run`);
  await load('distinct', 4, 3); // warm-up
  for (const connections of values.connections!.split(',').map(Number)) {
    for (const mode of ['distinct', 'duplicate'] as const) {
      const r = await load(mode, connections, Number(values.seconds));
      rows.push({ mode, connections, ...r });
      log(
        `${mode === 'distinct' ? 'new images ' : 'duplicates '} ${String(connections).padStart(3)} connections: ${r.rps.toFixed(0).padStart(5)} req/s   ` +
          `p50 ${r.p50.toFixed(1)} ms   p95 ${r.p95.toFixed(1)} ms   p99 ${r.p99.toFixed(1)} ms   (${r.requests} requests, statuses ${JSON.stringify(r.statuses)}, errors ${r.errors})`,
      );
    }
  }
  if (values.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
} finally {
  service.kill('SIGTERM');
  await new Promise((r) => service.once('exit', r));
  await Promise.allSettled([s3.close(), redis.stop()]);
  rmSync(dir, { recursive: true, force: true });
}
