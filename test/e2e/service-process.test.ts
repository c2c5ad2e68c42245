import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dataPath, missingData } from '../helpers/data.js';
import { startRedis, type TestRedis } from '../helpers/redis-server.js';
import { startS3, type TestS3 } from '../helpers/s3-server.js';

const cli = fileURLToPath(new URL('../../packages/cli/dist/main.js', import.meta.url));
/** The service package's own bin (facepipe-service), the same service without the CLI. */
const serviceBin = fileURLToPath(new URL('../../packages/service/dist/main.js', import.meta.url));
const photo = 'recognition/face_recognition_examples/knn_test/obama1.jpg';
const token = `tok-${randomUUID()}`;
const wrongToken = `wrong-${randomUUID()}`;

let redis: TestRedis;
let s3: TestS3;
let env: Record<string, string>;

interface Running {
  child: ChildProcess;
  output: () => string;
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpMatchArray>;
  exit: Promise<number | null>;
}

function start(args: string[], extraEnv: Record<string, string>, script = cli): Running {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exit,
    async waitFor(pattern, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = pattern.exec(out);
        if (m) return m;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no ${pattern} in:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

describe('facepipe serve and a worker as processes', () => {
  before(async () => {
    [redis, s3] = await Promise.all([startRedis(), startS3()]);
    env = { ...s3.env, REDIS_URL: redis.url, FACEPIPE_REDIS_PREFIX: `t${randomUUID().slice(0, 8)}` };
  });
  after(async () => {
    await Promise.all([redis?.stop(), s3?.stop()]);
  });

  test('refuses to listen on a public address without a token, with a message a person can act on', async () => {
    const run = start(['serve', '--host', '0.0.0.0', '--port', '0'], {});
    assert.equal(await run.exit, 2);
    assert.match(run.output(), /FACEPIPE_HTTP_HOST \("0\.0\.0\.0"\) is not a loopback address and FACEPIPE_API_TOKEN is unset/);
    const bin = start([], { FACEPIPE_HTTP_HOST: '::', FACEPIPE_HTTP_PORT: '0' }, serviceBin);
    assert.equal(await bin.exit, 2);
    assert.match(bin.output(), /FACEPIPE_HTTP_HOST \("::"\) is not a loopback address/);
  });

  test('serves with a token, logs structured JSON lines, and never logs a token', { skip: missingData(photo) }, async () => {
    const run = start(['serve', '--host', '127.0.0.1', '--port', '0'], { FACEPIPE_API_TOKEN: token, FACEPIPE_LOG_LEVEL: 'debug' });
    const url = (await run.waitFor(/facepipe service at (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    const form = new FormData();
    form.append('file', new Blob([readFileSync(dataPath(photo))]), 'obama1.jpg');
    const up = await fetch(`${url}/v1/images`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
    assert.equal(up.status, 202);
    const { batchId, files } = (await up.json()) as { batchId: string; files: { imageId: string }[] };
    assert.equal((await fetch(`${url}/v1/people`, { headers: { authorization: `Bearer ${wrongToken}` } })).status, 401);
    assert.equal((await fetch(`${url}/dashboard/login`, { method: 'POST', body: new URLSearchParams({ token: wrongToken }), redirect: 'manual' })).status, 401);
    assert.equal((await fetch(`${url}/dashboard/login`, { method: 'POST', body: new URLSearchParams({ token }), redirect: 'manual' })).status, 303);
    assert.equal((await fetch(`${url}/readyz`)).status, 200);
    run.child.kill('SIGTERM');
    assert.equal(await run.exit, 0);
    const output = run.output();
    assert.ok(!output.includes(token), 'the token never reaches the log');
    assert.ok(!output.includes(wrongToken), 'nor does a wrong one');
    const lines = output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    const uploaded = lines.find((l) => l.msg === 'image uploaded');
    assert.equal(uploaded?.batchId, batchId);
    assert.equal(uploaded?.imageId, files[0]!.imageId);
    assert.ok(lines.some((l) => l.msg === 'request' && l.route === '/v1/images' && l.status === 202));
    assert.ok(lines.some((l) => l.msg === 'dashboard sign-in refused'));
  });

  test('facepipe keys creates, lists and revokes API keys that the service honours by scope; no key in any log', async () => {
    const cliRun = async (args: string[]) => {
      const run = start(args, {});
      const code = await run.exit;
      return { code, out: run.output() };
    };
    const created = await cliRun(['keys', 'create', '--name', 'ci uploader', '--scopes', 'upload,read']);
    assert.equal(created.code, 0, created.out);
    const key = /^(fpk_[0-9a-f]{16}_[A-Za-z0-9_-]{43})$/m.exec(created.out)?.[1];
    assert.ok(key, created.out);
    const id = key.slice(4, 20);
    assert.match(created.out, new RegExp(`created key ${id} "ci uploader" \\(scopes: upload,read\\); it is shown only now`));
    const listed = await cliRun(['keys', 'list']);
    assert.equal(listed.code, 0);
    assert.match(listed.out, new RegExp(`^${id}  ci uploader  upload,read\\s+\\d{4}-`, 'm'));
    assert.ok(!listed.out.includes(key.slice(21)), 'the list shows no secret');
    const json = JSON.parse(/^\{"keys".*$/m.exec((await cliRun(['keys', 'list', '--json'])).out)![0]) as { keys: { id: string; scopes: string[] }[] };
    assert.deepEqual(json.keys.find((k) => k.id === id)?.scopes, ['upload', 'read']);
    const bad = await cliRun(['keys', 'create', '--name', 'x', '--scopes', 'root']);
    assert.equal(bad.code, 2);
    assert.match(bad.out, /unknown scope "root"/);

    const serve = start(['serve', '--host', '127.0.0.1', '--port', '0'], { FACEPIPE_API_TOKEN: token, FACEPIPE_LOG_LEVEL: 'debug' });
    const url = (await serve.waitFor(/facepipe service at (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    const as = { authorization: `Bearer ${key}` };
    assert.equal((await fetch(`${url}/v1/batches`, { headers: as })).status, 200);
    assert.equal((await fetch(`${url}/v1/keys`, { headers: as })).status, 403, 'keys need admin');
    assert.equal((await fetch(`${url}/dashboard/login`, { method: 'POST', body: new URLSearchParams({ token: key }), redirect: 'manual' })).status, 303);
    const revoked = await cliRun(['keys', 'revoke', id]);
    assert.equal(revoked.code, 0);
    assert.match(revoked.out, new RegExp(`revoked key ${id}`));
    assert.equal((await fetch(`${url}/v1/batches`, { headers: as })).status, 401, 'revoked at once in a running service');
    assert.equal((await cliRun(['keys', 'revoke', id])).code, 1);
    serve.child.kill('SIGTERM');
    assert.equal(await serve.exit, 0);
    assert.ok(!serve.output().includes(key.slice(21)), 'the key never reaches the service log');
    assert.ok(serve.output().includes('"msg":"request"'), 'the log was read');
  });

  test('a worker serves /metrics, /healthz and /readyz on FACEPIPE_METRICS_PORT and logs where', async () => {
    const run = start(['worker', 'classify'], { FACEPIPE_METRICS_PORT: '0', FACEPIPE_METRICS_HOST: '127.0.0.1' });
    const line = JSON.parse((await run.waitFor(/^\{.*"metrics and health endpoints listening".*\}$/m))[0]) as { url: string; port: number };
    const base = line.url.replace(/\/metrics$/, '');
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    await run.waitFor(/"msg":"started"/);
    await new Promise((r) => setTimeout(r, 1100));
    const ready = await fetch(`${base}/readyz`);
    assert.equal(ready.status, 200, await ready.text());
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^facepipe_queue_jobs\{queue="classify",state="waiting",service="worker-classify"\} 0$/m);
    assert.match(metrics, /^facepipe_queue_workers\{queue="gallery",service="worker-classify"\} 1$/m);
    run.child.kill('SIGTERM');
    assert.equal(await run.exit, 0);
  });
});
