/**
 * Pipeline throughput: images/s and faces/s through the whole pipeline (producer, Redis, the
 * embedded S3-protocol server, detect/embed/classify pools as separate processes) on a folder
 * of real photos, next to the in-process vision core's rate on the same photos in the same run,
 * and the ratio; plus BullMQ's bare rate through three chained queues (per-hop overhead).
 *
 *   npx tsx bench/pipeline.ts [folder] [--limit N] [--json] [--baseline all|best] [--face-index]
 * `--baseline best` measures only the layout that wins on a 2-core machine (2 inference threads,
 * 2 images at a time), for quicker runs while profiling. `--face-index` runs classify with the
 * embedded face index (PGlite + pgvector, as `facepipe up`): every face written, named and
 * clustered. `--limit N` takes the first N photos (sorted) for both sides. Both sides report the
 * CPU they used per image (from /proc: each worker process, redis-server, and this process,
 * which holds the producer, the embedded S3 server and the embedded database, as `facepipe up`'s
 * own process does), so the pipeline's price over the vision work is measured, not guessed.
 * Default folder: ../shared/data/recognition/lfw_dev/lfw-deepfunneled (233 photos).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { closeRedis, createRedisConnection, loadConfig } from '@facepipe/core';
import { FaceAnalyzer } from '@facepipe/vision';
import { fileListItems, localFolderItems, Producer } from '@facepipe/producer';
import { EmbeddedDatabase, FaceIndex } from '@facepipe/face-index';
import { localStageSettings, startEmbeddedS3, startLocalRedis, waitForWorkers, WorkerProcesses } from '@facepipe/devstack';
import { testDataDir } from '../test/helpers/data.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { limit: { type: 'string' }, json: { type: 'boolean', default: false }, 'face-index': { type: 'boolean', default: false }, 'chain-items': { type: 'string', default: '3000' }, baseline: { type: 'string', default: 'all' } },
});
const folder = resolve(positionals[0] ?? join(testDataDir, 'recognition/lfw_dev/lfw-deepfunneled'));
// Photos the pipeline processes before the timed batch, so the JIT has warmed the JavaScript
// around the models (the S3 SDK, BullMQ) as it would be in a long-running deployment.
const warmupFolders = [join(testDataDir, 'recognition/face_recognition_examples'), join(testDataDir, 'landmarks/afw_subset_68pt')];
const limit = values.limit ? Number(values.limit) : Infinity;
const log = (msg: string) => process.stderr.write(`${msg}\n`);

/** CPU seconds a process has used (user + system), from /proc; 0 when it is gone. */
function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces) start at state; utime and stime are the 12th and 13th of them.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
const selfCpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

async function listPhotos(): Promise<{ source: string; bytes: Buffer }[]> {
  const photos: { source: string; bytes: Buffer }[] = [];
  for await (const item of localFolderItems(folder)) {
    if (photos.length >= limit) break;
    photos.push({ source: item.source, bytes: await item.read(1 << 30) });
  }
  return photos;
}

/** The in-process vision core: decode → detect → landmarks → align → embed, `concurrency` images at a time. */
async function inProcess(photos: { bytes: Buffer }[], options: { inferenceThreads: number; concurrency: number }) {
  const analyzer = await FaceAnalyzer.create({ inferenceThreads: options.inferenceThreads, intraOpThreads: 1 });
  try {
    for (const p of photos.slice(0, 3)) await analyzer.describe(p.bytes); // warm-up
    let next = 0;
    let faces = 0;
    const cpu0 = selfCpuSeconds();
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (next < photos.length) {
          const p = photos[next++]!;
          try {
            const found = (await analyzer.describe(p.bytes)).faces.length;
            faces += found;
          } catch {
            /* bad inputs count as handled, as in the pipeline */
          }
        }
      }),
    );
    const seconds = (performance.now() - t0) / 1000;
    const cpuMsPerImage = ((selfCpuSeconds() - cpu0) * 1000) / photos.length;
    return { seconds, images: photos.length, faces, imagesPerSecond: photos.length / seconds, facesPerSecond: faces / seconds, cpuMsPerImage };
  } finally {
    await analyzer.close();
  }
}

async function throughPipeline(files: readonly string[]) {
  const count = files.length;
  const dir = mkdtempSync(join(tmpdir(), 'facepipe-bench-'));
  const redis = await startLocalRedis({ directory: join(dir, 'redis') });
  const s3 = await startEmbeddedS3({ directory: join(dir, 's3') });
  const database = values['face-index'] ? await EmbeddedDatabase.start({ directory: join(dir, 'db') }) : undefined;
  const env = {
    REDIS_URL: redis.url,
    ...s3.env,
    ...(database ? { DATABASE_URL: database.url } : {}),
    S3_BUCKET: 'bench',
    FACEPIPE_LOG_LEVEL: 'warn',
    FACEPIPE_METRICS_PORT: '-1',
  };
  // FACEPIPE_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the worker processes.
  const workers = new WorkerProcesses(env, join(dir, 'logs'), process.env.FACEPIPE_BENCH_NODE_ARGS?.split(' ').filter(Boolean));
  // The same layout `facepipe run` uses on this machine (see localStageSettings).
  const layout = localStageSettings(cpus().length);
  for (const stage of ['detect', 'embed', 'classify'] as const) workers.start(stage, 1, layout[stage]);
  const producer = await Producer.connect(loadConfig(env), 'bench');
  try {
    await waitForWorkers(producer, workers, { pollMs: 100 });
    let warmImages = 0;
    let warmFaces = 0;
    for (const input of warmupFolders) {
      const warm = await producer.ingest({ input });
      const done = await producer.waitForBatch(warm.batchId);
      warmImages += done.done;
      warmFaces += done.faces;
    }
    log('  warm; timing the batch');
    // The face index's growth over the timed batch: its bytes per face (tables and indexes).
    const index = database ? await FaceIndex.connect({ url: database.url }) : undefined;
    const indexBefore = (await index?.sizeBytes()) ?? 0;
    const pids = [...workers.processes.map((p) => ({ name: p.stage, pid: p.child.pid ?? 0 })), { name: 'redis-server', pid: redis.pid }];
    const cpuBefore = pids.map((p) => cpuSeconds(p.pid));
    const selfBefore = selfCpuSeconds();
    const t0 = performance.now();
    const { batchId } = await producer.ingestItems(fileListItems(files), { purpose: 'ingest', sourceLabel: folder, concurrency: 8 });
    const batch = await producer.waitForBatch(batchId, undefined, 50);
    const seconds = (performance.now() - t0) / 1000;
    const perImage = (cpu: number) => (cpu * 1000) / Math.max(batch.total, 1);
    const cpuMsPerImage: Record<string, number> = Object.fromEntries(pids.map((p, i) => [p.name, perImage(cpuSeconds(p.pid) - cpuBefore[i]!)]));
    cpuMsPerImage[`producer + embedded S3${database ? ' + embedded database' : ''} (this process)`] = perImage(selfCpuSeconds() - selfBefore);
    if (batch.total !== count) log(`note: pipeline saw ${batch.total} inputs, in-process ${count}`);
    const storage = await storedBytes(producer, warmImages + batch.done, warmFaces + batch.faces);
    const indexBytesPerFace = index ? ((await index.sizeBytes()) - indexBefore) / Math.max(batch.faces, 1) : undefined;
    await index?.close();
    return { seconds, images: batch.total, faces: batch.faces, failed: batch.failed, imagesPerSecond: batch.total / seconds, facesPerSecond: batch.faces / seconds, cpuMsPerImage, storage: { ...storage, indexBytesPerFace } };
  } finally {
    await workers.stop();
    await producer.close();
    await s3.close();
    await database?.close();
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What the store holds after the runs, by kind (the first part of the key), per image and per
 * face processed: originals are the input; the rest is derived.
 */
async function storedBytes(producer: Producer, images: number, faces: number) {
  const byKind: Record<string, { objects: number; bytes: number }> = {};
  for await (const o of producer.ctx.store.list('')) {
    const kind = o.key.split('/')[0]!;
    byKind[kind] ??= { objects: 0, bytes: 0 };
    byKind[kind].objects += 1;
    byKind[kind].bytes += o.size;
  }
  const derived = Object.entries(byKind).filter(([k]) => k !== 'originals').reduce((s, [, v]) => s + v.bytes, 0);
  return { images, faces, byKind, derivedBytesPerImage: derived / images, derivedBytesPerFace: derived / Math.max(faces, 1) };
}

/** BullMQ alone: N items through three chained queues with empty processors. */
async function bullmqChain(items: number) {
  const dir = mkdtempSync(join(tmpdir(), 'facepipe-chain-'));
  const redis = await startLocalRedis({ directory: dir });
  const connection = createRedisConnection(redis.url, 'worker');
  const names = ['hop1', 'hop2', 'hop3'];
  const queues = names.map((n) => new Queue(n, { connection, prefix: 'chain' }));
  let done = 0;
  let resolveDone!: () => void;
  const finished = new Promise<void>((r) => (resolveDone = r));
  const workerConnections = names.map(() => createRedisConnection(redis.url, 'worker'));
  const workers = names.map(
    (n, i) =>
      new Worker(
        n,
        async (job) => {
          if (i < 2) await queues[i + 1]!.add('x', job.data, { jobId: `${names[i + 1]}-${job.data.i}`, removeOnComplete: true });
          else if (++done === items) resolveDone();
        },
        { connection: workerConnections[i]!, prefix: 'chain', concurrency: 16 },
      ),
  );
  const t0 = performance.now();
  for (let i = 0; i < items; i += 500) {
    await queues[0]!.addBulk(Array.from({ length: Math.min(500, items - i) }, (_, k) => ({ name: 'x', data: { i: i + k }, opts: { jobId: `hop1-${i + k}`, removeOnComplete: true } })));
  }
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(workers.map((w) => w.close()));
  await Promise.all(queues.map((q) => q.close()));
  await Promise.all([connection, ...workerConnections].map((c) => closeRedis(c)));
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
  return { items, seconds, itemsPerSecond: items / seconds, msPerItemPerHop: (seconds * 1000) / items / 3 };
}

const photos = await listPhotos();
log(`${photos.length} photos from ${folder}; ${cpus().length} CPUs`);
log('in-process vision core…');
const baselines = [];
const layouts = [
  { inferenceThreads: 1, concurrency: 1 },
  { inferenceThreads: 1, concurrency: 2 },
  { inferenceThreads: 2, concurrency: 2 },
];
if (values.baseline !== 'all' && values.baseline !== 'best') throw new Error('--baseline is all or best');
for (const cfg of values.baseline === 'best' ? layouts.slice(-1) : layouts) {
  const r = await inProcess(photos, cfg);
  baselines.push({ ...cfg, ...r });
  log(`  ${cfg.inferenceThreads} inference thread(s), ${cfg.concurrency} image(s) at a time: ${r.imagesPerSecond.toFixed(1)} images/s`);
}
const best = baselines.reduce((a, b) => (b.imagesPerSecond > a.imagesPerSecond ? b : a));
log(`pipeline (3 worker processes, Redis, embedded S3${values['face-index'] ? ', embedded face index' : ''})…`);
const pipeline = await throughPipeline(photos.map((p) => resolve(folder, p.source)));
log('BullMQ chain…');
const chain = await bullmqChain(Number(values['chain-items']));

const ratio = pipeline.imagesPerSecond / best.imagesPerSecond;
const report = { folder, photos: photos.length, faceIndex: values['face-index'], cpus: cpus().length, inProcess: baselines, bestInProcess: best, pipeline, pipelineToInProcess: ratio, bullmqChain: chain };
if (values.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
else {
  const f = (x: number) => x.toFixed(1);
  process.stdout.write(
    [
      `photos: ${photos.length} (${folder}), ${cpus().length} CPUs`,
      '',
      '| run | images/s | faces/s | seconds |',
      '|---|---|---|---|',
      ...baselines.map((b) => `| in-process core, ${b.inferenceThreads} inference thread(s), ${b.concurrency} image(s) at a time | ${f(b.imagesPerSecond)} | ${f(b.facesPerSecond)} | ${f(b.seconds)} |`),
      `| full pipeline (3 processes + Redis + embedded S3) | ${f(pipeline.imagesPerSecond)} | ${f(pipeline.facesPerSecond)} | ${f(pipeline.seconds)} |`,
      '',
      `pipeline / best in-process = ${(ratio * 100).toFixed(0)}%`,
      `BullMQ alone, 3 chained queues: ${chain.itemsPerSecond.toFixed(0)} items/s = ${chain.msPerItemPerHop.toFixed(3)} ms per item per hop`,
      '',
      'CPU per image during the timed runs (all threads of each process):',
      '| process | CPU ms per image |',
      '|---|---|',
      `| in-process core (best layout) | ${f(best.cpuMsPerImage)} |`,
      ...Object.entries(pipeline.cpuMsPerImage).map(([k, v]) => `| pipeline: ${k} | ${f(v)} |`),
      `| **pipeline, all processes** | **${f(Object.values(pipeline.cpuMsPerImage).reduce((a, b) => a + b, 0))}** |`,
      '',
      `storage after ${pipeline.storage.images} images, ${pipeline.storage.faces} faces (warm-up batches included): derived ${(pipeline.storage.derivedBytesPerImage / 1024).toFixed(1)} KB per image, ${(pipeline.storage.derivedBytesPerFace / 1024).toFixed(1)} KB per face`,
      ...(pipeline.storage.indexBytesPerFace !== undefined ? [`face index growth over the timed batch: ${(pipeline.storage.indexBytesPerFace / 1024).toFixed(1)} KB per face (tables and indexes, pg_database_size)`] : []),
      '| kind | objects | KB | KB per image |',
      '|---|---|---|---|',
      ...Object.entries(pipeline.storage.byKind).map(([k, v]) => `| ${k} | ${v.objects} | ${(v.bytes / 1024).toFixed(0)} | ${(v.bytes / 1024 / pipeline.storage.images).toFixed(1)} |`),
      '',
    ].join('\n'),
  );
}
