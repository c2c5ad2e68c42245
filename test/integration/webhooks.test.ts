import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { startService, verifyWebhook, WebhookWorker, type RunningService } from '@facepipe/service';
import { dataPath, missingData } from '../helpers/data.js';
import { startLivePipeline, type LivePipeline } from '../helpers/live-pipeline.js';
import { OpenApiContract } from '../helpers/openapi-contract.js';
import { apiCaller } from '../helpers/api-call.js';

// Webhooks on the real pipeline (redis-server, the S3-protocol server, PGlite, the real models)
// and a real HTTP receiver on loopback: a signed batch-finished call that succeeds on the third
// try, an image-failed call, and a delivery that failed for good retried from the dashboard.
const photo = 'recognition/lfw_dev/lfw-deepfunneled/George_Clooney/George_Clooney_0001.jpg';
const truncated = 'hard_cases/compreface_formats/truncated.jpg';
const skip = missingData(photo, truncated);
const token = 'webhook-token-0123456789abcdef';
const auth = { authorization: `Bearer ${token}` };
/** The first retry's wait here (2 s in a deployment); each next one doubles. */
const backoffMs = 150;

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

let pipeline: LivePipeline;
let service: RunningService;
let worker: WebhookWorker;
let receiver: Server;
let receiverUrl = '';
let contract: OpenApiContract;
const received: Received[] = [];
/** Per receiver path: how many more calls to refuse with 500 (-1: refuse all). */
const refuse = new Map<string, number>();

const call = apiCaller(() => service.url, () => contract, auth);

const upload = (rel: string) => {
  const f = new FormData();
  f.append('file', new Blob([new Uint8Array(readFileSync(dataPath(rel)))]), rel.split('/').pop()!);
  return call('POST', '/v1/images', f);
};

async function until<T>(what: string, check: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; received: ${JSON.stringify(received.map((r) => [r.path, r.headers['x-facepipe-event']]))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('webhooks', { skip }, () => {
  before(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const path = req.url ?? '/';
        received.push({ path, headers: req.headers, body, at: Date.now() });
        const left = refuse.get(path) ?? 0;
        if (left !== 0) refuse.set(path, left - 1);
        res.writeHead(left !== 0 ? 500 : 204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    pipeline = await startLivePipeline({ FACEPIPE_API_TOKEN: token });
    service = await startService({ config: pipeline.config, host: '127.0.0.1', port: 0 });
    worker = new WebhookWorker(service.producer, { backoffMs, attempts: 4 });
    await worker.start();
    contract = new OpenApiContract((await (await fetch(`${service.url}/openapi.json`)).json()) as Record<string, unknown>);
  });
  after(async () => {
    await worker?.close();
    await service?.close();
    await pipeline?.stop();
    receiver?.closeAllConnections();
    await new Promise((r) => receiver?.close(r));
  });

  test('registered per API key: each key lists and deletes its own; a bad URL or event is a 400', async () => {
    const keyOf = async (name: string) => ({ authorization: `Bearer ${(await call('POST', '/v1/keys', { name, scopes: ['read'] })).json.key}` });
    const [a, b] = [await keyOf('app a'), await keyOf('app b')];
    const created = await call('POST', '/v1/webhooks', { url: `${receiverUrl}/a` }, a);
    assert.equal(created.status, 201, JSON.stringify(created.json));
    assert.deepEqual(created.json.events, ['batch.finished', 'image.failed']);
    assert.match(created.json.secret, /^whsec_[0-9a-f]{48}$/);
    assert.equal((await call('GET', '/v1/webhooks', undefined, b)).json.webhooks.length, 0, "b does not see a's");
    const listed = (await call('GET', '/v1/webhooks', undefined, a)).json.webhooks;
    assert.deepEqual(listed.map((h: { id: string }) => h.id), [created.json.id]);
    assert.equal(listed[0].secret, undefined, 'no secret in lists');
    assert.equal((await call('DELETE', `/v1/webhooks/${created.json.id}`, undefined, b)).status, 404);
    assert.equal((await call('DELETE', `/v1/webhooks/${created.json.id}`, undefined, a)).status, 200);
    assert.equal((await call('DELETE', `/v1/webhooks/${created.json.id}`, undefined, a)).status, 404);
    assert.equal((await call('POST', '/v1/webhooks', { url: 'ftp://example.com/x' }, a)).status, 400);
    assert.equal((await call('POST', '/v1/webhooks', { url: `${receiverUrl}/a`, events: ['batch.started'] }, a)).status, 400);
    assert.equal((await call('GET', '/v1/webhooks', undefined, {})).status, 401);
    // Paged as every list: three of a's, two at a time, every one once, oldest first.
    const three = [];
    for (const path of ['p1', 'p2', 'p3']) three.push((await call('POST', '/v1/webhooks', { url: `${receiverUrl}/${path}` }, a)).json.id as string);
    const first = (await call('GET', '/v1/webhooks?limit=2', undefined, a)).json;
    const second = (await call('GET', `/v1/webhooks?limit=2&cursor=${first.nextCursor}`, undefined, a)).json;
    assert.deepEqual([...first.webhooks, ...second.webhooks].map((h: { id: string }) => h.id), three);
    assert.equal(second.nextCursor, null);
    assert.equal((await call('GET', '/v1/webhooks?limit=0', undefined, a)).status, 400);
    for (const id of three) await call('DELETE', `/v1/webhooks/${id}`, undefined, a);
  });

  test('a signed batch-finished call reaches a receiver that fails twice, on the third try, after exponential waits', async () => {
    refuse.set('/flaky', 2);
    const hook = (await call('POST', '/v1/webhooks', { url: `${receiverUrl}/flaky`, events: ['batch.finished'] })).json;
    const up = await upload(photo);
    assert.equal(up.status, 202, JSON.stringify(up.json));
    const tries = await until('three tries', () => {
      const got = received.filter((r) => r.path === '/flaky');
      return got.length >= 3 ? got : undefined;
    });
    await new Promise((r) => setTimeout(r, backoffMs * 4));
    assert.equal(received.filter((r) => r.path === '/flaky').length, 3, 'no try after the success');
    assert.deepEqual(tries.map((t) => t.headers['x-facepipe-attempt']), ['1', '2', '3']);
    assert.equal(new Set(tries.map((t) => t.headers['x-facepipe-delivery'])).size, 1, 'one delivery id across its tries');
    const [gap1, gap2] = [tries[1]!.at - tries[0]!.at, tries[2]!.at - tries[1]!.at];
    assert.ok(gap1 >= backoffMs * 0.9 && gap2 >= 2 * backoffMs * 0.9, `waits ${gap1} ms, ${gap2} ms`);

    const last = tries[2]!;
    assert.equal(last.headers['content-type'], 'application/json');
    assert.equal(last.headers['x-facepipe-event'], 'batch.finished');
    const event = JSON.parse(last.body);
    assert.equal(event.type, 'batch.finished');
    assert.equal(event.data.batch.id, up.json.batchId);
    assert.equal(event.data.batch.done, 1);
    assert.ok(event.data.batch.finishedAt > 0);
    const signature = last.headers['x-facepipe-signature'] as string;
    assert.match(signature, /^t=\d+,v1=[0-9a-f]{64}$/);
    assert.ok(verifyWebhook(hook.secret, last.body, signature), 'signed with the secret');
    assert.ok(!verifyWebhook(`${hook.secret}x`, last.body, signature), 'not with another secret');
    assert.ok(!verifyWebhook(hook.secret, last.body.replace('"done":1', '"done":2'), signature), 'not over another body');
    assert.ok(!verifyWebhook(hook.secret, last.body, signature, 300, Math.floor(Date.now() / 1000) + 3600), 'not an hour later');
    await call('DELETE', `/v1/webhooks/${hook.id}`);
  });

  test('an image that fails in the pipeline is an image.failed call; a delivery that failed for good is on the dashboard and retried there', async () => {
    refuse.set('/down', -1);
    const hook = (await call('POST', '/v1/webhooks', { url: `${receiverUrl}/down`, events: ['image.failed'] })).json;
    const up = await upload(truncated);
    assert.equal(up.status, 202, JSON.stringify(up.json));
    const imageId = up.json.files[0].imageId as string;
    // 4 tries (150, 300, 600 ms apart), then failed for good.
    let group: { code: string; count: number; retryable: boolean } | undefined;
    const deadline = Date.now() + 30_000;
    while (!group && Date.now() < deadline) {
      const queue = (await call('GET', '/dashboard/api/failures')).json.find((q: { queue: string }) => q.queue === 'webhooks');
      group = queue?.groups.find((g: { code: string }) => g.code === 'WEBHOOK_FAILED');
      if (!group) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(group, 'the webhooks queue lists the failed delivery');
    assert.deepEqual([group.count, group.retryable], [1, true]);
    const down = received.filter((r) => r.path === '/down');
    assert.equal(down.length, 4, 'every try was made');
    const event = JSON.parse(down[0]!.body);
    assert.deepEqual([event.type, event.data.imageId, event.data.error.code], ['image.failed', imageId, 'TRUNCATED_IMAGE']);
    assert.deepEqual(event.data.batches, [{ batchId: up.json.batchId, index: 0 }]);
    assert.ok(verifyWebhook(hook.secret, down[0]!.body, down[0]!.headers['x-facepipe-signature'] as string));

    refuse.set('/down', 0);
    const retried = await call('POST', '/dashboard/api/queues/webhooks/failures/WEBHOOK_FAILED/retry', {});
    assert.deepEqual(retried, { status: 200, json: { retried: 1 } });
    const again = await until('the retried delivery', () => (received.filter((r) => r.path === '/down').length === 5 ? received.at(-1) : undefined), 10_000);
    assert.equal(again.headers['x-facepipe-delivery'], down[0]!.headers['x-facepipe-delivery']);
    assert.equal(JSON.parse(again.body).id, event.id);
  });

  test('every webhook route answered a success and an error, each as /openapi.json describes', () => {
    assert.deepEqual(contract.uncovered(['webhooks']), []);
  });
});
