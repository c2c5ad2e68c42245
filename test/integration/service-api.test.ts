import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { basename, join } from 'node:path';
import { ConfigError, loadConfig, objectKeys } from '@facepipe/core';
import { startService, type ImageStatus, type RunningService, type UploadResult } from '@facepipe/service';
import { dataPath, missingData } from '../helpers/data.js';
import { startLivePipeline, type LivePipeline } from '../helpers/live-pipeline.js';
import { OpenApiContract } from '../helpers/openapi-contract.js';
import sharp from 'sharp';

const photos = {
  obama: 'recognition/face_recognition_examples/knn_test/obama1.jpg',
  twoFaces: 'recognition/face_recognition_examples/knn_test/kit_with_rose.jpg',
  noFace: 'negatives/scikit-image/coins.png',
  truncated: 'hard_cases/compreface_formats/truncated.jpg',
  empty: 'hard_cases/compreface_formats/empty.png',
  tooManyBytes: 'recognition/face_recognition_examples/knn_test/alex_lacamoire1.jpg',
  tooManyPixels: 'recognition/face_recognition_examples/knn_test/obama_and_biden.jpg',
  enrollA: 'recognition/face_recognition_examples/knn_train/obama/obama.jpg',
  enrollB: 'recognition/face_recognition_examples/knn_train/obama/obama2.jpg',
  probe: 'recognition/face_recognition_examples/extra_probes/obama-480p.jpg',
};
const skip = missingData(...Object.values(photos));
const token = 'test-token-0123456789abcdef';

let pipeline: LivePipeline;
let service: RunningService;
/** Every answer `call` gets is checked against the served /openapi.json. */
let contract: OpenApiContract;
const auth = { authorization: `Bearer ${token}` };

const bytesOf = (rel: string) => readFileSync(dataPath(rel));
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function form(files: { name: string; bytes: Buffer; externalId?: string }[], fields: Record<string, string> = {}): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  for (const file of files) {
    if (file.externalId) f.append('externalId', file.externalId);
    f.append('file', new Blob([new Uint8Array(file.bytes)]), file.name);
  }
  return f;
}
const photo = (rel: string, externalId?: string) => ({ name: basename(rel), bytes: bytesOf(rel), externalId });

async function call(method: string, path: string, body?: FormData | string, headers: Record<string, string> = auth): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(`${service.url}${path}`, { method, body, headers, redirect: 'manual' });
  const text = await res.text();
  contract?.check(method, path, res.status, res.headers.get('content-type'), text);
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json, headers: res.headers };
}

/** A GET whose answer is checked against /openapi.json like `call`'s, for bodies read as bytes. */
async function get(path: string, headers: Record<string, string> = auth): Promise<Response> {
  const res = await fetch(`${service.url}${path}`, { headers });
  contract.check('GET', path, res.status, res.headers.get('content-type'), await res.clone().text());
  return res;
}

async function waitForImage(id: string, timeoutMs = 120_000): Promise<ImageStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, json } = await call('GET', `/v1/images/${id}`);
    assert.equal(status, 200, JSON.stringify(json));
    if (json.status === 'done' || json.status === 'failed') return json as ImageStatus;
    if (Date.now() > deadline) throw new Error(`image ${id} still ${json.status}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

describe('upload API on a live pipeline', { skip }, () => {
  before(async () => {
    pipeline = await startLivePipeline({
      FACEPIPE_API_TOKEN: token,
      FACEPIPE_UPLOAD_MAX_BYTES: '700000',
      FACEPIPE_MAX_PIXELS: '2500000',
      FACEPIPE_UPLOAD_MAX_FILES: '5',
      FACEPIPE_JOB_ATTEMPTS: '2',
    });
    service = await startService({ config: pipeline.config, host: '127.0.0.1', port: 0 });
    contract = new OpenApiContract((await (await fetch(`${service.url}/openapi.json`)).json()) as Record<string, unknown>);
  });
  after(async () => {
    await service?.close();
    await pipeline?.stop();
  });

  test('refuses a non-loopback address without a token, before connecting to anything', async () => {
    const open = loadConfig({ ...pipeline.s3.env, REDIS_URL: 'redis://127.0.0.1:1' });
    await assert.rejects(startService({ config: open, host: '0.0.0.0', port: 0 }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /FACEPIPE_HTTP_HOST \("0\.0\.0\.0"\) is not a loopback address and FACEPIPE_API_TOKEN is unset/);
      return true;
    });
  });

  test('a bearer token is required on the API, the dashboard data and bull-board; probes are open', async () => {
    for (const path of ['/v1/people', '/dashboard/api/overview', '/dashboard/jobs/', '/v1/batches']) {
      const none = await call('GET', path, undefined, {});
      assert.equal(none.status, 401, path);
      assert.equal(none.json.error.code, 'UNAUTHORIZED');
      assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="facepipe"');
      assert.equal((await call('GET', path, undefined, { authorization: 'Bearer wrong-token-wrong-token' })).status, 401, path);
      assert.equal((await call('GET', path)).status, 200, path);
    }
    assert.equal((await call('POST', '/v1/images', form([photo(photos.obama)]), {})).status, 401);
    for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/favicon.svg', '/favicon.ico']) assert.equal((await call('GET', path, undefined, {})).status, 200, path);
    // Every page has an icon (browsers ask for /favicon.ico by themselves), and bull-board's page links nothing off the service.
    assert.equal((await fetch(`${service.url}/favicon.ico`)).headers.get('content-type'), 'image/png');
    const board = await call('GET', '/dashboard/jobs/');
    assert.doesNotMatch(String(board.json), /https?:\/\/(?!127\.0\.0\.1)|fonts\.googleapis/);
    assert.match(String(board.json), /<link rel="icon"/);
    const page = await call('GET', '/dashboard', undefined, {});
    assert.equal(page.status, 401);
    assert.match(String(page.json), /Sign in with the API token/);
    assert.match(String(page.json), /<link rel="icon" type="image\/svg\+xml" href="\/favicon\.svg">/);
  });

  test('a browser signs in with the token and gets a session cookie (never the token itself)', async () => {
    const wrong = await fetch(`${service.url}/dashboard/login`, { method: 'POST', body: new URLSearchParams({ token: 'nope' }), redirect: 'manual' });
    assert.equal(wrong.status, 401);
    const ok = await fetch(`${service.url}/dashboard/login`, { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' });
    assert.equal(ok.status, 303);
    const cookie = ok.headers.get('set-cookie') ?? '';
    assert.match(cookie, /^facepipe_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
    assert.ok(!cookie.includes(token));
    const session = cookie.split(';')[0]!;
    assert.equal((await call('GET', '/dashboard', undefined, { cookie: session })).status, 200);
    assert.equal((await call('GET', '/dashboard/api/overview', undefined, { cookie: session })).status, 200);
    // A cookie-authenticated change from another origin is refused.
    assert.equal((await call('POST', '/dashboard/api/queues/detect/pause', '{}', { cookie: session, origin: 'http://evil.example', 'content-type': 'application/json' })).status, 401);
  });

  test('uploads real photos: ids are the sha256 of the bytes, and results come back with faces', async () => {
    const files = [photo(photos.obama, 'crm-1'), photo(photos.twoFaces), photo(photos.noFace)];
    const { status, json, headers } = await call('POST', '/v1/images', form(files));
    assert.equal(status, 202);
    const result = json as UploadResult;
    assert.equal(result.open, false);
    assert.equal(headers.get('location'), `/v1/batches/${result.batchId}`, 'accepted work says where to follow it');
    assert.deepEqual(result.files.map((f) => f.imageId), files.map((f) => sha256(f.bytes)));
    assert.deepEqual(result.files.map((f) => f.status), ['queued', 'queued', 'queued']);
    assert.equal(result.files[0]!.externalId, 'crm-1');
    const done = await Promise.all(result.files.map((f) => waitForImage(f.imageId!)));
    assert.deepEqual(done.map((d) => d.status), ['done', 'done', 'done']);
    assert.deepEqual(done.map((d) => d.result?.faceCount), [1, 2, 0]);
    assert.equal(done[0]!.current, true);
    assert.equal(done[0]!.result?.source, 'crm-1');
    const box = done[0]!.result!.faces[0]!.box;
    assert.ok(box[2] > 100 && box[3] > 100, `a face-sized box: ${box}`);
    const batch = await call('GET', `/v1/batches/${result.batchId}`);
    assert.equal(batch.json.done, 3);
    assert.equal(batch.json.faces, 3);
    assert.equal(batch.json.progress, 1);
    assert.ok(batch.json.finishedAt);
    const original = await get(`/v1/images/${result.files[0]!.imageId}/original`);
    assert.equal(original.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual(Buffer.from(await original.arrayBuffer()), files[0]!.bytes);
    const crops = await get(`/v1/images/${result.files[1]!.imageId}/crops`);
    assert.equal(crops.headers.get('content-type'), 'image/webp');
    const cropsInfo = await sharp(Buffer.from(await crops.arrayBuffer())).metadata();
    assert.deepEqual([cropsInfo.format, cropsInfo.width, cropsInfo.height], ['webp', 150, 300], 'chips are 150 px wide, two faces 150 px each, lossless WebP');
    const lines = (await (await get(`/v1/batches/${result.batchId}/results`)).text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.file), ['crm-1', 'kit_with_rose.jpg', 'coins.png']);
    assert.deepEqual(lines.map((l) => l.faces.length), [1, 2, 0]);
  });

  test('the same bytes again get the same id and are not processed twice', async () => {
    const detect = pipeline.ctx.queues.detect;
    const before = await detect.getJobCounts('completed', 'waiting', 'active');
    const { status, json } = await call('POST', '/v1/images', form([photo(photos.obama, 'again')]));
    assert.equal(status, 202);
    const file = (json as UploadResult).files[0]!;
    assert.equal(file.imageId, sha256(bytesOf(photos.obama)));
    assert.equal(file.status, 'done');
    assert.equal(file.duplicate, true);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await detect.getJobCounts('completed', 'waiting', 'active'), before);
    const batch = await call('GET', `/v1/batches/${(json as UploadResult).batchId}`);
    assert.equal(batch.json.cached, 1);
    assert.ok(batch.json.finishedAt);
  });

  test('bad files are rejected with typed reasons and 4xx statuses', async () => {
    const notImage = await call('POST', '/v1/images', form([{ name: 'notes.txt', bytes: Buffer.from('just some text, not a picture') }]));
    assert.equal(notImage.status, 415);
    assert.equal(notImage.json.files[0].error.code, 'NOT_AN_IMAGE');
    const empty = await call('POST', '/v1/images', form([photo(photos.empty)]));
    assert.ok([415, 422].includes(empty.status), `empty.png: ${empty.status}`);
    const big = await call('POST', '/v1/images', form([photo(photos.tooManyBytes)]));
    assert.equal(big.status, 413);
    assert.equal(big.json.files[0].error.code, 'FILE_TOO_LARGE');
    assert.match(big.json.files[0].error.message, /FACEPIPE_UPLOAD_MAX_BYTES/);
    const wide = await call('POST', '/v1/images', form([photo(photos.tooManyPixels)]));
    assert.equal(wide.status, 413);
    assert.equal(wide.json.files[0].error.code, 'IMAGE_TOO_LARGE');
    const mixed = await call('POST', '/v1/images', form([photo(photos.obama), { name: 'x.bin', bytes: Buffer.from([1, 2, 3, 4]) }]));
    assert.equal(mixed.status, 207);
    assert.deepEqual(mixed.json.files.map((f: { status: string }) => f.status), ['done', 'rejected']);
    const tooMany = await call('POST', '/v1/images', form(Array.from({ length: 6 }, (_, i) => ({ name: `n${i}.txt`, bytes: Buffer.from(`n${i}`) }))));
    assert.equal(tooMany.status, 413);
    assert.equal(tooMany.json.error.code, 'TOO_MANY_FILES');
    const json = await call('POST', '/v1/images', '{"a":1}', { ...auth, 'content-type': 'application/json' });
    assert.equal(json.status, 415);
    assert.equal(json.json.error.code, 'NOT_MULTIPART');
    const none = await call('POST', '/v1/images', form([], { externalId: 'x' }));
    assert.equal(none.status, 400);
    assert.equal(none.json.error.code, 'NO_FILES');
    const unknown = await call('POST', '/v1/images', form([photo(photos.obama)], { colour: 'red' }));
    assert.equal(unknown.status, 400);
    assert.equal((await call('GET', '/v1/images/not-an-id')).status, 400);
    assert.equal((await call('GET', `/v1/images/${'0'.repeat(64)}`)).status, 404);
  });

  test('a named batch stays open across uploads until closed, then finishes', async () => {
    const first = await call('POST', '/v1/images', form([photo(photos.obama)], { batchId: 'partner-42' }));
    assert.equal(first.status, 202);
    assert.equal(first.json.open, true);
    const second = await call('POST', '/v1/images', form([photo(photos.noFace)], { batchId: 'partner-42' }));
    assert.equal(second.json.files[0].index, 1);
    let batch = await call('GET', '/v1/batches/partner-42');
    assert.equal(batch.json.open, true);
    assert.equal(batch.json.total, 2);
    assert.equal(batch.json.finishedAt, undefined);
    const closed = await call('POST', '/v1/batches/partner-42/close');
    assert.equal(closed.status, 200);
    assert.equal(closed.json.open, false);
    assert.ok(closed.json.finishedAt, 'both images had results already');
    const late = await call('POST', '/v1/images', form([photo(photos.twoFaces)], { batchId: 'partner-42' }));
    assert.equal(late.status, 409);
    assert.equal(late.json.error.code, 'BATCH_CLOSED');
    batch = await call('GET', '/v1/batches/partner-42');
    assert.equal(batch.json.total, 2);
    const lines = (await (await get('/v1/batches/partner-42/results')).text()).trim().split('\n');
    assert.equal(lines.length, 2);
    assert.equal((await call('POST', '/v1/batches/nope/close')).status, 404);
  });

  test('enrolls a person over HTTP; the gallery lists them and later photos are named', async () => {
    const enrolled = await call('POST', `/v1/people/${encodeURIComponent('Barack Obama')}/images`, form([photo(photos.enrollA), photo(photos.enrollB)]));
    assert.equal(enrolled.status, 200, JSON.stringify(enrolled.json));
    assert.deepEqual(enrolled.json.enrollment.items.map((i: { status: string }) => i.status), ['enrolled', 'enrolled']);
    const people = await call('GET', '/v1/people');
    assert.equal(people.json.galleryVersion, enrolled.json.enrollment.galleryVersion);
    assert.deepEqual(people.json.people.map((p: { name: string; faces: unknown[] }) => [p.name, p.faces.length]), [['Barack Obama', 2]]);
    const batch = await call('GET', `/v1/batches/${enrolled.json.batchId}`);
    assert.equal(batch.json.purpose, 'enroll');
    assert.equal(batch.json.enrollment.galleryVersion, enrolled.json.enrollment.galleryVersion);
    await new Promise((r) => setTimeout(r, 300)); // classify workers look for a new gallery every 100 ms here
    const probe = await call('POST', '/v1/images', form([photo(photos.probe)]));
    const done = await waitForImage(probe.json.files[0].imageId);
    assert.equal(done.result?.faces[0]?.name, 'Barack Obama');
    assert.equal((await call('POST', '/v1/people/%20bad/images', form([photo(photos.probe)]))).status, 400);
  });

  test('an enroll while a queue is paused answers 202 with a status URL at once; the report appears there', async () => {
    const detect = pipeline.ctx.queues.detect;
    await detect.pause();
    let location: string | null;
    try {
      const started = Date.now();
      // Other bytes of the same face (JPEG ignores trailing data): a new image id, processed anew.
      const bytes = Buffer.concat([bytesOf(photos.enrollA), Buffer.from('paused enroll')]);
      const res = await call('POST', `/v1/people/${encodeURIComponent('Barack Obama')}/images`, form([{ name: 'obama-again.jpg', bytes }]));
      assert.equal(res.status, 202, JSON.stringify(res.json));
      assert.ok(Date.now() - started < 10_000, 'answered without waiting for the paused queue');
      location = res.headers.get('location');
      assert.equal(location, `/v1/batches/${res.json.batchId}`);
      assert.equal(res.json.statusUrl, location);
      assert.equal(res.json.files[0].status, 'queued');
      assert.equal((await call('GET', location!)).json.enrollment, undefined, 'not enrolled while paused');
    } finally {
      await detect.resume();
    }
    const deadline = Date.now() + 120_000;
    let batch;
    do {
      await new Promise((r) => setTimeout(r, 200));
      batch = await call('GET', location!);
    } while (batch.json.enrollment === undefined && Date.now() < deadline);
    assert.deepEqual(batch.json.enrollment.items.map((i: { status: string }) => i.status), ['enrolled']);
  });

  test('a request refused as a whole stores and queues nothing (validate first)', async () => {
    // Valid, distinct images (trailing bytes change the id, not the picture).
    const images = Array.from({ length: 6 }, (_, i) => ({ name: `v${i}.jpg`, bytes: Buffer.concat([bytesOf(photos.twoFaces), Buffer.from(`validate-first ${i}`)]) }));
    const detect = pipeline.ctx.queues.detect;
    const countsBefore = await detect.getJobCounts('completed', 'waiting', 'active', 'failed', 'delayed', 'prioritized');
    const batchesBefore = (await call('GET', '/v1/batches?limit=500')).json.batches.length;
    const tooMany = await call('POST', '/v1/images', form(images));
    assert.equal(tooMany.status, 413);
    assert.deepEqual(Object.keys(tooMany.json), ['error']);
    assert.equal(tooMany.json.error.code, 'TOO_MANY_FILES');
    const lateBatch = new FormData();
    lateBatch.append('file', new Blob([new Uint8Array(images[0]!.bytes)]), 'v0.jpg');
    lateBatch.append('batchId', 'named-too-late');
    const late = await call('POST', '/v1/images', lateBatch);
    assert.equal(late.status, 400);
    assert.equal(late.json.error.code, 'BAD_REQUEST');
    assert.match(late.json.error.message, /batchId must come once, before the files/);
    const unknownField = await call('POST', '/v1/images', form([images[1]!], { colour: 'red' }));
    assert.equal(unknownField.status, 400);
    const enroll = await call('POST', `/v1/people/${encodeURIComponent('Nobody Here')}/images`, form(images));
    assert.equal(enroll.status, 413);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(await detect.getJobCounts('completed', 'waiting', 'active', 'failed', 'delayed', 'prioritized'), countsBefore, 'nothing queued');
    assert.equal((await call('GET', '/v1/batches?limit=500')).json.batches.length, batchesBefore, 'no batch made');
    assert.equal((await call('GET', '/v1/batches/named-too-late')).status, 404);
    for (const image of images) {
      assert.equal((await call('GET', `/v1/images/${sha256(image.bytes)}`)).status, 404, 'nothing known about the refused images');
      assert.equal(await pipeline.ctx.store.head(objectKeys.original(sha256(image.bytes))), undefined, 'no original stored');
    }
  });

  test('one error shape on every 4xx/5xx, Fastify\'s own errors included', async () => {
    const isShape = (body: any, code: string, what: string) => {
      assert.equal(typeof body, 'object', `${what}: ${body}`);
      assert.deepEqual(Object.keys(body), ['error'], `${what}: ${JSON.stringify(body)}`);
      assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message'], what);
      assert.equal(body.error.code, code, `${what}: ${JSON.stringify(body)}`);
      assert.ok(body.error.message.length > 0, what);
    };
    const jsonAuth = { ...auth, 'content-type': 'application/json' };
    const cases: [string, string, string | undefined, Record<string, string>, number, string][] = [
      ['unknown route', '/v1/nothing-here', undefined, auth, 404, 'NOT_FOUND'],
      ['unknown method', '/v1/images', undefined, auth, 405, 'METHOD_NOT_ALLOWED'],
      ['bad JSON', '/v1/keys', '{"name": ', jsonAuth, 400, 'BAD_JSON'],
      ['empty JSON', '/v1/keys', '', jsonAuth, 400, 'BAD_JSON'],
      ['body too large', '/v1/keys', JSON.stringify({ name: 'x'.repeat(70_000), scopes: ['read'] }), jsonAuth, 413, 'BODY_TOO_LARGE'],
      ['unsupported media type', '/v1/keys', 'name=x', { ...auth, 'content-type': 'text/csv' }, 415, 'UNSUPPORTED_MEDIA_TYPE'],
      ['not multipart', '/v1/images', '{}', jsonAuth, 415, 'NOT_MULTIPART'],
      ['malformed multipart', '/v1/images', '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\nabc', { ...auth, 'content-type': 'multipart/form-data; boundary=xyz' }, 400, 'BAD_MULTIPART'],
      ['bad URL encoding', '/v1/batches/%E0%A4%A', undefined, auth, 400, 'BAD_REQUEST'],
    ];
    for (const [what, path, body, headers, status, code] of cases) {
      const method = what === 'unknown method' ? 'PUT' : body === undefined ? 'GET' : 'POST';
      const res = await call(method, path, body, headers);
      assert.equal(res.status, status, `${what}: ${JSON.stringify(res.json)}`);
      isShape(res.json, code, what);
    }
    const wrongMethod = await call('PUT', `/v1/images/${'0'.repeat(64)}`);
    assert.equal(wrongMethod.status, 405);
    assert.match(wrongMethod.headers.get('allow') ?? '', /DELETE.*GET|GET.*DELETE/);
    const eraseUnknown = await call('DELETE', `/v1/images/${'0'.repeat(64)}`);
    assert.equal(eraseUnknown.status, 200, 'erasing what is not stored is fine (found: false)');
    assert.equal(eraseUnknown.json.found, false);
    const badErase = await call('DELETE', '/v1/images/not-an-image-id');
    assert.equal(badErase.status, 400);
    isShape(badErase.json, 'BAD_REQUEST', 'erase with a bad id');
    const fields = new FormData();
    for (let i = 0; i < 10; i++) fields.append('externalId', `id-${i}`);
    fields.append('file', new Blob([new Uint8Array(bytesOf(photos.obama))]), 'obama.jpg');
    const tooManyParts = await call('POST', '/v1/images', fields);
    assert.equal(tooManyParts.status, 413);
    isShape(tooManyParts.json, 'TOO_MANY_PARTS', 'too many fields');
    isShape((await call('GET', '/v1/batches', undefined, {})).json, 'UNAUTHORIZED', 'no credentials');
    // Malformed HTTP never reaches a route: Node's parser refuses it, still in our shape.
    const rawHttp = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(service.port, '127.0.0.1', () => socket.write(request));
        let text = '';
        socket.on('data', (d) => (text += d.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
    const raw = await rawHttp('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 400 /);
    isShape(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)), 'BAD_REQUEST', 'malformed HTTP');
    const huge = await rawHttp(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.match(huge, /^HTTP\/1\.1 431 /);
    isShape(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4)), 'HEADERS_TOO_LARGE', 'headers too large');
    // Several files all rejected: the common error object and the per-file details.
    const rejected = await call('POST', '/v1/images', form([{ name: 'a.txt', bytes: Buffer.from('not a picture') }, { name: 'b.txt', bytes: Buffer.from('nor this') }]));
    assert.equal(rejected.status, 415);
    assert.equal(rejected.json.error.code, 'NOT_AN_IMAGE');
    assert.match(rejected.json.error.message, /all 2 files were rejected/);
    assert.deepEqual(rejected.json.files.map((f: { error: { code: string } }) => f.error.code), ['NOT_AN_IMAGE', 'NOT_AN_IMAGE']);
  });

  test('API keys: created, listed and revoked over the API; stored hashed; each route needs its scope', async () => {
    const json = { ...auth, 'content-type': 'application/json' };
    const make = async (name: string, scopes: string[]) => {
      const res = await call('POST', '/v1/keys', JSON.stringify({ name, scopes }), json);
      assert.equal(res.status, 201, JSON.stringify(res.json));
      assert.match(res.json.key, /^fpk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
      return res.json as { id: string; key: string; name: string; scopes: string[] };
    };
    const uploader = await make('uploader', ['upload']);
    const reader = await make('reader', ['read']);
    const people = await make('enroller', ['people', 'read']);
    const admin = await make('ops', ['admin']);
    const as = (key: string, extra: Record<string, string> = {}) => ({ authorization: `Bearer ${key}`, ...extra });
    const listed = await call('GET', '/v1/keys');
    assert.deepEqual(listed.json.keys.map((k: { name: string }) => k.name).filter((n: string) => ['uploader', 'reader', 'enroller', 'ops'].includes(n)), ['uploader', 'reader', 'enroller', 'ops']);
    // Paged as every list, oldest first: two at a time gives every key once.
    const paged: { id: string }[] = [];
    for (let cursor: string | null = '', pages = 0; cursor !== null && pages < 100; pages += 1) {
      const page = await call('GET', `/v1/keys?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      paged.push(...page.json.keys);
      cursor = page.json.nextCursor;
    }
    assert.deepEqual(paged, listed.json.keys);
    const listedText = JSON.stringify(listed.json);
    for (const k of [uploader, reader, people, admin]) assert.ok(!listedText.includes(k.key.slice(21)), 'no secrets listed');
    // In Redis: the sha256 of each key, never the key.
    const stored = JSON.stringify(await pipeline.ctx.redis.hgetall(`${pipeline.config.redis.prefix}:api-keys`));
    for (const k of [uploader, reader, people, admin]) {
      assert.ok(!stored.includes(k.key.slice(21)), 'the key itself is not stored');
      assert.ok(stored.includes(createHash('sha256').update(k.key).digest('hex')), 'its sha256 is');
    }
    const upload = () => form([photo(photos.obama)]);
    assert.equal((await call('POST', '/v1/images', upload(), as(uploader.key))).status, 202);
    const forbidden = await call('GET', '/v1/batches', undefined, as(uploader.key));
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.json.error.code, 'FORBIDDEN');
    assert.match(forbidden.json.error.message, /"read" scope/);
    assert.equal((await call('GET', '/v1/batches', undefined, as(reader.key))).status, 200);
    assert.equal((await call('GET', '/dashboard/api/overview', undefined, as(reader.key))).status, 200);
    assert.equal((await call('POST', '/v1/images', upload(), as(reader.key))).status, 403);
    assert.equal((await call('POST', '/dashboard/api/queues/embed/pause', '{}', as(reader.key, { 'content-type': 'application/json' }))).status, 403, 'dashboard actions need admin');
    assert.equal((await call('POST', `/v1/people/${encodeURIComponent('Barack Obama')}/images?wait=false`, form([photo(photos.enrollB)]), as(uploader.key))).status, 403);
    assert.equal((await call('POST', `/v1/people/${encodeURIComponent('Barack Obama')}/images?wait=false`, form([photo(photos.enrollB)]), as(people.key))).status, 202);
    assert.equal((await call('GET', '/v1/keys', undefined, as(people.key))).status, 403, 'keys need admin');
    assert.equal((await call('GET', '/v1/keys', undefined, as(admin.key))).status, 200);
    assert.equal((await call('POST', '/v1/images', upload(), as(admin.key))).status, 202, 'admin includes every scope');
    assert.equal((await call('POST', '/v1/keys', JSON.stringify({ name: 'x', scopes: ['root'] }), json)).status, 400);
    // The dashboard signs in with a key (read scope); the session dies with the key.
    const signIn = await fetch(`${service.url}/dashboard/login`, { method: 'POST', body: new URLSearchParams({ token: reader.key }), redirect: 'manual' });
    assert.equal(signIn.status, 303);
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    assert.ok(!cookie.includes(reader.key.slice(21)));
    assert.equal((await call('GET', '/dashboard', undefined, { cookie })).status, 200);
    assert.equal((await call('GET', '/v1/batches', undefined, { cookie })).status, 200);
    assert.equal((await call('POST', '/v1/images', upload(), { cookie })).status, 403, 'a session has its key\'s scopes');
    const noRead = await fetch(`${service.url}/dashboard/login`, { method: 'POST', body: new URLSearchParams({ token: uploader.key }), redirect: 'manual' });
    assert.equal(noRead.status, 401, 'the dashboard needs the read scope');
    // Revoked: at once, for the key and its sessions.
    const revoked = await call('DELETE', `/v1/keys/${reader.id}`, undefined, as(admin.key));
    assert.deepEqual(revoked.json, { id: reader.id, revoked: true });
    assert.equal((await call('GET', '/v1/batches', undefined, as(reader.key))).status, 401);
    assert.equal((await call('GET', '/v1/batches', undefined, { cookie })).status, 401);
    assert.equal((await call('DELETE', `/v1/keys/${reader.id}`)).status, 404);
    for (const k of [uploader, people, admin]) assert.equal((await call('DELETE', `/v1/keys/${k.id}`)).status, 200);
  });

  test('keys never appear in the log, through requests that succeed, fail and sign in', async () => {
    const lines: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const spoolDir = mkdtempSync(join(tmpdir(), 'facepipe-spool-test-'));
    const logged = await startService({ config: { ...pipeline.config, logLevel: 'debug' }, host: '127.0.0.1', port: 0, uploadSpoolDir: spoolDir, uploadSpoolMemoryBytes: 0, enrollWaitMs: 1 });
    let key = '';
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(String(chunk));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    try {
      const base = logged.url;
      const created = await fetch(`${base}/v1/keys`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'logged', scopes: ['upload'] }) });
      const body = (await created.json()) as { id: string; key: string };
      key = body.key;
      const as = { authorization: `Bearer ${key}` };
      assert.equal((await fetch(`${base}/v1/images`, { method: 'POST', headers: as, body: form([photo(photos.obama)]) })).status, 202);
      assert.equal((await fetch(`${base}/v1/images`, { method: 'POST', headers: as, body: form(Array.from({ length: 6 }, () => photo(photos.obama))) })).status, 413);
      assert.deepEqual(readdirSync(spoolDir), [], 'the temp files of accepted and refused uploads are gone');
      // Past enrollWaitMs (1 ms here) an enroll answers 202 with its status URL, queues running.
      const enrollBytes = Buffer.concat([bytesOf(photos.enrollB), Buffer.from('short wait')]);
      const enroll = await fetch(`${base}/v1/people/${encodeURIComponent('Barack Obama')}/images`, { method: 'POST', headers: auth, body: form([{ name: 'b.jpg', bytes: enrollBytes }]) });
      assert.equal(enroll.status, 202);
      assert.match(enroll.headers.get('location') ?? '', /^\/v1\/batches\/[\w-]+$/);
      assert.equal((await fetch(`${base}/v1/batches`, { headers: as })).status, 403);
      assert.equal((await fetch(`${base}/v1/batches?key=${key}`, { headers: { authorization: `Bearer ${key}x` } })).status, 401);
      assert.equal((await fetch(`${base}/dashboard/login`, { method: 'POST', body: new URLSearchParams({ token: key }), redirect: 'manual' })).status, 401);
      assert.equal((await fetch(`${base}/v1/keys/${body.id}`, { method: 'DELETE', headers: auth })).status, 200);
    } finally {
      process.stderr.write = write;
      await logged.close();
      rmSync(spoolDir, { recursive: true, force: true });
    }
    const text = lines.join('');
    assert.ok(/"msg":"request"/.test(text) && /"msg":"api key created"/.test(text), 'the log was captured');
    assert.ok(key.length > 40);
    assert.ok(!text.includes(key.slice(21)), 'no key secret in the log');
    assert.ok(!text.includes(token), 'no token in the log');
  });

  test('failures are grouped by error code; retry and discard act on every job of a code', async () => {
    const up = await call('POST', '/v1/images', form([photo(photos.truncated)]));
    assert.equal(up.status, 202, 'the header is fine: the detect stage finds the data cut short');
    const failed = await waitForImage(up.json.files[0].imageId);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error?.code, 'TRUNCATED_IMAGE');
    const failures = await call('GET', '/dashboard/api/failures');
    const detect = failures.json.find((q: { queue: string }) => q.queue === 'detect');
    assert.equal(detect.failed, 1);
    assert.equal(detect.groups.length, 1);
    assert.equal(detect.groups[0].code, 'TRUNCATED_IMAGE');
    assert.equal(detect.groups[0].count, 1);
    assert.equal(detect.groups[0].sample.data.source, 'truncated.jpg');
    assert.match(detect.groups[0].sample.failedReason, /^\[TRUNCATED_IMAGE\]/);
    assert.equal(detect.groups[0].retryable, false);
    const retried = await call('POST', '/dashboard/api/queues/detect/failures/TRUNCATED_IMAGE/retry', '{}', { ...auth, 'content-type': 'application/json' });
    assert.equal(retried.status, 409, 'an input error is not retried: the same bytes fail the same way');
    assert.equal(retried.json.error.code, 'NOT_RETRYABLE');
    assert.equal(await pipeline.ctx.queues.detect.getFailedCount(), 1);
    const discarded = await call('POST', '/dashboard/api/queues/detect/failures/TRUNCATED_IMAGE/discard', '{}', { ...auth, 'content-type': 'application/json' });
    assert.equal(discarded.json.discarded, 1);
    assert.equal(await pipeline.ctx.queues.detect.getFailedCount(), 0);
    assert.equal((await call('POST', '/dashboard/api/queues/nope/pause', '{}', { ...auth, 'content-type': 'application/json' })).status, 404);
  });

  test('the overview shows what BullMQ counts; queues pause and resume', async () => {
    const overview = await call('GET', '/dashboard/api/overview');
    for (const q of overview.json.queues) {
      const counts = await pipeline.ctx.queues.byName(q.name).getJobCounts('completed', 'failed', 'waiting', 'active');
      assert.equal(q.counts.completed, counts.completed, q.name);
      assert.equal(q.counts.failed, counts.failed, q.name);
    }
    const detect = overview.json.queues.find((q: { name: string }) => q.name === 'detect');
    assert.ok(detect.workers >= 1);
    assert.ok(detect.completedPerMinute.reduce((a: number, b: number) => a + b, 0) >= 5, 'BullMQ metrics count this minute');
    assert.ok(detect.latency.samples >= 5);
    assert.ok(detect.latency.processMs.p50 > 0);
    const listed = overview.json.batches.reduce((n: number, b: { kind: string; batches?: unknown[] }) => n + (b.kind === 'upload-group' ? b.batches!.length : 1), 0);
    assert.ok(listed >= 5, `${listed} batches listed`);
    const json = { ...auth, 'content-type': 'application/json' };
    assert.deepEqual((await call('POST', '/dashboard/api/queues/embed/pause', '{}', json)).json, { queue: 'embed', paused: true });
    assert.equal(await pipeline.ctx.queues.embed.isPaused(), true);
    assert.deepEqual((await call('POST', '/dashboard/api/queues/embed/resume', '{}', json)).json, { queue: 'embed', paused: false });
    const recent = await call('GET', '/dashboard/api/recent');
    assert.ok(recent.json.results.length >= 3);
    assert.ok(recent.json.results.some((r: { faces: { name: string | null }[] }) => r.faces.some((f) => f.name === 'Barack Obama')));
  });

  test('/metrics exports uploads, HTTP latency and queue depths; /readyz checks Redis and S3', async () => {
    const body = String((await call('GET', '/metrics', undefined, {})).json);
    assert.ok(/^facepipe_uploads_total\{outcome="queued",code="",service="service"\} \d+/m.test(body), `missing in /metrics: ${/^facepipe_uploads_total\{outcome="queued",code="",service="service"\} \d+/m}`);
    assert.ok(/^facepipe_uploads_total\{outcome="rejected",code="NOT_AN_IMAGE",service="service"\} [1-9]/m.test(body), `missing in /metrics: ${/^facepipe_uploads_total\{outcome="rejected",code="NOT_AN_IMAGE",service="service"\} [1-9]/m}`);
    assert.ok(/^facepipe_uploads_total\{outcome="duplicate",code="",service="service"\} \d+/m.test(body), `missing in /metrics: ${/^facepipe_uploads_total\{outcome="duplicate",code="",service="service"\} \d+/m}`);
    assert.ok(/facepipe_http_request_duration_seconds_count\{[^}]*route="\/v1\/images"/.test(body), `missing in /metrics: ${/facepipe_http_request_duration_seconds_count\{[^}]*route="\/v1\/images"/}`);
    assert.ok(/^facepipe_queue_jobs\{queue="detect",state="completed",service="service"\} \d+/m.test(body), `missing in /metrics: ${/^facepipe_queue_jobs\{queue="detect",state="completed",service="service"\} \d+/m}`);
    const ready = await call('GET', '/readyz', undefined, {});
    assert.deepEqual(ready.json, { ready: true, checks: { redis: { ok: true }, s3: { ok: true }, models: { ok: true } } });
    // The workers' own metrics (same process here): stage durations, inference steps, embed batches.
    const workers = (await pipeline.ctx.metrics.scrape()).body;
    assert.ok(/^facepipe_stage_duration_seconds_count\{[^}]*stage="detect"[^}]*outcome="completed"[^}]*\} \d+/m.test(workers), `missing in /metrics: ${/^facepipe_stage_duration_seconds_count\{[^}]*stage="detect"[^}]*outcome="completed"[^}]*\} \d+/m}`);
    assert.ok(/^facepipe_inference_duration_seconds_count\{[^}]*step="landmarks"[^}]*\} \d+/m.test(workers), `missing in /metrics: ${/^facepipe_inference_duration_seconds_count\{[^}]*step="landmarks"[^}]*\} \d+/m}`);
    assert.ok(/^facepipe_embed_batch_size_count\{[^}]*\} \d+/m.test(workers), `missing in /metrics: ${/^facepipe_embed_batch_size_count\{[^}]*\} \d+/m}`);
    // One failure: an input error is not retried (the dashboard refuses NOT_RETRYABLE codes).
    assert.ok(/^facepipe_jobs_failed_total\{stage="detect",code="TRUNCATED_IMAGE",final="true",service="workers"\} 1/m.test(workers), `missing in /metrics: ${/^facepipe_jobs_failed_total\{stage="detect",code="TRUNCATED_IMAGE",final="true",service="workers"\} 1/m}`);
  });

  test('wrong tokens from one client address lock that address out for the window, right token or not; others go on', async () => {
    const strict = await startService({ config: { ...pipeline.config, http: { ...pipeline.config.http, authMaxFailures: 3, authWindowMs: 60_000, trustProxy: true } }, host: '127.0.0.1', port: 0 });
    try {
      const as = (client: string, authorization?: string) => ({ 'x-forwarded-for': client, ...(authorization ? { authorization } : {}) });
      const get = (headers: Record<string, string>) => fetch(`${strict.url}/v1/batches`, { headers });
      // No credentials at all do not count.
      for (let i = 0; i < 5; i++) assert.equal((await get(as('203.0.113.7'))).status, 401);
      assert.equal((await get(as('203.0.113.7', 'Bearer wrong-token-wrong-token'))).status, 401);
      assert.equal((await get(as('203.0.113.7', `Bearer fpk_0123456789abcdef_${'A'.repeat(43)}`))).status, 401, 'a wrong API key counts too');
      assert.equal((await get(as('203.0.113.7', `Bearer ${token}`))).status, 200, 'two failures: still allowed');
      const signIn = await fetch(`${strict.url}/dashboard/login`, { method: 'POST', headers: as('203.0.113.7'), body: new URLSearchParams({ token: 'nope' }), redirect: 'manual' });
      assert.equal(signIn.status, 401, 'the third failure, on the sign-in form');
      const locked = await get(as('203.0.113.7', `Bearer ${token}`));
      assert.equal(locked.status, 429, 'refused even with the right token');
      assert.ok(Number(locked.headers.get('retry-after')) > 0 && Number(locked.headers.get('retry-after')) <= 60);
      assert.equal(((await locked.json()) as { error: { code: string } }).error.code, 'TOO_MANY_ATTEMPTS');
      const form = await fetch(`${strict.url}/dashboard/login`, { method: 'POST', headers: as('203.0.113.7'), body: new URLSearchParams({ token }), redirect: 'manual' });
      assert.equal(form.status, 429);
      assert.match(await form.text(), /too many failed attempts/);
      assert.equal((await get(as('198.51.100.20', `Bearer ${token}`))).status, 200, 'another client is not affected');
      assert.equal((await fetch(`${strict.url}/healthz`, { headers: as('203.0.113.7') })).status, 200, 'probes stay open');
    } finally {
      await strict.close();
    }
  });

  test('every route is in the OpenAPI description, and every described route exists', async () => {
    const served = await call('GET', '/openapi.json', undefined, {});
    assert.equal(served.json.openapi, '3.1.0');
    const documented = new Set(Object.entries(served.json.paths as Record<string, object>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`)));
    const routes = new Set(service.app.facepipeRoutes.map((r) => `${r.method} ${r.url}`));
    for (const d of documented) assert.ok(routes.has(d), `${d} is described but not served`);
    for (const r of routes) {
      if (!/ \/(v1|dashboard\/api)\//.test(r)) continue;
      assert.ok(documented.has(r), `${r} is served but not described in contract/operations.ts`);
    }
  });

  test('the routes not met above answer their successes and errors as described', async () => {
    const json = { ...auth, 'content-type': 'application/json' };
    const unknownId = 'f'.repeat(64);
    assert.equal((await get(`/v1/images/${unknownId}/original`)).status, 404);
    assert.equal((await get(`/v1/images/${unknownId}/crops`)).status, 404);
    assert.equal((await get('/v1/batches/no-such-batch/results')).status, 404);
    assert.equal((await call('GET', '/v1/batches?limit=abc')).status, 400, 'a bad query value is refused, not ignored');
    const up = await call('POST', '/v1/images', form([photo(photos.obama)]));
    const batchId = up.json.batchId as string;
    assert.equal((await call('GET', `/dashboard/api/batches/${batchId}`)).status, 200);
    assert.equal((await call('GET', '/dashboard/api/batches/no-such-batch')).status, 404);
    assert.equal((await call('GET', `/dashboard/api/batches/${batchId}/items?offset=0&limit=24`)).status, 200);
    assert.equal((await call('GET', `/dashboard/api/batches/${batchId}/items?limit=0`)).status, 400);
    assert.equal((await call('POST', `/dashboard/api/batches/${batchId}/failures/MODEL_ERROR/retry`, '{}', json)).json.retried, 0);
    assert.equal((await call('POST', `/dashboard/api/batches/${batchId}/failures/TRUNCATED_IMAGE/retry`, '{}', json)).status, 409);
    assert.equal((await call('POST', '/dashboard/api/queues/detect/failures/MODEL_ERROR/retry', '{}', json)).json.retried, 0);
    assert.equal((await call('POST', '/dashboard/api/queues/nope/failures/MODEL_ERROR/discard', '{}', json)).status, 404);
    assert.equal((await call('POST', '/dashboard/api/queues/nope/resume', '{}', json)).status, 404);
    for (const path of ['/dashboard/api/failures', '/dashboard/api/recent', '/dashboard/api/session']) assert.equal((await call('GET', path, undefined, {})).status, 401);
    // Who the dashboard is signed in as: the token may do everything.
    assert.deepEqual((await call('GET', '/dashboard/api/session')).json, { who: 'token', keyId: null, keyName: null, scopes: ['upload', 'read', 'people', 'admin'] });
    // A photo browsers cannot show (TIFF) is displayed as a JPEG of the same size; a JPEG as it is.
    const tiffBytes = await sharp(bytesOf(photos.obama)).tiff().toBuffer();
    const tiff = await call('POST', '/v1/images', form([{ name: 'obama.tiff', bytes: tiffBytes }]));
    const tiffId = tiff.json.files[0].imageId as string;
    await waitForImage(tiffId);
    const shown = await get(`/v1/images/${tiffId}/display`);
    assert.equal(shown.status, 200);
    assert.equal(shown.headers.get('content-type'), 'image/jpeg');
    const [rendition, source] = [await sharp(Buffer.from(await shown.arrayBuffer())).metadata(), await sharp(bytesOf(photos.obama)).metadata()];
    assert.deepEqual([rendition.format, rendition.width, rendition.height], ['jpeg', source.width, source.height]);
    const jpeg = await get(`/v1/images/${up.json.files[0].imageId}/display`);
    assert.deepEqual(Buffer.from(await jpeg.arrayBuffer()), bytesOf(photos.obama), 'a JPEG is shown as uploaded');
    assert.equal((await get(`/v1/images/${unknownId}/display`)).status, 404);
  });

  test("every route but the face index's answered a success and an error here, each as /openapi.json describes", () => {
    assert.deepEqual(contract.uncovered(['images', 'batches', 'people', 'keys', 'dashboard', 'service']), []);
  });
});
