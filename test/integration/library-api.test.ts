import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaceIndex, FaceLibrary } from '@facepipe/face-index';
import { startService, type ImageStatus, type RunningService } from '@facepipe/service';
import { dataPath, missingData } from '../helpers/data.js';
import { startLivePipeline, type LivePipeline } from '../helpers/live-pipeline.js';
import { OpenApiContract } from '../helpers/openapi-contract.js';

// The face index over HTTP on real parts: redis-server, the S3-protocol server, PGlite over its
// socket, the real models. Photos of two LFW people are uploaded unnamed; one's cluster is named.
const lfw = 'recognition/lfw_dev/lfw-deepfunneled';
const clooney = 'George_Clooney';
const other = 'Maria_Soledad_Alvear_Valenzuela';
const skip = missingData(join(lfw, clooney), join(lfw, other), 'recognition/face_recognition_examples/knn_test/kit_with_rose.jpg', 'negatives/scikit-image/coins.png');
const token = 'library-token-0123456789abcdef';
const root = fileURLToPath(new URL('../..', import.meta.url));

let pipeline: LivePipeline;
let service: RunningService;
/** Every answer `call` gets is checked against the served /openapi.json. */
let contract: OpenApiContract;
const auth = { authorization: `Bearer ${token}` };
const keys: Record<'read' | 'people', Record<string, string>> = { read: {}, people: {} };
let uploadKey = '';

const photosOf = (person: string) => readdirSync(dataPath(lfw, person)).sort().map((f) => join(lfw, person, f));

async function call(method: string, path: string, body?: FormData | object, headers: Record<string, string> = auth, raw?: Uint8Array | string): Promise<{ status: number; json: any }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (raw !== undefined) init.body = typeof raw === 'string' ? raw : new Blob([new Uint8Array(raw)]);
  else if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  const res = await fetch(`${service.url}${path}`, init);
  const text = await res.text();
  contract?.check(method, path, res.status, res.headers.get('content-type'), text);
  let json: unknown = text;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, json };
}

function form(files: string[], fields: Record<string, string> = {}): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  for (const rel of files) f.append('file', new Blob([new Uint8Array(readFileSync(dataPath(rel)))]), rel.split('/').pop()!);
  return f;
}

function assertError(res: { status: number; json: any }, status: number, code: string): void {
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.deepEqual(Object.keys(res.json), ['error']);
  assert.equal(res.json.error.code, code);
  assert.equal(typeof res.json.error.message, 'string');
}

async function waitForImages(ids: string[], timeoutMs = 240_000): Promise<ImageStatus[]> {
  const deadline = Date.now() + timeoutMs;
  const out: ImageStatus[] = [];
  for (const id of ids) {
    for (;;) {
      const { json } = await call('GET', `/v1/images/${id}`);
      if (json.status === 'done' || json.status === 'failed') {
        out.push(json as ImageStatus);
        break;
      }
      if (Date.now() > deadline) throw new Error(`image ${id} still ${json.status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return out;
}

type Line = { file: string; imageId: string; faces?: { box: number[]; score: number; match: { name: string | null; distance: number | null }; cluster: string | null; suggestion?: { name: string; distance: number } }[]; error?: unknown };

async function resultLines(url: string, batch: string): Promise<Line[]> {
  const res = await fetch(`${url}/v1/batches/${batch}/results`, { headers: auth });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/x-ndjson/);
  return (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Line);
}

function runSearchCli(photo: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, DATABASE_URL: pipeline.config.database.url, FACEPIPE_LOG_LEVEL: 'silent' };
    const child = spawn(process.execPath, [join(root, 'packages/cli/dist/main.js'), 'search', dataPath(photo), '--json', '--limit', '5'], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the face index over HTTP', { skip }, () => {
  const clooneyPhotos = skip ? [] : photosOf(clooney);
  let imageIds: string[] = [];
  let batchId = '';
  let person = 'George Clooney';

  before(async () => {
    pipeline = await startLivePipeline({ FACEPIPE_API_TOKEN: token, FACEPIPE_UPLOAD_MAX_FILES: '20' });
    service = await startService({ config: pipeline.config, host: '127.0.0.1', port: 0 });
    contract = new OpenApiContract((await (await fetch(`${service.url}/openapi.json`)).json()) as Record<string, unknown>);
    uploadKey = `Bearer ${(await call('POST', '/v1/keys', { name: 'upload only', scopes: ['upload'] })).json.key}`;
    for (const scope of ['read', 'people'] as const) {
      const created = await call('POST', '/v1/keys', { name: `${scope} only`, scopes: [scope] });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      keys[scope] = { authorization: `Bearer ${created.json.key}` };
    }
    const uploaded = await call('POST', '/v1/images', form([...clooneyPhotos, ...photosOf(other)]));
    assert.equal(uploaded.status, 202, JSON.stringify(uploaded.json));
    imageIds = uploaded.json.files.map((f: { imageId: string }) => f.imageId);
    batchId = uploaded.json.batchId;
    const done = await waitForImages(imageIds);
    assert.ok(done.every((d) => d.status === 'done'), JSON.stringify(done.filter((d) => d.status !== 'done')));
  });
  after(async () => {
    await service?.close();
    await pipeline?.stop();
  });

  test("a batch's results JSONL carries each face's cluster from the index", async () => {
    const lines = await resultLines(service.url, batchId);
    assert.equal(lines.length, imageIds.length);
    const clusters = (await call('GET', '/v1/clusters')).json.clusters as { id: string; faces: number }[];
    assert.ok(clusters.length >= 1);
    const faces = lines.flatMap((l) => l.faces ?? []);
    assert.ok(faces.every((f) => 'cluster' in f && (f.cluster === null || typeof f.cluster === 'string')), 'every face says its cluster');
    // Each listed cluster's face count is what the lines say; faces in no cluster say null.
    for (const c of clusters) assert.equal(faces.filter((f) => f.cluster === c.id).length, c.faces, `cluster ${c.id}`);
    assert.equal(faces.filter((f) => f.cluster !== null).length, clusters.reduce((n, c) => n + c.faces, 0));
    assert.ok(faces.every((f) => f.match.name === null), 'nobody is named yet');
  });

  test('lists the clusters of unnamed faces; naming one needs the people scope and names its faces', async () => {
    const { status, json } = await call('GET', '/v1/clusters', undefined, keys.read);
    assert.equal(status, 200, JSON.stringify(json));
    assert.ok(json.clusters.length >= 1, 'at least one cluster');
    const largest = json.clusters[0];
    assert.ok(largest.faces >= 3, JSON.stringify(largest));
    assert.ok(largest.samples.every((s: { source: string }) => s.source.startsWith(clooney)), JSON.stringify(largest.samples));

    assertError(await call('POST', `/v1/clusters/${largest.id}/name`, { name: person }, keys.read), 403, 'FORBIDDEN');
    assertError(await call('POST', `/v1/clusters/${largest.id}/name`, { name: ' bad' }, keys.people), 400, 'INVALID_PAYLOAD');
    assertError(await call('POST', `/v1/clusters/${largest.id}/name`, { nom: person }, keys.people), 400, 'BAD_REQUEST');
    assertError(await call('POST', '/v1/clusters/999999/name', { name: person }, keys.people), 404, 'OBJECT_NOT_FOUND');

    // The preview: what naming it would do, nothing done.
    const previewPath = `/v1/clusters/${largest.id}/preview?name=${encodeURIComponent(person)}`;
    assertError(await call('GET', previewPath, undefined, keys.read), 403, 'FORBIDDEN');
    assertError(await call('GET', `/v1/clusters/${largest.id}/preview?name=%20bad`, undefined, keys.people), 400, 'INVALID_PAYLOAD');
    assertError(await call('GET', `/v1/clusters/${largest.id}/preview`, undefined, keys.people), 400, 'BAD_REQUEST');
    assertError(await call('GET', `/v1/clusters/999999/preview?name=${encodeURIComponent(person)}`, undefined, keys.people), 404, 'OBJECT_NOT_FOUND');
    const preview = await call('GET', previewPath, undefined, keys.people);
    assert.equal(preview.status, 200, JSON.stringify(preview.json));
    type Answer = { name: string | null; how: string | null; suggestion: string | null };
    const changes = preview.json.changes as { imageId: string; face: number; before: Answer; after: Answer }[];
    const own = changes.filter((f) => f.after.how === 'enrolled');
    assert.equal(own.length, largest.faces, "the cluster's faces become examples");
    assert.ok(own.every((f) => f.after.name === person && f.before.name === null));
    assert.ok(changes.every((f) => f.after.name === person || f.after.suggestion === person || f.before.name !== null), JSON.stringify(changes));
    assert.equal((await call('GET', `/v1/people/${encodeURIComponent(person)}`)).status, 404, 'the preview named nobody');
    assert.ok((await call('GET', '/v1/clusters')).json.clusters.some((c: { id: string; faces: number }) => c.id === largest.id && c.faces === largest.faces), 'the cluster is as it was');

    const named = await call('POST', `/v1/clusters/${largest.id}/name`, { name: person }, keys.people);
    assert.equal(named.status, 200, JSON.stringify(named.json));
    assert.equal(named.json.faces, preview.json.faces, 'naming did what the preview said');
    assert.equal(named.json.person.name, person);
    assert.ok(named.json.faces >= largest.faces);
    assert.ok(named.json.resultsUpdated >= 1);
    const clusters = await call('GET', '/v1/clusters');
    assert.ok(!clusters.json.clusters.some((c: { id: string }) => c.id === largest.id), 'the named cluster is gone');

    // The result documents follow: a sample's image says the name now.
    const sample = await call('GET', `/v1/images/${largest.samples[0].imageId}`);
    assert.equal(sample.json.result.faces[largest.samples[0].face].name, person);
  });

  test("a batch's results take names from the index, not from result documents written before a change", async () => {
    const lines = await resultLines(service.url, batchId);
    const named = lines.flatMap((l) => (l.faces ?? []).filter((f) => f.match.name === person));
    assert.ok(named.length >= 3, JSON.stringify(lines));
    assert.ok(named.every((f) => f.cluster === null), 'a named face is in no cluster');
    // A caller's stricter threshold: automatic names beyond it become suggestions, given ones stay.
    const strict = await fetch(`${service.url}/v1/batches/${batchId}/results?threshold=0`, { headers: auth });
    assert.equal(strict.status, 200);
    const strictLines = (await strict.text()).trim().split('\n').map((l) => JSON.parse(l) as Line);
    const nameOrSuggestion = (l: Line) => (l.faces ?? []).map((f) => f.match.name ?? f.suggestion?.name ?? null);
    assert.deepEqual(strictLines.map(nameOrSuggestion), lines.map(nameOrSuggestion));
    assert.ok(strictLines.flatMap((l) => l.faces ?? []).filter((f) => f.match.name === person).length >= 3, 'names given by naming the cluster are kept');
    const loose = await fetch(`${service.url}/v1/batches/${batchId}/results?threshold=4`, { headers: auth });
    assert.deepEqual((await loose.text()).trim().split('\n').map((l) => JSON.parse(l) as Line), lines);
    assertError(await call('GET', `/v1/batches/${batchId}/results?threshold=near`), 400, 'BAD_REQUEST');
    // A change made straight in the index (as another process would), no result document rewritten.
    const index = await FaceIndex.connect({ url: pipeline.config.database.url! });
    try {
      const library = new FaceLibrary(index);
      await library.rename(person, 'Straight In The Index');
      const line = (await resultLines(service.url, batchId)).find((l) => l.faces?.some((f) => f.match.name === 'Straight In The Index'));
      assert.ok(line, 'the index\'s new name is in the lines');
      const document = (await call('GET', `/v1/images/${line.imageId}`)).json.result as { faces: { name: string | null }[] };
      assert.ok(document.faces.some((f) => f.name === person), 'while the result document still has the old name');
      await library.rename('Straight In The Index', person);
    } finally {
      await index.close();
    }
  });

  test('people are listed with face counts; one person and their faces, paged', async () => {
    const list = await call('GET', '/v1/people', undefined, keys.read);
    assert.equal(list.status, 200, JSON.stringify(list.json));
    const entry = list.json.people.find((p: { name: string }) => p.name === person);
    assert.ok(entry, JSON.stringify(list.json));
    assert.ok(entry.faceCount >= 3);
    const one = await call('GET', `/v1/people/${encodeURIComponent(person)}`, undefined, keys.read);
    assert.equal(one.status, 200);
    assert.equal(one.json.faceCount, entry.faceCount);
    assert.deepEqual(entry.faces, [], 'nobody is enrolled in the gallery');
    assertError(await call('GET', '/v1/people/Nobody%20Here'), 404, 'OBJECT_NOT_FOUND');
    // Paged by name as every list: one at a time gives the same people in the same order.
    assert.equal(list.json.nextCursor, null);
    const oneByOne: { name: string }[] = [];
    for (let cursor: string | null = '', pages = 0; cursor !== null && pages < 50; pages += 1) {
      const page = await call('GET', `/v1/people?limit=1${cursor ? `&cursor=${cursor}` : ''}`, undefined, keys.read);
      oneByOne.push(...page.json.people);
      cursor = page.json.nextCursor;
    }
    assert.deepEqual(oneByOne, list.json.people);
    assertError(await call('GET', '/v1/people?limit=0'), 400, 'BAD_REQUEST');

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: { status: number; json: any } = await call('GET', `/v1/people/${encodeURIComponent(person)}/faces?limit=2${cursor ? `&cursor=${cursor}` : ''}`, undefined, keys.read);
      assert.equal(page.status, 200, JSON.stringify(page.json));
      assert.ok(page.json.faces.length <= 2);
      for (const f of page.json.faces) {
        assert.ok(f.source.startsWith(clooney), f.source);
        seen.push(f.faceId);
      }
      cursor = page.json.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 50);
    assert.equal(seen.length, entry.faceCount);
    assert.equal(new Set(seen).size, seen.length, 'no face twice');
    assert.equal(pages, Math.max(1, Math.ceil(seen.length / 2)));
    assertError(await call('GET', `/v1/people/${encodeURIComponent(person)}/faces?limit=0`), 400, 'BAD_REQUEST');
    assertError(await call('GET', `/v1/people/${encodeURIComponent(person)}/faces?cursor=abc`), 400, 'BAD_REQUEST');
  });

  test('search by photo answers the same hits as facepipe search --json, nearest first', async () => {
    const photo = clooneyPhotos[0]!;
    const res = await call('POST', '/v1/search?limit=5', form([photo]), keys.read);
    assert.equal(res.status, 200, JSON.stringify(res.json));
    const hits = res.json.hits as { imageId: string; source: string; distance: number; name: string | null; cluster: string | null }[];
    assert.equal(hits.length, 5);
    assert.ok(hits[0]!.distance < 0.01, 'the same photo is in the library');
    assert.equal(hits[0]!.source, photo.split('/').pop());
    for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1]!.distance <= hits[i]!.distance, 'nearest first');
    const cli = await runSearchCli(photo);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(cli.stdout.trim().split('\n').map((l) => JSON.parse(l)), hits);

    // A photo of two people: the larger face by default, the other with the face field; a key
    // with the upload scope alone may not search.
    const two = 'recognition/face_recognition_examples/knn_test/kit_with_rose.jpg';
    const largest = await call('POST', '/v1/search?limit=1', form([two]), keys.read);
    assert.equal(largest.json.faces, 2);
    const otherFace = 1 - largest.json.face;
    const chosen = await call('POST', '/v1/search', form([two], { face: String(otherFace), limit: '1' }), keys.read);
    assert.equal(chosen.status, 200, JSON.stringify(chosen.json));
    assert.equal(chosen.json.face, otherFace);
    assert.notEqual(chosen.json.hits[0].distance, largest.json.hits[0].distance);
    assertError(await call('POST', '/v1/search', form([photo]), { authorization: uploadKey }), 403, 'FORBIDDEN');

    assertError(await call('POST', '/v1/search', form([], { limit: '3' }), keys.read), 400, 'NO_FILES');
    assertError(await call('POST', '/v1/search', form(['negatives/scikit-image/coins.png'])), 422, 'NO_FACE');
    assertError(await call('POST', '/v1/search', form([photo], { face: '7' })), 400, 'INVALID_PAYLOAD');
    assertError(await call('POST', '/v1/search', { photo: 'x' }), 415, 'NOT_MULTIPART');
  });

  test('search with a threshold answers only hits at that distance or nearer', async () => {
    const photo = clooneyPhotos[1]!;
    const all = await call('POST', '/v1/search?limit=20', form([photo]), keys.read);
    assert.equal(all.status, 200, JSON.stringify(all.json));
    assert.equal(all.json.threshold, undefined);
    const threshold = 0.5;
    const near = await call('POST', '/v1/search?limit=20', form([photo], { threshold: String(threshold) }), keys.read);
    assert.equal(near.status, 200, JSON.stringify(near.json));
    assert.equal(near.json.threshold, threshold);
    assert.deepEqual(near.json.hits, all.json.hits.filter((h: { distance: number }) => h.distance <= threshold));
    assert.ok(near.json.hits.length >= 1 && near.json.hits.length < all.json.hits.length, `${near.json.hits.length} of ${all.json.hits.length}`);
    assertError(await call('POST', '/v1/search?threshold=near', form([photo]), keys.read), 400, 'BAD_REQUEST');
  });

  test('compare: two photos, one face of each, their distance and same/different at the deployment threshold or a given one', async () => {
    const compare = (source: string, target: string, fields: Record<string, string> = {}, query = '') => {
      const f = new FormData();
      for (const [k, v] of Object.entries(fields)) f.append(k, v);
      f.append('source', new Blob([new Uint8Array(readFileSync(dataPath(source)))]), 'a.jpg');
      f.append('target', new Blob([new Uint8Array(readFileSync(dataPath(target)))]), 'b.jpg');
      return call('POST', `/v1/compare${query}`, f, keys.read);
    };
    const same = await compare(clooneyPhotos[0]!, clooneyPhotos[1]!);
    assert.equal(same.status, 200, JSON.stringify(same.json));
    assert.equal(same.json.same, true, JSON.stringify(same.json));
    assert.equal(same.json.thresholdFrom, 'deployment');
    assert.equal(same.json.threshold, pipeline.config.classify.tolerance);
    assert.ok(same.json.distance > 0 && same.json.distance <= same.json.threshold);
    assert.deepEqual([same.json.source.faces, same.json.target.faces], [1, 1]);
    assert.equal(same.json.source.box.length, 4);
    // The same distance as the one search finds between the two library faces.
    const searched = await call('POST', '/v1/search?limit=50', form([clooneyPhotos[0]!]), keys.read);
    const hit = searched.json.hits.find((h: { source: string }) => h.source === clooneyPhotos[1]!.split('/').pop());
    assert.ok(hit, 'the second photo is among the hits');
    assert.ok(Math.abs(hit.distance - same.json.distance) < 0.02, `${hit.distance} vs ${same.json.distance}`);

    const different = await compare(clooneyPhotos[0]!, photosOf(other)[0]!);
    assert.equal(different.status, 200, JSON.stringify(different.json));
    assert.equal(different.json.same, false, JSON.stringify(different.json));
    assert.ok(different.json.distance > same.json.distance);
    // A stricter threshold of the caller's (form field, or query string) turns the same pair different.
    const strict = String(Math.floor(same.json.distance * 100) / 100 - 0.01);
    const strictForm = await compare(clooneyPhotos[0]!, clooneyPhotos[1]!, { threshold: strict });
    assert.deepEqual([strictForm.json.same, strictForm.json.threshold, strictForm.json.thresholdFrom, strictForm.json.distance], [false, Number(strict), 'request', same.json.distance]);
    assert.equal((await compare(clooneyPhotos[0]!, clooneyPhotos[1]!, {}, `?threshold=${strict}`)).json.same, false);

    // A photo of two people: the largest face unless targetFace names the other.
    const two = 'recognition/face_recognition_examples/knn_test/kit_with_rose.jpg';
    const largest = await compare(clooneyPhotos[0]!, two);
    assert.equal(largest.json.target.faces, 2);
    const otherFace = await compare(clooneyPhotos[0]!, two, { targetFace: String(1 - largest.json.target.face) });
    assert.equal(otherFace.json.target.face, 1 - largest.json.target.face);
    assert.notEqual(otherFace.json.distance, largest.json.distance);

    // Typed errors that name the photo.
    const noFace = await compare(clooneyPhotos[0]!, 'negatives/scikit-image/coins.png');
    assertError(noFace, 422, 'NO_FACE');
    assert.match(noFace.json.error.message, /target photo/);
    const beyond = await compare(clooneyPhotos[0]!, two, { sourceFace: '3' });
    assertError(beyond, 400, 'INVALID_PAYLOAD');
    assert.match(beyond.json.error.message, /source photo/);
    const notImage = new FormData();
    notImage.append('source', new Blob([new Uint8Array(readFileSync(dataPath(clooneyPhotos[0]!)))]), 'a.jpg');
    notImage.append('target', new Blob([new TextEncoder().encode('not a photo at all, just words')]), 'b.jpg');
    const bad = await call('POST', '/v1/compare', notImage, keys.read);
    assert.ok(bad.status === 415 || bad.status === 422, JSON.stringify(bad.json));
    assert.match(bad.json.error.message, /target photo/);
    const onlyOne = new FormData();
    onlyOne.append('source', new Blob([new Uint8Array(readFileSync(dataPath(clooneyPhotos[0]!)))]), 'a.jpg');
    const missing = await call('POST', '/v1/compare', onlyOne, keys.read);
    assertError(missing, 400, 'NO_FILES');
    assert.match(missing.json.error.message, /target/);
    const badThreshold = await compare(clooneyPhotos[0]!, clooneyPhotos[1]!, { threshold: '-1' });
    assertError(badThreshold, 400, 'BAD_REQUEST');
    assert.match(badThreshold.json.error.message, /^threshold: /);
    assertError(await call('POST', '/v1/compare', { source: 'x' }, keys.read), 415, 'NOT_MULTIPART');
    assertError(await call('POST', '/v1/compare', form([clooneyPhotos[0]!]), { authorization: uploadKey }), 403, 'FORBIDDEN');
  });

  test('a raw image body is told to send multipart; a JSON route refuses a form body, as the description says', async () => {
    const jpeg = new Uint8Array(readFileSync(dataPath(clooneyPhotos[0]!)));
    for (const path of ['/v1/images', '/v1/search', '/v1/compare']) {
      const raw = await call('POST', path, undefined, { ...auth, 'content-type': 'image/jpeg' }, jpeg);
      assertError(raw, 415, 'NOT_MULTIPART');
      assert.match(raw.json.error.message, /multipart\/form-data.*image\/jpeg|image\/jpeg.*multipart/, raw.json.error.message);
    }
    const clusters = (await call('GET', '/v1/clusters')).json.clusters as { id: string }[];
    const id = clusters[0]?.id ?? '1';
    const formBody = await call('POST', `/v1/clusters/${id}/name`, undefined, { ...keys.people, 'content-type': 'application/x-www-form-urlencoded' }, 'name=Form%20Person');
    assertError(formBody, 415, 'UNSUPPORTED_MEDIA_TYPE');
    assert.match(formBody.json.error.message, /application\/json/);
    assertError(await call('GET', '/v1/people/Form%20Person'), 404, 'OBJECT_NOT_FOUND');
  });

  test('clusters and batches page with limit and cursor: every item once, in the unpaged order', async () => {
    const walk = async (path: string, key: string) => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { status: number; json: any } = await call('GET', `${path}?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        assert.equal(page.status, 200, JSON.stringify(page.json));
        assert.ok(page.json[key].length <= 1);
        seen.push(...page.json[key].map((x: { id: string }) => x.id));
        cursor = page.json.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 100);
      return seen;
    };
    // Two more batches (the same photo again: answered from its earlier result).
    for (let i = 0; i < 2; i++) assert.equal((await call('POST', '/v1/images', form([clooneyPhotos[0]!]))).status, 202);
    for (const [path, key] of [['/v1/clusters', 'clusters'], ['/v1/batches', 'batches']] as const) {
      const all = (await call('GET', `${path}?limit=500`)).json;
      assert.equal(all.nextCursor, null);
      const ids = all[key].map((x: { id: string }) => x.id);
      assert.ok(ids.length >= (key === 'batches' ? 3 : 1), `${path}: ${ids.length}`);
      assert.deepEqual(await walk(path, key), ids, path);
    }
    assertError(await call('GET', '/v1/clusters?cursor=abc'), 400, 'BAD_REQUEST');
    assertError(await call('GET', '/v1/batches?limit=0'), 400, 'BAD_REQUEST');
  });

  test('rename and hide; a face moved to someone else, merged back; a face moved to nobody', async () => {
    assertError(await call('PATCH', `/v1/people/${encodeURIComponent(person)}`, { name: 'G Clooney' }, keys.read), 403, 'FORBIDDEN');
    assertError(await call('PATCH', `/v1/people/${encodeURIComponent(person)}`, {}, keys.people), 400, 'BAD_REQUEST');
    const renamed = await call('PATCH', `/v1/people/${encodeURIComponent(person)}`, { name: 'G Clooney', hidden: true }, keys.people);
    assert.equal(renamed.status, 200, JSON.stringify(renamed.json));
    assert.equal(renamed.json.name, 'G Clooney');
    assert.equal(renamed.json.hidden, true);
    assertError(await call('GET', `/v1/people/${encodeURIComponent(person)}`), 404, 'OBJECT_NOT_FOUND');
    person = 'G Clooney';
    const listed = (await call('GET', '/v1/people')).json.people.map((p: { name: string }) => p.name);
    assert.ok(!listed.includes(person), 'hidden people are not listed');
    assert.ok((await call('GET', '/v1/people?hidden=true')).json.people.some((p: { name: string }) => p.name === person));
    await call('PATCH', `/v1/people/${encodeURIComponent(person)}`, { hidden: false }, keys.people);

    const before = (await call('GET', `/v1/people/${encodeURIComponent(person)}`)).json.faceCount as number;
    const first = (await call('GET', `/v1/people/${encodeURIComponent(person)}/faces?limit=2`)).json.faces as { imageId: string; face: number }[];
    const [a, b] = first;
    const moved = await call('PUT', `/v1/faces/${a!.imageId}/${a!.face}/person`, { name: 'Someone Else' }, keys.people);
    assert.equal(moved.status, 200, JSON.stringify(moved.json));
    assert.equal(moved.json.name, 'Someone Else');
    assert.equal(moved.json.how, 'hand');
    assert.equal((await call('GET', `/v1/images/${a!.imageId}`)).json.result.faces[a!.face].name, 'Someone Else');
    assertError(await call('POST', `/v1/people/Someone%20Else/merge`, { into: 'Someone Else' }, keys.people), 400, 'INVALID_PAYLOAD');
    assertError(await call('PATCH', `/v1/people/Someone%20Else`, { name: person }, keys.people), 409, 'CONFLICT');
    const merged = await call('POST', `/v1/people/Someone%20Else/merge`, { into: person }, keys.people);
    assert.equal(merged.status, 200, JSON.stringify(merged.json));
    assert.equal(merged.json.into.name, person);
    assert.ok(merged.json.into.faceCount >= before);
    assertError(await call('GET', '/v1/people/Someone%20Else'), 404, 'OBJECT_NOT_FOUND');

    const nobody = await call('PUT', `/v1/faces/${b!.imageId}/${b!.face}/person`, { name: null }, keys.people);
    assert.equal(nobody.status, 200, JSON.stringify(nobody.json));
    assert.equal(nobody.json.name, null);
    assert.equal((await call('GET', `/v1/images/${b!.imageId}`)).json.result.faces[b!.face].name, null);
    const faces = (await call('GET', `/v1/people/${encodeURIComponent(person)}/faces?limit=500`)).json.faces as { imageId: string; face: number }[];
    assert.ok(!faces.some((f) => f.imageId === b!.imageId && f.face === b!.face), 'the face is nobody\'s now');
    assertError(await call('PUT', `/v1/faces/${b!.imageId}/99/person`, { name: null }, keys.people), 404, 'OBJECT_NOT_FOUND');
    assertError(await call('PUT', `/v1/faces/not-an-id/0/person`, { name: null }, keys.people), 400, 'BAD_REQUEST');
  });

  test('people management: faces by confidence with boxes, a cover, a cluster\'s faces, ignore, not this person, not a face; an audit log of it all, undone in turn', async () => {
    const path = `/v1/people/${encodeURIComponent(person)}`;
    type Face = { faceId: string; imageId: string; face: number; how: string | null; distance: number | null; box: number[] };
    const pages = async (base: string, limit: number) => {
      const out: Face[] = [];
      let cursor: string | null = null;
      do {
        const page: { status: number; json: any } = await call('GET', `${base}${base.includes('?') ? '&' : '?'}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, undefined, keys.read);
        assert.equal(page.status, 200, JSON.stringify(page.json));
        out.push(...page.json.faces);
        cursor = page.json.nextCursor;
      } while (cursor !== null && out.length < 500);
      return out;
    };
    // By confidence: enrolled or by hand first, then automatic nearest first; the same faces as by age, each with its box.
    const byConfidence = await pages(`${path}/faces?order=confidence`, 2);
    const byAge = await pages(`${path}/faces`, 100);
    assert.deepEqual(byConfidence.map((f) => f.faceId).sort(), byAge.map((f) => f.faceId).sort());
    const rank = (f: Face) => (f.how === 'enrolled' || f.how === 'hand' ? 0 : 1);
    for (let i = 1; i < byConfidence.length; i += 1) {
      const [a, b] = [byConfidence[i - 1]!, byConfidence[i]!];
      assert.ok(rank(a) < rank(b) || (rank(a) === rank(b) && (a.distance ?? 0) <= (b.distance ?? 0)), JSON.stringify(byConfidence));
    }
    assert.ok(byConfidence.every((f) => f.box.length === 4 && f.box[2]! > 0));
    assertError(await call('GET', `${path}/faces?order=best`), 400, 'BAD_REQUEST');
    assertError(await call('GET', `${path}/faces?order=confidence&cursor=12`), 400, 'BAD_REQUEST');

    // A cover: one of their faces only.
    const weakest = byConfidence.at(-1)!;
    const stranger = imageIds[clooneyPhotos.length]!;
    assertError(await call('PUT', `${path}/cover`, { imageId: weakest.imageId, face: weakest.face }, keys.read), 403, 'FORBIDDEN');
    assertError(await call('PUT', `${path}/cover`, { imageId: stranger, face: 0 }, keys.people), 400, 'INVALID_PAYLOAD');
    const defaultCover = (await call('GET', path)).json.cover;
    assert.ok(defaultCover && defaultCover.box.length === 4, JSON.stringify(defaultCover));
    const covered = await call('PUT', `${path}/cover`, { imageId: weakest.imageId, face: weakest.face }, keys.people);
    assert.equal(covered.status, 200, JSON.stringify(covered.json));
    assert.deepEqual([covered.json.cover.imageId, covered.json.cover.face], [weakest.imageId, weakest.face]);

    // A cluster's faces, paged; ignored, it is no more listed.
    const clusters = (await call('GET', '/v1/clusters')).json.clusters as { id: string; faces: number }[];
    assert.ok(clusters.length >= 1, 'the other person\'s faces make a cluster');
    const c = clusters[0]!;
    const members = await pages(`/v1/clusters/${c.id}/faces`, 1);
    assert.equal(members.length, c.faces);
    assertError(await call('GET', '/v1/clusters/999999/faces'), 404, 'OBJECT_NOT_FOUND');
    assertError(await call('POST', `/v1/clusters/${c.id}/ignore`, {}, keys.people), 400, 'BAD_REQUEST');
    assertError(await call('POST', '/v1/clusters/999999/ignore', { ignored: true }, keys.people), 404, 'OBJECT_NOT_FOUND');
    assert.deepEqual((await call('POST', `/v1/clusters/${c.id}/ignore`, { ignored: true }, keys.people)).json, { cluster: c.id, ignored: true });
    assert.ok(!(await call('GET', '/v1/clusters')).json.clusters.some((x: { id: string }) => x.id === c.id));

    // "Not this person" on their weakest face; "not a face" on a face of the cluster.
    const before = (await call('GET', path)).json.faceCount as number;
    const rejected = await call('POST', `/v1/faces/${weakest.imageId}/${weakest.face}/reject`, undefined, keys.people);
    assert.equal(rejected.status, 200, JSON.stringify(rejected.json));
    assert.equal(rejected.json.was, person);
    assert.equal(rejected.json.name, null);
    assert.equal((await call('GET', path)).json.faceCount, before - 1);
    assert.equal((await call('GET', `/v1/images/${weakest.imageId}`)).json.result.faces[weakest.face].name, null, 'the result document follows');
    assertError(await call('POST', `/v1/faces/${weakest.imageId}/99/reject`, undefined, keys.people), 404, 'OBJECT_NOT_FOUND');
    const notFace = await call('POST', `/v1/faces/${members[0]!.imageId}/${members[0]!.face}/not-a-face`, undefined, keys.people);
    assert.equal(notFace.status, 200, JSON.stringify(notFace.json));
    assert.equal(notFace.json.notAFace, true);
    assertError(await call('POST', `/v1/faces/${members[0]!.imageId}/99/not-a-face`, undefined, keys.people), 404, 'OBJECT_NOT_FOUND');

    // The audit log: who did what, newest first; undone in turn, newest first.
    const log = await call('GET', '/v1/people-audit?limit=4', undefined, keys.read);
    assert.equal(log.status, 200, JSON.stringify(log.json));
    const entries = log.json.entries as { id: string; action: string; actor: string; undoable: boolean }[];
    assert.deepEqual(entries.map((e) => e.action), ['not-a-face', 'not-this-person', 'ignore-cluster', 'cover']);
    assert.ok(entries.every((e) => /^key:[0-9a-f]+$/.test(e.actor)), JSON.stringify(entries));
    assert.deepEqual(entries.map((e) => e.undoable), [true, false, false, false]);
    assertError(await call('GET', '/v1/people-audit?limit=0'), 400, 'BAD_REQUEST');
    assertError(await call('POST', '/v1/people-audit/undo', { id: entries[1]!.id }, keys.people), 409, 'CONFLICT');
    assertError(await call('POST', '/v1/people-audit/undo', {}, keys.read), 403, 'FORBIDDEN');
    const undone = await call('POST', '/v1/people-audit/undo', { id: entries[0]!.id }, keys.people);
    assert.equal(undone.status, 200, JSON.stringify(undone.json));
    assert.equal(undone.json.undone.action, 'not-a-face');
    assert.equal((await call('POST', '/v1/people-audit/undo', {}, keys.people)).json.undone.action, 'not-this-person');
    assert.equal((await call('GET', path)).json.faceCount, before);
    assert.equal((await call('GET', `/v1/images/${weakest.imageId}`)).json.result.faces[weakest.face].name, person);
    assert.equal((await call('POST', '/v1/people-audit/undo', {}, keys.people)).json.undone.action, 'ignore-cluster');
    assert.equal((await pages(`/v1/clusters/${c.id}/faces`, 100)).length, c.faces, 'the cluster has every face again');
    assert.ok((await call('GET', '/v1/clusters')).json.clusters.some((x: { id: string }) => x.id === c.id));
    assert.equal((await call('POST', '/v1/people-audit/undo', {}, keys.people)).json.undone.action, 'cover');
    assert.deepEqual((await call('GET', path)).json.cover, defaultCover);
    const after = (await call('GET', '/v1/people-audit?limit=2')).json.entries as { undoneAt: string | null; undoneBy: string | null }[];
    assert.ok(after.every((e) => e.undoneAt !== null && e.undoneBy?.startsWith('key:')), JSON.stringify(after));
  });

  test('schedules: created, listed and deleted with the admin scope only', async () => {
    const body = { id: 'nightly', kind: 'stale', cron: '0 3 * * *', tz: 'UTC' };
    assertError(await call('POST', '/v1/schedules', body, keys.people), 403, 'FORBIDDEN');
    assertError(await call('GET', '/v1/schedules', undefined, keys.read), 403, 'FORBIDDEN');
    assertError(await call('POST', '/v1/schedules', { ...body, cron: undefined, every: '1s' }), 400, 'INVALID_PAYLOAD');
    assertError(await call('POST', '/v1/schedules', { ...body, kind: 'everything' }), 400, 'INVALID_PAYLOAD');
    const created = await call('POST', '/v1/schedules', body);
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.equal(created.json.cron, '0 3 * * *');
    assert.ok(created.json.nextRunAt > Date.now());
    const every = await call('POST', '/v1/schedules', { id: 'often', kind: 'classify', every: '6h' });
    assert.equal(every.json.everyMs, 6 * 3_600_000);
    const listed = await call('GET', '/v1/schedules');
    assert.deepEqual(listed.json.schedules.map((s: { id: string }) => s.id).sort(), ['nightly', 'often']);
    // By next run, a page at a time: the next night's run may come before or after six hours.
    const onePage = await call('GET', '/v1/schedules?limit=1');
    const nextPage = await call('GET', `/v1/schedules?limit=1&cursor=${onePage.json.nextCursor}`);
    assert.deepEqual([...onePage.json.schedules, ...nextPage.json.schedules], listed.json.schedules);
    assert.equal(nextPage.json.nextCursor, null);
    assertError(await call('GET', '/v1/schedules?cursor=not%20a%20cursor'), 400, 'BAD_REQUEST');
    assert.deepEqual(await call('DELETE', '/v1/schedules/nightly'), { status: 200, json: { id: 'nightly', deleted: true } });
    assertError(await call('DELETE', '/v1/schedules/nightly'), 404, 'NOT_FOUND');
    assert.deepEqual((await call('GET', '/v1/schedules')).json.schedules.map((s: { id: string }) => s.id), ['often']);
  });

  test('a service without DATABASE_URL answers the library routes 503 and still lists the gallery', async () => {
    const bare = await startService({ config: { ...pipeline.config, database: { ...pipeline.config.database, url: undefined } }, host: '127.0.0.1', port: 0 });
    try {
      const res = await fetch(`${bare.url}/v1/clusters`, { headers: auth });
      assertError({ status: res.status, json: await res.json() }, 503, 'DATABASE_UNAVAILABLE');
      const people = await fetch(`${bare.url}/v1/people`, { headers: auth });
      assert.equal(people.status, 200);
      assert.deepEqual(await people.json(), { galleryVersion: null, people: [], nextCursor: null });
      // Batch results still work: names from the result documents, no clusters.
      const lines = await resultLines(bare.url, batchId);
      assert.equal(lines.length, imageIds.length);
      const faces = lines.flatMap((l) => l.faces ?? []);
      assert.ok(faces.length > 0 && faces.every((f) => f.cluster === null));
      assert.ok(faces.some((f) => f.match.name === person), 'the documents\' names');
    } finally {
      await bare.close();
    }
  });

  test('deleting a person leaves their faces to nobody', async () => {
    assertError(await call('DELETE', `/v1/people/${encodeURIComponent(person)}`, undefined, keys.read), 403, 'FORBIDDEN');
    const deleted = await call('DELETE', `/v1/people/${encodeURIComponent(person)}`, undefined, keys.people);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.json));
    assert.equal(deleted.json.deleted, true);
    assert.ok(deleted.json.faces >= 3);
    assertError(await call('GET', `/v1/people/${encodeURIComponent(person)}/faces`), 404, 'OBJECT_NOT_FOUND');
    const statuses = await waitForImages(imageIds.slice(0, clooneyPhotos.length));
    assert.ok(statuses.every((s) => s.result?.faces.every((f) => f.name === null || f.name === undefined)), 'no result says the deleted name');
  });

  test('suggestions: listed, paged, answered no and yes; a suggestion is never a name until confirmed', async () => {
    // The other person's faces are strangers to the library; give two of them a suggestion as the
    // naming rule stores one (evidence short of a name), straight in the index.
    const index = await FaceIndex.connect({ url: pipeline.config.database.url! });
    let faces: { id: string; imageId: string; faceIndex: number }[];
    try {
      const states = await index.repos.faces.statesOfImages(imageIds.slice(clooneyPhotos.length));
      faces = [...states.values()].flat().filter((f) => f.personId === null).slice(0, 2);
      assert.equal(faces.length, 2, 'two unnamed faces of the other person');
      const suggested = await index.repos.people.ensure('Suggested Person');
      for (const f of faces) await index.repos.faces.setSuggestion(f.id, { personId: suggested.id, distance: 0.5 });
    } finally {
      await index.close();
    }
    type Listed = { imageId: string; face: number; name: string };
    const ours = (list: Listed[]) => list.filter((x) => x.name === 'Suggested Person').map((x) => `${x.imageId}/${x.face}`).sort();
    const all = await call('GET', '/v1/suggestions?limit=500');
    assert.equal(all.status, 200, JSON.stringify(all.json));
    assert.deepEqual(ours(all.json.suggestions), faces.map((f) => `${f.imageId}/${f.faceIndex}`).sort());
    // Paged: one at a time, every page's cursor leads to the next, the same list in the end.
    const paged: Listed[] = [];
    for (let cursor: string | null = null, pages = 0; pages < 100; pages += 1) {
      const page = await call('GET', `/v1/suggestions?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      assert.ok(page.json.suggestions.length <= 1);
      paged.push(...page.json.suggestions);
      cursor = page.json.nextCursor;
      if (cursor === null) break;
    }
    assert.deepEqual(paged, all.json.suggestions);
    assertError(await call('GET', '/v1/suggestions?cursor=x'), 400, 'BAD_REQUEST');
    const [a, b] = faces;
    assert.equal((await call('GET', `/v1/images/${a!.imageId}`)).json.result.faces[a!.faceIndex].name ?? null, null, 'a suggestion is not a name');
    assertError(await call('POST', `/v1/suggestions/${a!.imageId}/${a!.faceIndex}`, { accept: false }, keys.read), 403, 'FORBIDDEN');
    assertError(await call('POST', `/v1/suggestions/${a!.imageId}/${a!.faceIndex}`, { accept: 'yes' }, keys.people), 400, 'BAD_REQUEST');
    const no = await call('POST', `/v1/suggestions/${a!.imageId}/${a!.faceIndex}`, { accept: false }, keys.people);
    assert.equal(no.status, 200, JSON.stringify(no.json));
    assert.deepEqual([no.json.accepted, no.json.name], [false, null]);
    assertError(await call('POST', `/v1/suggestions/${a!.imageId}/${a!.faceIndex}`, { accept: true }, keys.people), 404, 'OBJECT_NOT_FOUND');
    const yes = await call('POST', `/v1/suggestions/${b!.imageId}/${b!.faceIndex}`, { accept: true }, keys.people);
    assert.equal(yes.status, 200, JSON.stringify(yes.json));
    assert.deepEqual([yes.json.accepted, yes.json.name], [true, 'Suggested Person']);
    assert.equal((await call('GET', `/v1/images/${b!.imageId}`)).json.result.faces[b!.faceIndex].name, 'Suggested Person');
    // The answered faces are no longer listed (confirming b may suggest the person on other photos of her).
    const left = ours((await call('GET', '/v1/suggestions?limit=500')).json.suggestions);
    for (const f of faces) assert.ok(!left.includes(`${f.imageId}/${f.faceIndex}`), 'answered suggestions are no longer listed');
  });

  test('every face index route answered a success and an error here, each as /openapi.json describes', async () => {
    assertError(await call('GET', '/v1/people?hidden=maybe'), 400, 'BAD_REQUEST');
    assertError(await call('GET', '/v1/clusters', undefined, {}), 401, 'UNAUTHORIZED');
    // The erasure log (its entries are tested in erasure.test.ts): listed with the admin scope only.
    const log = await call('GET', '/v1/erasures');
    assert.equal(log.status, 200, JSON.stringify(log.json));
    assertError(await call('GET', '/v1/erasures', undefined, keys.read), 403, 'FORBIDDEN');
    assert.deepEqual(contract.uncovered(['library']), []);
  });
});
