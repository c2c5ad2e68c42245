import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutBucketLifecycleConfigurationCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { canonicalRequest, EMPTY_PAYLOAD_SHA256, FacepipeError, S3ObjectStore, SigV4Signer } from '@facepipe/core';
import { decodeAwsChunked, LocalS3Server } from '@facepipe/devstack';

let dir: string;
let server: LocalS3Server;
let endpoint: string;
const client = (accessKeyId = 'facepipe') =>
  new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true, credentials: { accessKeyId, secretAccessKey: server.secretAccessKey } });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'facepipe-local-s3-'));
  server = new LocalS3Server({ directory: dir });
  endpoint = await server.start(0);
  const store = new S3ObjectStore({ bucket: 'local-test', region: 'us-east-1', endpoint, credentials: { accessKeyId: 'facepipe', secretAccessKey: server.secretAccessKey } });
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

test('signatures are verified: forged, wrong-secret, stale or missing → 403 with S3 error XML; a presigned URL works; a body that is not the signed one → 400', async () => {
  const signer = new SigV4Signer({ region: 'us-east-1' });
  const url = new URL(`${endpoint}/local-test/a/1`);
  const signed = (secretAccessKey: string, when = new Date(), method = 'GET', payloadHash = EMPTY_PAYLOAD_SHA256) =>
    signer.sign({ method, host: url.host, path: url.pathname, payloadHash }, { accessKeyId: 'facepipe', secretAccessKey }, when);
  const errorCode = async (res: Response) => /<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1];

  const ok = await fetch(url, { headers: signed(server.secretAccessKey) });
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), 'a/1');

  const unsigned = await fetch(url);
  assert.equal(unsigned.status, 403);
  assert.equal(await errorCode(unsigned), 'AccessDenied');

  const forgedHeaders = signed(server.secretAccessKey);
  forgedHeaders.authorization = forgedHeaders.authorization!.replace(/Signature=\w+/, `Signature=${'deadbeef'.repeat(8)}`);
  const forged = await fetch(url, { headers: forgedHeaders });
  assert.equal(forged.status, 403);
  assert.equal(await errorCode(forged), 'SignatureDoesNotMatch');

  const forgedPut = await fetch(url, { method: 'PUT', body: 'evil', headers: { ...forgedHeaders } });
  assert.equal(forgedPut.status, 403, 'a forged PUT writes nothing');
  assert.equal(await (await fetch(url, { headers: signed(server.secretAccessKey) })).text(), 'a/1');

  const otherSecret = await fetch(url, { headers: signed('facepipe-local') });
  assert.equal(await errorCode(otherSecret), 'SignatureDoesNotMatch', 'the secret every deployment used to share is refused');
  const stale = await fetch(url, { headers: signed(server.secretAccessKey, new Date(Date.now() - 3_600_000)) });
  assert.equal(stale.status, 403);
  assert.equal(await errorCode(stale), 'RequestTimeTooSkewed');

  // A PUT whose body is not the one whose hash was signed.
  const putUrl = new URL(`${endpoint}/local-test/tmp/signed-body`);
  const putHeaders = signer.sign({ method: 'PUT', host: putUrl.host, path: putUrl.pathname, payloadHash: createHash('sha256').update('good').digest('hex') }, { accessKeyId: 'facepipe', secretAccessKey: server.secretAccessKey });
  const swapped = await fetch(putUrl, { method: 'PUT', body: 'bad!', headers: putHeaders });
  assert.equal(swapped.status, 400);
  assert.equal(await errorCode(swapped), 'XAmzContentSHA256Mismatch');

  // Presigned (query) form, made by hand with core's canonical request.
  const timestamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const query: Record<string, string> = {
    'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
    'X-Amz-Credential': `facepipe/${timestamp.slice(0, 8)}/us-east-1/s3/aws4_request`,
    'X-Amz-Date': timestamp,
    'X-Amz-Expires': '60',
    'X-Amz-SignedHeaders': 'host',
  };
  const signature = signer.signature(server.secretAccessKey, timestamp, canonicalRequest('GET', url.pathname, query, ['host'], { host: url.host }, 'UNSIGNED-PAYLOAD'));
  const presigned = new URL(url);
  for (const [k, v] of Object.entries(query)) presigned.searchParams.set(k, v);
  presigned.searchParams.set('X-Amz-Signature', signature);
  assert.equal((await fetch(presigned)).status, 200);
  presigned.searchParams.set('X-Amz-Signature', 'deadbeef'.repeat(8));
  assert.equal(await errorCode(await fetch(presigned)), 'SignatureDoesNotMatch');
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
  const store = new S3ObjectStore({ bucket: 'local-test', region: 'us-east-1', endpoint, credentials: { accessKeyId: 'facepipe', secretAccessKey: server.secretAccessKey }, maxAttempts: 1 });
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

test("lifecycle: facepipe's rule joins the bucket's own, tagged intermediates expire after their days (rounded to midnight UTC), nothing else does, and the rules and tags survive a restart", async () => {
  const lcDir = mkdtempSync(join(tmpdir(), 'facepipe-local-s3-lc-'));
  let clock = Date.parse('2026-03-01T10:00:00Z');
  const day = 86_400_000;
  let lc = new LocalS3Server({ directory: lcDir, now: () => clock, lifecycleSweepMs: 0 });
  let lcEndpoint = await lc.start(0);
  const open = () => new S3ObjectStore({ bucket: 'lc-test', region: 'us-east-1', endpoint: lcEndpoint, credentials: { accessKeyId: 'facepipe', secretAccessKey: lc.secretAccessKey }, intermediateExpiryDays: 3 });
  const sdk = () => new S3Client({ region: 'us-east-1', endpoint: lcEndpoint, forcePathStyle: true, credentials: { accessKeyId: 'facepipe', secretAccessKey: lc.secretAccessKey } });
  let store = open();
  let s3 = sdk();
  /** Stops the server and its clients and starts it again on the same folder. */
  const restart = async (lifecycleSweepMs: number) => {
    await store.close();
    s3.destroy();
    await lc.close();
    lc = new LocalS3Server({ directory: lcDir, now: () => clock, lifecycleSweepMs });
    lcEndpoint = await lc.start(0);
    store = open();
    s3 = sdk();
  };
  try {
    await store.ensureBucket();
    // An operator's own rule, already on the bucket: facepipe's is added beside it, never over it.
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'lc-test', LifecycleConfiguration: { Rules: [{ ID: 'operator-logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 30 } }] } }));
    assert.deepEqual(await store.ensureBucket(), { intermediateExpiry: 'set' });
    assert.deepEqual(await store.ensureBucket(), { intermediateExpiry: 'kept' });
    const rules = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'lc-test' }))).Rules ?? [];
    assert.deepEqual(rules.map((r) => [r.ID, r.Expiration?.Days]).sort(), [['facepipe-intermediates', 3], ['operator-logs', 30]]);

    await store.putJson('faces/i1/d1/faces.json', { faces: [] }, { intermediate: true });
    await store.put('faces/i1/d1/chips.webp', Buffer.from('chips'), { intermediate: true });
    await store.put('faces/i1/d1/chips-view.webp', Buffer.from('view'));
    await store.putJson('results/i1.json', { ok: true });
    await store.put('logs/a.txt', 'log');
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: 'lc-test', Key: 'faces/i1/d1/chips.webp' }));
    assert.deepEqual(tags.TagSet, [{ Key: 'facepipe-lifecycle', Value: 'intermediate' }]);
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'lc-test', Key: 'faces/i1/d1/chips.webp' }))).TagCount, 1);
    // A copy keeps the source's tags; tags can be removed by a put of an empty set (kept for good).
    await s3.send(new CopyObjectCommand({ Bucket: 'lc-test', Key: 'faces/i1/d1/copy.json', CopySource: 'lc-test/faces/i1/d1/faces.json' }));
    await store.putJson('faces/i2/d1/faces.json', {}, { intermediate: true });
    await s3.send(new PutObjectTaggingCommand({ Bucket: 'lc-test', Key: 'faces/i2/d1/faces.json', Tagging: { TagSet: [] } }));
    // A configuration the store does not serve is refused, never answered with a listing.
    await assert.rejects(s3.send(new GetBucketPolicyCommand({ Bucket: 'lc-test' })), (err: Error) => err.name === 'NotImplemented');

    // Day 3 after 10:00 is not over until midnight UTC: nothing yet.
    clock += 3 * day;
    assert.equal(await lc.expireNow(), 0);
    // The rules and tags are on disk: a restart keeps them.
    await restart(0);
    clock = Date.parse('2026-03-05T00:00:00Z');
    assert.equal(await lc.expireNow(), 3);
    const left: string[] = [];
    for await (const o of store.list('')) left.push(o.key);
    assert.deepEqual(left, ['faces/i1/d1/chips-view.webp', 'faces/i2/d1/faces.json', 'logs/a.txt', 'results/i1.json']);
    // The operator's rule runs too, in its own time: here at the start of a server that sweeps
    // on its own (the first sweep runs at start, so short-lived stacks expire objects too).
    clock += 30 * day;
    await restart(3_600_000);
    // Nobody calls expireNow here: the sweep begun at start removes it.
    for (let i = 0; i < 100 && (await store.head('logs/a.txt')) !== undefined; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await store.head('logs/a.txt'), undefined);
  } finally {
    await store.close();
    s3.destroy();
    await lc.close();
    rmSync(lcDir, { recursive: true, force: true });
  }
});
