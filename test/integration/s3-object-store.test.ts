import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { GetObjectTaggingCommand } from '@aws-sdk/client-s3';
import { FacepipeError, S3ObjectStore } from '@facepipe/core';
import { startS3, type TestS3 } from '../helpers/s3-server.js';

const setups = [
  { engine: 's3rver', requestClient: 'light' },
  { engine: 's3rver', requestClient: 'sdk' },
  { engine: 'local', requestClient: 'light' },
  { engine: 'local', requestClient: 'sdk' },
] as const;
for (const { engine, requestClient } of setups) describe(`S3ObjectStore (${requestClient === 'sdk' ? 'AWS SDK only' : 'light client for single objects'}) against ${engine === 'local' ? "facepipe's embedded server" : 's3rver'}`, () => {
let s3: TestS3;
let store: S3ObjectStore;

before(async () => {
  s3 = await startS3('store-test', engine);
  store = new S3ObjectStore({
    bucket: s3.bucket,
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.env.S3_ACCESS_KEY_ID!, secretAccessKey: s3.env.S3_SECRET_ACCESS_KEY! },
    requestClient,
  });
  await store.ensureBucket();
  await store.ensureBucket(); // idempotent
});
after(async () => {
  await store.close();
  await store.close();
  await s3.stop();
});

test('objects round-trip over HTTP', async () => {
  await store.put('a/b/one.bin', Buffer.from([1, 2, 3]), { contentType: 'application/octet-stream' });
  assert.deepEqual([...(await store.getBytes('a/b/one.bin'))], [1, 2, 3]);
  const info = await store.head('a/b/one.bin');
  assert.equal(info?.size, 3);
  assert.equal(info?.contentType, 'application/octet-stream');
  assert.ok(info?.lastModified instanceof Date && !Number.isNaN(info.lastModified.getTime()));
  // Keys with spaces, plus signs and non-ASCII people's names reach the server intact.
  const odd = "gallery/members/Zoë O'Neil (2)/a b+c~d*é.json";
  await store.putJson(odd, { ok: true });
  assert.deepEqual(await store.getJson(odd), { ok: true });
  const listed: string[] = [];
  for await (const item of store.list('gallery/members/')) listed.push(item.key);
  assert.deepEqual(listed, [odd]);
  await store.delete(odd);
  assert.equal(await store.head(odd), undefined);
  await store.putJson('a/doc.json', { hello: 'world' });
  assert.deepEqual(await store.getJson('a/doc.json'), { hello: 'world' });
  const streamed = Buffer.alloc(300_000, 7);
  await store.put('a/streamed.bin', Readable.from([streamed]), { contentLength: streamed.length });
  const chunks: Buffer[] = [];
  for await (const c of await store.getStream('a/streamed.bin')) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).length, streamed.length);
});

test('missing objects are typed, not thrown as SDK errors', async () => {
  assert.equal(await store.head('nope'), undefined);
  assert.equal(await store.getJson('nope.json'), undefined);
  await assert.rejects(store.getBytes('nope'), (err: unknown) => err instanceof FacepipeError && err.code === 'OBJECT_NOT_FOUND');
  await store.delete('nope');
});

test('listing pages through more than one response', async () => {
  const keys = Array.from({ length: 130 }, (_, i) => `many/${String(i).padStart(5, '0')}`);
  for (let i = 0; i < keys.length; i += 50) {
    await Promise.all(keys.slice(i, i + 50).map((k) => store.put(k, 'x')));
  }
  const listed: string[] = [];
  for await (const item of store.list('many/', { pageSize: 50 })) listed.push(item.key);
  assert.deepEqual(listed, keys);
  const after: string[] = [];
  for await (const item of store.list('many/', { startAfter: 'many/00100', pageSize: 7 })) after.push(item.key);
  assert.deepEqual(after, keys.slice(101));
});

test('a JSON document read while it is being written comes back whole, never as a parse error', async () => {
  // S3 replaces objects atomically. s3rver on its own writes in place (a reader could catch half
  // a document), so the embedded s3rver is made to write aside and rename, as the local server
  // does; and S3ObjectStore reads a document that does not parse again. Either way a reader sees
  // nothing or the whole document.
  const doc = { faces: Array.from({ length: 120 }, (_, i) => ({ i, embedding: Array<number>(128).fill(0.123456) })) };
  let whole = 0;
  for (let round = 0; round < 40; round++) {
    const key = `torn/${round}.json`;
    let written = false;
    const put = store.putJson(key, doc).then(() => {
      written = true;
    });
    while (!written) {
      const read = await store.getJson<typeof doc>(key);
      if (read) {
        assert.equal(read.faces.length, doc.faces.length);
        whole++;
      }
    }
    await put;
  }
  assert.ok(whole > 0 || engine === 'local', 'some reads overlapped a write');
});

test('read after write: an object read right after its PUT returned is whole', async () => {
  const body = Buffer.from(`${'{"index":1,"source":"a/b.jpg"}\n'.repeat(40)}`);
  for (let round = 0; round < 100; round++) {
    const key = `raw/part-${round}.jsonl`;
    await store.put(key, body, { contentType: 'application/x-ndjson' });
    assert.equal((await store.getBytes(key)).length, body.length, `round ${round}`);
  }
});

test('a stored document that is not JSON is a typed storage error after the rereads', async () => {
  await store.put('broken.json', '{"half": ');
  const quick = new S3ObjectStore({ bucket: s3.bucket, region: 'us-east-1', endpoint: s3.endpoint, credentials: { accessKeyId: s3.env.S3_ACCESS_KEY_ID!, secretAccessKey: s3.env.S3_SECRET_ACCESS_KEY! }, jsonRereadDelaysMs: [1, 1], requestClient });
  await assert.rejects(quick.getJson('broken.json'), (err: unknown) => {
    assert.ok(err instanceof FacepipeError);
    assert.equal(err.code, 'STORAGE_UNAVAILABLE');
    assert.match(err.message, /get broken\.json: 9 bytes that are not a JSON document after 3 reads/);
    return true;
  });
  await quick.close();
});

test('server-side copy', async () => {
  await store.copyFrom(s3.bucket, 'a/b/one.bin', 'copied/one.bin');
  assert.deepEqual([...(await store.getBytes('copied/one.bin'))], [1, 2, 3]);
});

test('intermediates are tagged for the bucket lifecycle rule where the server keeps rules, and written plainly where it does not', async () => {
  const setup = await store.ensureBucket();
  await store.put('faces/t/d/chips.webp', Buffer.from([1]), { intermediate: true });
  await store.putJson('faces/t/d/faces.json', { faces: [] }, { intermediate: true });
  await store.putJson('results/t.json', { faces: [] });
  const tagsOf = async (key: string) => (await store.client.send(new GetObjectTaggingCommand({ Bucket: s3.bucket, Key: key }))).TagSet ?? [];
  if (engine === 'local') {
    assert.deepEqual(setup, { intermediateExpiry: 'kept' });
    for (const key of ['faces/t/d/chips.webp', 'faces/t/d/faces.json']) assert.deepEqual(await tagsOf(key), [{ Key: 'facepipe-lifecycle', Value: 'intermediate' }], key);
    assert.deepEqual(await tagsOf('results/t.json'), []);
  } else {
    // s3rver has no lifecycle rules: said so (the worker logs it once), and nothing else changes.
    assert.equal(setup.intermediateExpiry, 'unsupported');
    assert.match(setup.detail ?? '', /does not implement bucket lifecycle rules/);
    assert.deepEqual(await store.getJson('faces/t/d/faces.json'), { faces: [] });
  }
});
});
