/**
 * S3 client cost: CPU and wall time per request of facepipe's light S3 client against the AWS
 * SDK v3 for the single-object requests of the hot path, both through `S3ObjectStore`, against
 * the same S3-protocol server running in a child process (so the figures are the client's).
 *
 *   npx tsx bench/s3-client.ts [--engine local|s3rver] [--requests N]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { S3ObjectStore } from '@facepipe/core';

const { values } = parseArgs({ options: { engine: { type: 'string', default: 'local' }, requests: { type: 'string', default: '1000' }, server: { type: 'boolean', default: false } } });
const engine = values.engine === 's3rver' ? 's3rver' : 'local';

if (values.server) {
  const { startEmbeddedS3 } = await import('@facepipe/devstack');
  const dir = mkdtempSync(join(tmpdir(), 'facepipe-s3-bench-'));
  const server = await startEmbeddedS3({ directory: dir, port: 0, engine, buckets: ['bench-bucket'] });
  process.send!(server.env);
  process.on('SIGTERM', () => {
    void server.close().finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  });
} else {
  const child = fork(fileURLToPath(import.meta.url), ['--server', '--engine', engine], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const env = await new Promise<Record<string, string>>((resolve) => child.once('message', (m) => resolve(m as Record<string, string>)));
  const n = Number(values.requests);
  const doc = { faces: [{ box: [10, 20, 110, 120], landmarks: Array.from({ length: 136 }, (_, i) => i * 1.5), embedding: Array.from({ length: 128 }, (_, i) => Math.sin(i)) }] };
  const chips = Buffer.alloc(30_000, 7);
  const rows: { client: string; request: string; cpu: number; wall: number }[] = [];
  for (const requestClient of ['sdk', 'light'] as const) {
    const store = new S3ObjectStore({
      bucket: 'bench-bucket',
      region: 'us-east-1',
      endpoint: env.S3_ENDPOINT,
      credentials: { accessKeyId: env.S3_ACCESS_KEY_ID!, secretAccessKey: env.S3_SECRET_ACCESS_KEY! },
      requestClient,
    });
    const cases: [string, (i: number) => Promise<unknown>][] = [
      ['PUT 2 KB JSON', (i) => store.putJson(`${requestClient}/doc/${i}.json`, doc)],
      ['GET 2 KB JSON', (i) => store.getJson(`${requestClient}/doc/${i % 200}.json`)],
      ['PUT 30 KB', (i) => store.put(`${requestClient}/bin/${i}.png`, chips, { contentType: 'image/png' })],
      ['GET 30 KB', (i) => store.getBytes(`${requestClient}/bin/${i % 200}.png`)],
      ['HEAD', (i) => store.head(`${requestClient}/bin/${i % 200}.png`)],
      ['GET missing', (i) => store.getJson(`${requestClient}/missing/${i}.json`)],
    ];
    for (const [request, fn] of cases) {
      for (let i = 0; i < 200; i++) await fn(i); // warm-up, and the objects the reads use
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) await fn(i);
      const cpu = process.cpuUsage(cpu0);
      rows.push({ client: requestClient, request, cpu: (cpu.user + cpu.system) / 1000 / n, wall: (performance.now() - t0) / n });
    }
    await store.close();
  }
  child.kill('SIGTERM');
  const out = [`S3 client cost per request, ${n} sequential requests per case, server: ${engine} (child process)`, '', '| request | SDK CPU ms | light CPU ms | SDK / light | SDK wall ms | light wall ms |', '|---|---|---|---|---|---|'];
  for (const row of rows.filter((r) => r.client === 'sdk')) {
    const light = rows.find((r) => r.client === 'light' && r.request === row.request)!;
    out.push(`| ${row.request} | ${row.cpu.toFixed(3)} | ${light.cpu.toFixed(3)} | ${(row.cpu / light.cpu).toFixed(1)}× | ${row.wall.toFixed(3)} | ${light.wall.toFixed(3)} |`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
