import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { FacepipeError, S3ObjectStore } from '@facepipe/core';
import { decodeAwsChunked, LocalS3Server } from '@facepipe/devstack';

let dir: string;
let server: LocalS3Server;
let endpoint: string;
const client = (accessKeyId = 'facepipe') =>
  new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey: 'x' } });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'facepipe-local-s3-'));
  server = new LocalS3Server({ directory: dir });
  endpoint = await server.start(0);
  const store = new S3ObjectStore({ bucket: 'local-test', region: 'us-east-1', endpoint, credentials: { accessKeyId: 'facepipe', secretAccessKey: 'x' } });
  await store.ensureBucket();
  for (const key of ['a/1', 'a/2', 'a/b/3', 'a-c', 'b/1', 'z']) await store.put(key, key);
  await store.close();
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('ListObjectsV2 pages with continuation tokens and groups by delimiter', async () => {
  const s3 = client();
  const page1 = await s3.send(new ListObjectsV2Command({ Bucket: 'local-test', MaxKeys: 2 }));
  assert.deepEqual(page1.Contents?.map((c) => c.Key), ['a-c', 'a/1']);
  assert.equal(page1.IsTruncated, true);
  const page2 = await s3.send(new ListObjectsV2Command({ Bucket: 'local-test', MaxKeys: 10, ContinuationToken: page1.NextContinuationToken }));
  assert.deepEqual(page2.Contents?.map((c) => c.Key), ['a/2', 'a/b/3', 'b/1', 'z']);
  const grouped = await s3.send(new ListObjectsV2Command({ Bucket: 'local-test', Prefix: 'a/', Delimiter: '/' }));
  assert.deepEqual(grouped.Contents?.map((c) => c.Key), ['a/1', 'a/2']);
  assert.deepEqual(grouped.CommonPrefixes?.map((p) => p.Prefix), ['a/b/']);
  s3.destroy();
});

test('ranges, multi-object delete, and the access key is checked', async () => {
  const s3 = client();
  const part = await s3.send(new GetObjectCommand({ Bucket: 'local-test', Key: 'a/b/3', Range: 'bytes=2-4' }));
  assert.equal(await part.Body?.transformToString(), 'b/3');
  await s3.send(new PutObjectCommand({ Bucket: 'local-test', Key: 'tmp/x', Body: 'x' }));
  await s3.send(new DeleteObjectsCommand({ Bucket: 'local-test', Delete: { Objects: [{ Key: 'tmp/x' }, { Key: 'never' }] } }));
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'local-test', Prefix: 'tmp/' }));
  assert.equal(listed.KeyCount, 0);
  s3.destroy();
  const stranger = client('someone-else');
  await assert.rejects(stranger.send(new HeadBucketCommand({ Bucket: 'local-test' })), (e: Error & { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode === 403);
  stranger.destroy();
});

test('objects survive a restart (the index log is replayed)', async () => {
  await server.close();
  server = new LocalS3Server({ directory: dir });
  endpoint = await server.start(0);
  const s3 = client();
  const got = await s3.send(new GetObjectCommand({ Bucket: 'local-test', Key: 'a/b/3' }));
  assert.equal(await got.Body?.transformToString(), 'a/b/3');
  const all = await s3.send(new ListObjectsV2Command({ Bucket: 'local-test' }));
  assert.equal(all.KeyCount, 6);
  s3.destroy();
});

test('aws-chunked bodies are decoded', () => {
  const body = Buffer.from('5;chunk-signature=abc\r\nhello\r\n6;chunk-signature=def\r\n world\r\n0;chunk-signature=00\r\n\r\n');
  assert.equal(decodeAwsChunked(body).toString(), 'hello world');
});

test('a torn or altered object is reported missing, never served; puts leave no temporary files', async () => {
  const store = new S3ObjectStore({ bucket: 'local-test', region: 'us-east-1', endpoint, credentials: { accessKeyId: 'facepipe', secretAccessKey: 'x' }, maxAttempts: 1 });
  const dataPath = (key: string) => {
    const h = createHash('sha1').update(key).digest('hex');
    return join(dir, 'local-test', 'data', h.slice(0, 2), h);
  };
  const missing = (err: unknown) => err instanceof FacepipeError && err.code === 'OBJECT_NOT_FOUND';
  await store.put('torn/short', Buffer.alloc(5000, 7));
  await store.put('torn/altered', 'the original words');
  await store.put('torn/large', Buffer.alloc(1.5 * 1024 * 1024, 3));
  assert.equal((await store.getBytes('torn/short')).length, 5000);
  const tornBefore = server.tornReads;
  truncateSync(dataPath('torn/short'), 1234);
  writeFileSync(dataPath('torn/altered'), 'the altered  words');
  truncateSync(dataPath('torn/large'), 1024);
  await assert.rejects(store.getBytes('torn/short'), missing);
  await assert.rejects(store.getBytes('torn/altered'), missing);
  await assert.rejects(store.getBytes('torn/large'), missing);
  assert.equal(server.tornReads - tornBefore, 3);
  // Stored again, it is whole again.
  await store.put('torn/short', Buffer.alloc(5000, 7));
  assert.equal((await store.getBytes('torn/short')).length, 5000);
  const leftovers = readdirSync(join(dir, 'local-test', 'data'), { recursive: true }).filter((f) => String(f).endsWith('.tmp'));
  assert.deepEqual(leftovers, []);
  await store.close();
});
