import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryObjectStore, type GalleryDocument } from '@facepipe/core';
import { GalleryCache, GalleryRepository } from '@facepipe/worker-classify';

const gallery = (version: number): GalleryDocument => ({
  schema: 'facepipe.gallery/1',
  version,
  createdAt: new Date().toISOString(),
  reason: 'test',
  embedVersion: '0123456789ab',
  embeddingModel: 'm',
  people: [{ name: `p${version}`, faces: [{ imageId: 'i', faceIndex: 0, cropKey: 'k', cropIndex: 0, embedding: Array(128).fill(version / 100) }] }],
  svm: null,
  skipped: [],
});

test('a new version is used at the next job when the version signal moves, not refreshMs later', async () => {
  const repository = new GalleryRepository(new MemoryObjectStore());
  let signal: number | null = null;
  const cache = new GalleryCache(repository, { classifier: 'nearest', tolerance: 0.6, refreshMs: 3_600_000, publishedVersion: async () => signal });
  await repository.publish(gallery(1));
  signal = 1;
  assert.equal((await cache.current()).version, 1);
  await repository.publish(gallery(2));
  assert.equal((await cache.current()).version, 1, 'unchanged signal: no S3 read');
  signal = 2;
  assert.equal((await cache.current()).version, 2);
});

test('an invalidation during a refresh that read the old pointer is not lost', async () => {
  const store = new MemoryObjectStore();
  const repository = new GalleryRepository(store);
  await repository.publish(gallery(1));
  const cache = new GalleryCache(repository, { classifier: 'nearest', tolerance: 0.6, refreshMs: 3_600_000 });
  const readPointer = repository.readPointer.bind(repository);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  repository.readPointer = async () => {
    const p = await readPointer();
    await gate;
    return p;
  };
  const inFlight = cache.current(); // reads pointer v1, then waits
  await new Promise((r) => setImmediate(r));
  await repository.publish(gallery(2));
  cache.invalidate();
  release();
  assert.equal((await inFlight).version, 1);
  repository.readPointer = readPointer;
  assert.equal((await cache.current()).version, 2, 'the invalidation forces another look');
});
