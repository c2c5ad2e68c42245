import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
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
import { S3ObjectStore } from '@facepipe/core';
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
