import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FacepipeError,
  MemoryObjectStore,
  objectKeys,
  type DetectEngine,
  type DetectJobData,
  type DetectVersionInfo,
  type EmbedJobData,
  type EmbeddingsDocument,
  type EmbedVersionInfo,
  type FacesDocument,
  type ImageAnalysis,
} from '@facepipe/core';
import { DetectHandler } from '@facepipe/worker-detect';
import { EmbedHandler, MicroBatcher } from '@facepipe/worker-embed';
import { JobBatcher } from '@facepipe/worker-classify';

// The detect and embed handlers with their edges replaced: an in-memory store, engines that
// answer what a test says, and a queue recorder. What is checked: which objects a job writes
// under which keys, what it hands to the next stage, and the typed failures.

const detectVersion: DetectVersionInfo = { tag: 'det1', detector: 'ssd', landmarks: 'lm68', minScore: 0.4, minFaceSize: 20, chip: { size: 150, padding: 0.25 } };
const embedVersion: EmbedVersionInfo = { tag: 'emb1', recognition: 'resnet', flip: false };
const imageId = 'a'.repeat(64);
const job: DetectJobData = { imageId, originalKey: objectKeys.original(imageId), source: 'photo.jpg', batchId: 'b1', enqueuedAt: 0, pipelineVersion: 'pipe01234567' };
const face = (index: number) => ({ index, box: [10, 10, 40, 40] as [number, number, number, number], score: 0.9, landmarks: Array.from({ length: 68 }, (_, i) => [i, i] as [number, number]) });

function detectEngine(analysis: Partial<ImageAnalysis> | Error): DetectEngine & { calls: number } {
  const engine = {
    calls: 0,
    version: detectVersion,
    async analyze(): Promise<ImageAnalysis> {
      engine.calls += 1;
      if (analysis instanceof Error) throw analysis;
      return { width: 100, height: 80, format: 'jpeg', orientation: 1, faces: [], chipsRgb: null, timings: { decodeMs: 1, detectMs: 2, landmarksMs: 3, alignMs: 4 }, ...analysis };
    },
    close: async () => undefined,
  };
  return engine;
}

function detectSetup(analysis: Partial<ImageAnalysis> | Error, maxBytes = 1000) {
  const store = new MemoryObjectStore();
  const handed: { data: DetectJobData; version: string; faces: number }[] = [];
  const engine = detectEngine(analysis);
  const handler = new DetectHandler({ store, engine, maxBytes, queues: { afterDetect: async (data, version, faces) => void handed.push({ data, version, faces }) } });
  return { store, handed, engine, handler };
}

test('detect: faces.json and the raw chips under the image and detect version; the next stage gets the face count', async () => {
  const chipsRgb = Buffer.from('raw chips, not really');
  const { store, handed, handler } = detectSetup({ faces: [face(0), face(1)], chipsRgb });
  await store.put(job.originalKey, Buffer.alloc(500));
  assert.deepEqual(await handler.handle(job), { faces: 2 });
  const doc = await store.getJson<FacesDocument>(objectKeys.faces(imageId, 'det1'));
  assert.equal(doc?.faces.length, 2);
  assert.equal(doc?.chipsKey, objectKeys.chips(imageId, 'det1'));
  assert.deepEqual(doc?.detect, detectVersion);
  assert.deepEqual(await store.getBytes(objectKeys.chips(imageId, 'det1')), chipsRgb);
  assert.deepEqual(handed, [{ data: job, version: 'det1', faces: 2 }]);
  // Both are consumed by later stages: marked so the bucket's lifecycle rule expires them if not.
  assert.equal(store.objects.get(objectKeys.faces(imageId, 'det1'))?.intermediate, true);
  assert.equal(store.objects.get(objectKeys.chips(imageId, 'det1'))?.intermediate, true);
});

test('detect: no face writes no chips and still hands the image on (to be recorded as "no faces")', async () => {
  const { store, handed, handler } = detectSetup({ faces: [] });
  await store.put(job.originalKey, Buffer.alloc(10));
  assert.deepEqual(await handler.handle(job), { faces: 0 });
  assert.equal(await store.head(objectKeys.chips(imageId, 'det1')), undefined);
  assert.equal((await store.getJson<FacesDocument>(objectKeys.faces(imageId, 'det1')))?.chipsKey, null);
  assert.equal(handed[0]?.faces, 0);
});

test('detect: the same job twice writes the same objects (idempotent) and hands on twice with the same data', async () => {
  const { store, handed, handler } = detectSetup({ faces: [face(0)], chipsRgb: Buffer.from('x') });
  await store.put(job.originalKey, Buffer.alloc(10));
  await handler.handle(job);
  const first = await store.getJson<FacesDocument>(objectKeys.faces(imageId, 'det1'));
  await handler.handle(job);
  const second = await store.getJson<FacesDocument>(objectKeys.faces(imageId, 'det1'));
  assert.deepEqual({ ...first, detectedAt: '', timings: {} }, { ...second, detectedAt: '', timings: {} });
  assert.deepEqual(handed[0], handed[1]);
});

test('detect: an original over the byte limit fails FILE_TOO_LARGE before the model runs; nothing written or handed on', async () => {
  const { store, handed, engine, handler } = detectSetup({ faces: [face(0)] }, 100);
  await store.put(job.originalKey, Buffer.alloc(101));
  await assert.rejects(handler.handle(job), (err: FacepipeError) => err.code === 'FILE_TOO_LARGE' && !err.retryable);
  assert.equal(engine.calls, 0);
  assert.equal(handed.length, 0);
  assert.deepEqual([...store.objects.keys()], [job.originalKey]);
});

test('detect: a missing original is STORED_OBJECT_MISSING (the store\'s failure, retryable); an engine input error passes through typed', async () => {
  const missing = detectSetup({ faces: [] });
  await assert.rejects(missing.handler.handle(job), (err: FacepipeError) => err.code === 'STORED_OBJECT_MISSING' && err.retryable);
  const corrupt = detectSetup(new FacepipeError('CORRUPT_IMAGE', 'bad pixels'));
  await corrupt.store.put(job.originalKey, Buffer.alloc(10));
  await assert.rejects(corrupt.handler.handle(job), (err: FacepipeError) => err.code === 'CORRUPT_IMAGE');
  assert.equal(corrupt.handed.length, 0);
  assert.equal(await corrupt.store.head(objectKeys.faces(imageId, 'det1')), undefined);
});

function embedSetup(decoded: number, dims = 4) {
  const store = new MemoryObjectStore();
  const handed: { data: EmbedJobData; version: string; written?: { chipsView?: true } }[] = [];
  const submitted: number[] = [];
  const formats: string[] = [];
  const handler = new EmbedHandler({
    store,
    engine: {
      version: embedVersion,
      decodeChips: async (_stored: Uint8Array, format: 'rgb' | 'image') => {
        formats.push(format);
        return { chips: new Uint8Array(decoded * 3), count: decoded };
      },
      encodeChipsView: async (_chips: Uint8Array, count: number) => Buffer.from(`view of ${count}`),
    },
    batcher: {
      submit: async (_chips: Uint8Array, count: number) => {
        submitted.push(count);
        return Float32Array.from({ length: count * dims }, (_, i) => i / 10);
      },
    },
    queues: { afterEmbed: async (data, version, written) => void handed.push({ data, version, ...(written ? { written } : {}) }) },
  });
  return { store, handed, submitted, formats, handler };
}

const embedJob: EmbedJobData = { ...job, detectVersion: 'det1', faceCount: 2 };

test('embed: one embedding per chip under image, detect and embed versions; the faces go to the batcher together', async () => {
  const { store, handed, submitted, handler } = embedSetup(2);
  await store.put(objectKeys.chips(imageId, 'det1'), Buffer.from('png'));
  assert.deepEqual(await handler.handle(embedJob), { faces: 2 });
  const doc = await store.getJson<EmbeddingsDocument>(objectKeys.embeddings(imageId, 'det1', 'emb1'));
  assert.deepEqual(
    doc?.embeddings.map((e) => e.map((v) => Math.round(v * 10))),
    [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ],
  );
  assert.deepEqual(doc?.embed, embedVersion);
  assert.deepEqual(submitted, [2]);
  assert.deepEqual(handed, [{ data: embedJob, version: 'emb1', written: { chipsView: true } }]);
  // The display rendition, beside the exact chips (which classify deletes once the result is written).
  assert.equal((await store.getBytes(objectKeys.chipsView(imageId, 'det1'))).toString(), 'view of 2');
  // The embeddings are an intermediate (consumed by classify); the display rendition is kept.
  assert.equal(store.objects.get(objectKeys.embeddings(imageId, 'det1', 'emb1'))?.intermediate, true);
  assert.equal(store.objects.get(objectKeys.chipsView(imageId, 'det1'))?.intermediate, undefined);
});

test('embed: chips that disagree with the job’s face count fail INVALID_PAYLOAD before the model; nothing written', async () => {
  const { store, handed, submitted, handler } = embedSetup(3);
  await store.put(objectKeys.chips(imageId, 'det1'), Buffer.from('png'));
  await assert.rejects(handler.handle(embedJob), (err: FacepipeError) => err.code === 'INVALID_PAYLOAD' && /2 faces.*hold 3/.test(err.message));
  assert.deepEqual(submitted, []);
  assert.equal(handed.length, 0);
  assert.equal(await store.head(objectKeys.embeddings(imageId, 'det1', 'emb1')), undefined);
});

test('embed: chips stored as PNG or lossless WebP by an earlier detect worker are still read, and decoded as images', async () => {
  for (const key of [objectKeys.legacyChipsPng(imageId, 'det1'), objectKeys.previousChipsWebp(imageId, 'det1')]) {
    const { store, handed, formats, handler } = embedSetup(2);
    await store.put(key, Buffer.from('image'));
    assert.deepEqual(await handler.handle(embedJob), { faces: 2 });
    assert.equal(handed.length, 1);
    assert.deepEqual(formats, ['image'], key);
  }
  // The raw chips of this version are taken as they are.
  const { store, formats, handler } = embedSetup(2);
  await store.put(objectKeys.chips(imageId, 'det1'), Buffer.from('raw'));
  await handler.handle(embedJob);
  assert.deepEqual(formats, ['rgb']);
});

test('embed: missing chips are STORED_OBJECT_MISSING (the store\'s failure, retryable)', async () => {
  const { handler } = embedSetup(2);
  await assert.rejects(handler.handle(embedJob), (err: FacepipeError) => err.code === 'STORED_OBJECT_MISSING' && err.retryable);
});

test('embed: a repeat after classify consumed the exact chips (only the display rendition left) is done, embeds and writes nothing', async () => {
  const { store, handed, submitted, handler } = embedSetup(2);
  await store.put(objectKeys.chipsView(imageId, 'det1'), Buffer.from('view'));
  assert.deepEqual(await handler.handle(embedJob), { faces: 2 });
  assert.deepEqual([submitted, handed], [[], []]);
  assert.equal(await store.head(objectKeys.embeddings(imageId, 'det1', 'emb1')), undefined);
});

test('classify: the job batcher runs a batch when it is full or its oldest item has waited, each item with its own outcome', async () => {
  const batches: number[][] = [];
  const batcher = new JobBatcher<number, number>({
    batchSize: 3,
    maxWaitMs: 30,
    maxInFlight: 1,
    run: async (items) => {
      batches.push(items);
      return items.map((n): PromiseSettledResult<number> => (n < 0 ? { status: 'rejected', reason: new FacepipeError('INVALID_PAYLOAD', `bad ${n}`) } : { status: 'fulfilled', value: n * 10 }));
    },
  });
  // Three at once make a full batch; one of them fails alone, typed.
  const full = await Promise.allSettled([1, -2, 3].map((n) => batcher.submit(n)));
  assert.deepEqual(full.map((o) => (o.status === 'fulfilled' ? o.value : (o.reason as FacepipeError).code)), [10, 'INVALID_PAYLOAD', 30]);
  // Two only: they run together once the first has waited maxWaitMs.
  assert.deepEqual(await Promise.all([batcher.submit(4), batcher.submit(5)]), [40, 50]);
  assert.deepEqual(batches, [[1, -2, 3], [4, 5]]);
  // A batch that throws fails its items; close runs what waits at once and is idempotent.
  const throwing = new JobBatcher<number, number>({ batchSize: 10, maxWaitMs: 60_000, run: () => Promise.reject(new Error('down')) });
  const pending = throwing.submit(1);
  await throwing.close();
  await throwing.close();
  await assert.rejects(pending, /down/);
  await assert.rejects(throwing.submit(2), /closed/);
});

test('embed: the micro-batcher fills batches across jobs, splits a job between batches, fails only the jobs of a failed batch, and runs what waits on close', async () => {
  const runs: number[][] = [];
  let failNext = false;
  // A "chip" is one byte; the model's "embedding" of a chip is its value, twice.
  const batcher = new MicroBatcher({
    batchSize: 4,
    maxWaitMs: 30,
    chipBytes: 1,
    dims: 2,
    run: async (chips, count) => {
      runs.push([...chips]);
      if (failNext) {
        failNext = false;
        throw new Error('model down');
      }
      return Float32Array.from({ length: count * 2 }, (_, i) => chips[Math.floor(i / 2)]!);
    },
  });
  // Three faces and three faces: one full batch of four, the rest once the oldest has waited.
  const [a, b] = await Promise.all([batcher.submit(Uint8Array.of(1, 2, 3), 3), batcher.submit(Uint8Array.of(4, 5, 6), 3)]);
  assert.deepEqual([...a], [1, 1, 2, 2, 3, 3]);
  assert.deepEqual([...b], [4, 4, 5, 5, 6, 6]);
  assert.deepEqual(runs, [[1, 2, 3, 4], [5, 6]]);
  // A failed batch fails the jobs in it; the next job is embedded.
  failNext = true;
  await assert.rejects(batcher.submit(Uint8Array.of(7, 8, 9, 10), 4), /model down/);
  assert.deepEqual([...(await batcher.submit(Uint8Array.of(11), 1))], [11, 11]);
  await assert.rejects(batcher.submit(Uint8Array.of(1), 2), RangeError, 'chips that do not match the count are refused');
  // Close runs a partial batch at once (no maxWaitMs), then refuses new work; it is idempotent.
  const slow = new MicroBatcher({ batchSize: 8, maxWaitMs: 60_000, chipBytes: 1, dims: 1, run: async (chips) => Float32Array.from(chips) });
  const waiting = slow.submit(Uint8Array.of(9), 1);
  await slow.close();
  await slow.close();
  assert.deepEqual([...(await waiting)], [9]);
  await assert.rejects(slow.submit(Uint8Array.of(1), 1), /closed/);
});
