import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FacepipeError, S3HttpClient, S3ObjectStore } from '@facepipe/core';

// A scripted HTTP server: each test queues the answers the client gets, and the server records
// what it was asked. This tests the client's handling of failures real servers produce rarely.
type Answer = (req: IncomingMessage, res: ServerResponse) => void;
let server: Server;
let endpoint: string;
const answers: Answer[] = [];
const seen: { method: string; url: string; headers: IncomingMessage['headers']; body: Buffer }[] = [];

before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      const answer = answers.shift() ?? ((_, r) => r.writeHead(500).end());
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const client = (overrides: Partial<ConstructorParameters<typeof S3HttpClient>[0]> = {}) =>
  new S3HttpClient({
    bucket: 'photos',
    region: 'eu-central-1',
    endpoint,
    credentials: async () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret', sessionToken: 'tok' }),
    baseDelayMs: 1,
    ...overrides,
  });
const xmlError = (status: number, code: string, message: string): Answer => (_, res) =>
  res.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
const ok = (body = ''): Answer => (_, res) => res.writeHead(200, { 'content-length': Buffer.byteLength(body) }).end(body);

test('requests are path-style, signed, and carry the body with its length and type', async () => {
  seen.length = 0;
  const c = client();
  answers.push(ok(), ok('hello'));
  await c.put('results/ab/x y.json', Buffer.from('{"a":1}'), { contentType: 'application/json' });
  assert.deepEqual(await c.get('results/ab/x y.json'), Buffer.from('hello'));
  const [put, get] = seen;
  assert.equal(put!.method, 'PUT');
  assert.equal(put!.url, '/photos/results/ab/x%20y.json');
  assert.equal(put!.headers['content-type'], 'application/json');
  assert.equal(put!.headers['content-length'], '7');
  assert.equal(put!.body.toString(), '{"a":1}');
  assert.match(put!.headers.authorization!, /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/eu-central-1\/s3\/aws4_request, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/);
  assert.equal(put!.headers['x-amz-security-token'], 'tok');
  assert.equal(get!.method, 'GET');
  c.close();
  c.close();
});

test('404 is "absent" for get and head, and success for delete', async () => {
  const c = client();
  answers.push(xmlError(404, 'NoSuchKey', 'gone'), xmlError(404, 'NoSuchKey', 'gone'), xmlError(404, 'NoSuchKey', 'gone'));
  assert.equal(await c.get('k'), undefined);
  assert.equal(await c.head('k'), undefined);
  await c.delete('k');
  c.close();
});

test('5xx, SlowDown and cut-off responses are retried with backoff; then the request succeeds', async () => {
  seen.length = 0;
  const c = client();
  answers.push(
    xmlError(503, 'SlowDown', 'reduce your request rate'),
    (_, res) => {
      // Promises 100 bytes, sends 10, hangs up.
      res.writeHead(200, { 'content-length': 100 });
      res.write('0123456789');
      res.socket?.destroy();
    },
    xmlError(500, 'InternalError', 'oops'),
    ok('whole'),
  );
  assert.deepEqual(await c.get('k'), Buffer.from('whole'));
  assert.equal(seen.length, 4);
  c.close();
});

test('retries stop after maxAttempts with a typed, retryable storage error naming the request', async () => {
  const c = client({ maxAttempts: 3 });
  answers.push(xmlError(503, 'SlowDown', 'a'), xmlError(503, 'SlowDown', 'b'), xmlError(503, 'SlowDown', 'c'));
  await assert.rejects(c.put('k/1', Buffer.from('x')), (err: unknown) => {
    assert.ok(err instanceof FacepipeError);
    assert.equal(err.code, 'STORAGE_UNAVAILABLE');
    assert.equal(err.retryable, true);
    assert.match(err.message, /^put k\/1: HTTP 503 SlowDown: c \(after 3 attempts\)$/);
    return true;
  });
  c.close();
});

test('an access error is not retried here; its S3 code and message reach the error', async () => {
  seen.length = 0;
  const c = client();
  answers.push(xmlError(403, 'AccessDenied', 'Access Denied'));
  await assert.rejects(c.get('secret'), /get secret: HTTP 403 AccessDenied: Access Denied$/);
  assert.equal(seen.length, 1);
  c.close();
});

test('a server that is not there is a storage error after the attempts', async () => {
  const c = client({ endpoint: 'http://127.0.0.1:1', maxAttempts: 2 });
  await assert.rejects(c.head('k'), (err: unknown) => err instanceof FacepipeError && err.code === 'STORAGE_UNAVAILABLE' && /ECONNREFUSED/.test(err.message));
  c.close();
});

test('virtual-hosted addressing puts the bucket in the host', async () => {
  seen.length = 0;
  const c = client({ endpoint: endpoint.replace('127.0.0.1', 'localhost'), forcePathStyle: false });
  // photos.localhost resolves to loopback on most systems; when it does not, skip the check.
  answers.push(ok('v'));
  try {
    assert.deepEqual(await c.get('a/b'), Buffer.from('v'));
  } catch (err) {
    if (err instanceof FacepipeError && /ENOTFOUND|EAI_AGAIN/.test(err.message)) return;
    throw err;
  } finally {
    c.close();
  }
  assert.equal(seen[0]!.url, '/a/b');
  assert.match(seen[0]!.headers.host!, /^photos\.localhost:\d+$/);
});

test("S3ObjectStore's light path takes credentials from the AWS SDK's default chain (here AWS_* variables, with a session token)", async () => {
  seen.length = 0;
  const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, token: process.env.AWS_SESSION_TOKEN };
  process.env.AWS_ACCESS_KEY_ID = 'AKIDFROMENV';
  process.env.AWS_SECRET_ACCESS_KEY = 'secret-from-env';
  process.env.AWS_SESSION_TOKEN = 'session-from-env';
  const store = new S3ObjectStore({ bucket: 'photos', region: 'us-west-2', endpoint });
  try {
    answers.push(ok());
    await store.putJson('a.json', { a: 1 });
    assert.match(seen[0]!.headers.authorization!, /^AWS4-HMAC-SHA256 Credential=AKIDFROMENV\/\d{8}\/us-west-2\/s3\/aws4_request, /);
    assert.equal(seen[0]!.headers['x-amz-security-token'], 'session-from-env');
  } finally {
    await store.close();
    for (const [name, value] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret], ['AWS_SESSION_TOKEN', saved.token]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});
