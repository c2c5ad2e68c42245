import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@facepipe/core';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  listPage,
  sortableNumber,
  ApiKeys,
  AuthFailureLimiter,
  Authenticator,
  batchProgress,
  checkListenPolicy,
  Credentials,
  errorAnswer,
  isLoopbackHost,
  parseCookies,
  MemoryBudget,
  percentile,
  RequestSpool,
  RouteMethods,
  perMinute,
  statusForCode,
  summarise,
  uploadStatus,
  UploadSlots,
} from '@facepipe/service';

test('loopback addresses are told apart from network ones', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', 'api.localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.equal(isLoopbackHost(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'example.com', '128.0.0.1', '[::]']) assert.equal(isLoopbackHost(h), false, h);
});

test('the service will not listen beyond loopback without a token', () => {
  assert.doesNotThrow(() => checkListenPolicy('127.0.0.1', undefined));
  assert.doesNotThrow(() => checkListenPolicy('0.0.0.0', 'a-long-enough-token'));
  assert.throws(() => checkListenPolicy('0.0.0.0', undefined), (err: unknown) => err instanceof ConfigError && /set FACEPIPE_API_TOKEN/.test(err.message));
});

test('bearer tokens and session cookies: right, wrong, missing; no token configured means open', () => {
  const open = new Authenticator(undefined);
  assert.equal(open.required, false);
  assert.equal(open.check({}, true), 'ok');
  const auth = new Authenticator('s3cret-token-0123456789');
  assert.equal(auth.check({}, true), 'missing');
  assert.equal(auth.check({ authorization: 'Bearer s3cret-token-0123456789' }, false), 'ok');
  assert.equal(auth.check({ authorization: 'bearer  s3cret-token-0123456789 ' }, false), 'ok');
  assert.equal(auth.check({ authorization: 'Bearer s3cret-token-012345678' }, false), 'invalid');
  assert.equal(auth.check({ authorization: 'Basic czNjcmV0' }, false), 'invalid');
  const cookie = auth.sessionCookie(false).split(';')[0]!;
  assert.ok(!cookie.includes('s3cret'), 'the cookie is derived from the token, not the token');
  assert.equal(auth.check({ cookie: `other=1; ${cookie}` }, true), 'ok');
  assert.equal(auth.check({ cookie }, false), 'missing');
  assert.equal(auth.check({ cookie: 'facepipe_session=forged' }, true), 'invalid');
  assert.equal(new Authenticator('another-token-0123456789').check({ cookie }, true), 'invalid', 'a new token signs sessions out');
  assert.match(auth.sessionCookie(true), /; Secure$/);
  assert.equal(auth.matches('s3cret-token-0123456789'), true);
  assert.equal(auth.matches(''), false);
  assert.deepEqual([...parseCookies('a=1; b = 2;c=x=y; a=3')], [['a', '1'], ['b', '2'], ['c', 'x=y']]);
});

test('error codes map to HTTP statuses; an upload answers 202, 207 or its first rejection', () => {
  assert.equal(statusForCode('FILE_TOO_LARGE'), 413);
  assert.equal(statusForCode('IMAGE_TOO_LARGE'), 413);
  assert.equal(statusForCode('NOT_AN_IMAGE'), 415);
  assert.equal(statusForCode('UNSUPPORTED_FORMAT'), 415);
  assert.equal(statusForCode('CORRUPT_IMAGE'), 422);
  assert.equal(statusForCode('STORAGE_UNAVAILABLE'), 503);
  assert.equal(uploadStatus([undefined, undefined]), 202);
  assert.equal(uploadStatus([{ code: 'NOT_AN_IMAGE', message: '' }, { code: 'FILE_TOO_LARGE', message: '' }]), 415);
  assert.equal(uploadStatus([undefined, { code: 'FILE_TOO_LARGE', message: '' }]), 207);
});

test('upload slots are handed out first come, first served, and never exceed their number', async () => {
  const slots = new UploadSlots(2);
  const order: number[] = [];
  await slots.acquire();
  await slots.acquire();
  assert.equal(slots.available, 0);
  const waiting = [1, 2].map((n) => slots.acquire().then(() => order.push(n)));
  assert.equal(slots.queued, 2);
  slots.release();
  slots.release();
  await Promise.all(waiting);
  assert.deepEqual(order, [1, 2]);
  slots.release();
  slots.release();
  slots.release();
  assert.equal(slots.available, 2);
  assert.equal(await slots.with(async () => slots.available), 1);
  assert.throws(() => new UploadSlots(0), RangeError);
});

test('batch progress, rate and time left', () => {
  const base = { id: 'b', purpose: 'ingest' as const, source: 's', createdAt: 0, faces: 0, cached: 0, errors: {} };
  const running = batchProgress({ ...base, total: 100, done: 15, failed: 5, ingested: true }, 10_000);
  assert.equal(running.progress, 0.2);
  assert.equal(running.ratePerSecond, 2);
  assert.equal(running.etaSeconds, 40);
  assert.equal(running.open, false);
  const fresh = batchProgress({ ...base, total: 10, done: 0, failed: 0, ingested: false }, 5_000);
  assert.equal(fresh.etaSeconds, null);
  assert.equal(fresh.open, true);
  const finished = batchProgress({ ...base, total: 4, done: 4, failed: 0, ingested: true, finishedAt: 2_000 }, 60_000);
  assert.equal(finished.ratePerSecond, 2, 'the rate stops at finishedAt');
  assert.equal(finished.etaSeconds, 0);
  assert.equal(batchProgress({ ...base, total: 0, done: 0, failed: 0, ingested: false }, 1).progress, 0);
});

test('percentiles by nearest rank', () => {
  assert.equal(percentile([], 50), null);
  assert.equal(percentile([5], 99), 5);
  const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1
  assert.equal(percentile(values, 50), 50);
  assert.equal(percentile(values, 95), 95);
  assert.equal(percentile(values, 100), 100);
  assert.deepEqual(summarise([1.4, 2.6]), { p50: 1, p95: 3, p99: 3 });
});

test("BullMQ's per-minute metrics become a timeline ending at the current minute", () => {
  const minute = 60_000;
  const now = 1000 * minute + 30_000;
  // 7 jobs so far in minute 998 (the last one that saw a completion); the list holds 997, 996, 995.
  const m = { meta: { count: 100, prevTS: 998 * minute + 5_000, prevCount: 93 }, data: [4, 0, 9] };
  assert.deepEqual(perMinute(m, now, 6), [9, 0, 4, 7, 0, 0]);
  assert.deepEqual(perMinute({ meta: { count: 0, prevTS: 0, prevCount: 0 }, data: [] }, now, 3), [0, 0, 0]);
  assert.deepEqual(perMinute({ meta: { count: 10, prevTS: 1000 * minute, prevCount: 4 }, data: [] }, now, 2), [0, 6]);
});

test('failed authentications: an address is refused after the limit until its window ends; others are not', () => {
  let now = 1_000_000;
  const limiter = new AuthFailureLimiter({ maxFailures: 3, windowMs: 60_000, now: () => now });
  assert.equal(limiter.retryAfterSeconds('10.0.0.1'), 0);
  assert.equal(limiter.recordFailure('10.0.0.1'), false);
  assert.equal(limiter.recordFailure('10.0.0.1'), false);
  assert.equal(limiter.retryAfterSeconds('10.0.0.1'), 0, 'below the limit');
  assert.equal(limiter.recordFailure('10.0.0.1'), true, 'the third failure reaches the limit (reported once)');
  assert.equal(limiter.recordFailure('10.0.0.1'), false);
  assert.equal(limiter.retryAfterSeconds('10.0.0.1'), 60);
  assert.equal(limiter.retryAfterSeconds('10.0.0.2'), 0, 'another address is not affected');
  now += 59_500;
  assert.equal(limiter.retryAfterSeconds('10.0.0.1'), 1, 'rounded up, never 0 while refused');
  now += 500;
  assert.equal(limiter.retryAfterSeconds('10.0.0.1'), 0, 'the window has ended');
  assert.equal(limiter.recordFailure('10.0.0.1'), false, 'a new window starts from zero');
});

test('failed authentications: memory is bounded by forgetting the oldest windows', () => {
  const limiter = new AuthFailureLimiter({ maxFailures: 2, maxClients: 3 });
  for (const ip of ['a', 'b', 'c', 'd']) {
    limiter.recordFailure(ip);
    limiter.recordFailure(ip);
  }
  assert.equal(limiter.tracked, 3);
  assert.equal(limiter.retryAfterSeconds('a'), 0, 'the oldest was forgotten');
  assert.ok(limiter.retryAfterSeconds('d') > 0);
  assert.throws(() => new AuthFailureLimiter({ maxFailures: 0 }), RangeError);
});

test('API key scopes: parsed strictly, admin includes every scope', () => {
  assert.deepEqual(ApiKeys.parseScopes('read, upload'), ['upload', 'read']);
  assert.deepEqual(ApiKeys.parseScopes(['people']), ['people']);
  assert.throws(() => ApiKeys.parseScopes('read,root'), /unknown scope "root"/);
  assert.throws(() => ApiKeys.parseScopes(' , '), /at least one scope/);
  assert.throws(() => ApiKeys.checkName(''), RangeError);
  assert.throws(() => ApiKeys.checkName('x'.repeat(101)), RangeError);
  assert.equal(ApiKeys.allows(['read'], 'read'), true);
  assert.equal(ApiKeys.allows(['read'], 'upload'), false);
  assert.equal(ApiKeys.allows(['admin'], 'people'), true);
  assert.equal(Credentials.allows({ kind: 'token' }, 'admin'), true);
  assert.equal(Credentials.allows({ kind: 'key', id: '0', name: 'n', scopes: ['upload'] }, 'read'), false);
  assert.equal(ApiKeys.looksLikeKey('fpk_0123456789abcdef_x'), true);
  assert.equal(ApiKeys.looksLikeKey('a-plain-token-0123456789'), false);
});

test('API keys are stored as their sha256; verify, sessions and revoke (in-memory Redis stand-in)', async () => {
  const hashes = new Map<string, Map<string, string>>();
  const table = (k: string) => hashes.get(k) ?? hashes.set(k, new Map()).get(k)!;
  const redis = {
    hset: async (k: string, f: string, v: string) => (table(k).set(f, v), 1),
    hget: async (k: string, f: string) => table(k).get(f) ?? null,
    hgetall: async (k: string) => Object.fromEntries(table(k)),
    hdel: async (k: string, f: string) => (table(k).delete(f) ? 1 : 0),
  };
  const keys = new ApiKeys(redis as never, 'p');
  const created = await keys.create('ci', ['upload', 'read']);
  const stored = JSON.stringify([...table('p:api-keys')]);
  assert.ok(!stored.includes(created.key.slice(21)));
  assert.ok(stored.includes(createHash('sha256').update(created.key).digest('hex')));
  assert.deepEqual(await keys.verify(created.key), { id: created.id, name: 'ci', scopes: ['upload', 'read'], createdAt: created.createdAt });
  assert.equal(await keys.verify(`${created.key.slice(0, -1)}${created.key.endsWith('A') ? 'B' : 'A'}`), undefined, 'one character off');
  assert.equal(await keys.verify('fpk_nope'), undefined);
  const session = (await keys.sessionFor(created.key))!;
  assert.ok(!session.includes(created.key.slice(21)));
  assert.equal((await keys.verifySession(session))?.id, created.id);
  assert.equal(await keys.verifySession(`${session.slice(0, -2)}xx`), undefined);
  assert.deepEqual((await keys.list()).map((k) => k.name), ['ci']);
  assert.equal(await keys.revoke(created.id), true);
  assert.equal(await keys.revoke(created.id), false);
  assert.equal(await keys.verify(created.key), undefined);
  assert.equal(await keys.verifySession(session), undefined);
});

test("Fastify's and multipart's own errors map to named codes in the common shape", () => {
  const answer = (code: string, statusCode: number, message = 'm') => errorAnswer(Object.assign(new Error(message), { code, statusCode }), 5);
  assert.deepEqual(answer('FST_ERR_CTP_BODY_TOO_LARGE', 413).body.error.code, 'BODY_TOO_LARGE');
  assert.deepEqual(answer('FST_ERR_CTP_INVALID_MEDIA_TYPE', 415).status, 415);
  assert.deepEqual(answer('FST_ERR_CTP_INVALID_JSON_BODY', 400).body.error.code, 'BAD_JSON');
  assert.deepEqual(answer('FST_FILES_LIMIT', 413).body, { error: { code: 'TOO_MANY_FILES', message: 'at most 5 files per request (FACEPIPE_UPLOAD_MAX_FILES)' } });
  assert.deepEqual(answer('FST_PARTS_LIMIT', 413).body.error.code, 'TOO_MANY_PARTS');
  assert.deepEqual(answer('FST_INVALID_MULTIPART_CONTENT_TYPE', 406).status, 415);
  assert.deepEqual(answer('FST_SOMETHING_NEW', 422).body.error.code, 'BAD_REQUEST');
  const internal = errorAnswer(new Error('secret detail'), 5);
  assert.equal(internal.status, 500);
  assert.deepEqual(internal.body, { error: { code: 'INTERNAL', message: 'internal error; see the service log' } });
});

test('the methods a path is served with (405 and Allow), from route patterns', () => {
  const routes = [
    { method: 'GET', url: '/v1/images/:id' },
    { method: 'POST', url: '/v1/images' },
    { method: 'GET', url: '/dashboard/jobs/*' },
  ];
  const methods = new RouteMethods(routes);
  assert.deepEqual(methods.allowed('/v1/images/abc'), ['GET']);
  assert.deepEqual(methods.allowed('/v1/images'), ['POST']);
  assert.deepEqual(methods.allowed('/v1/images/abc/more'), []);
  assert.deepEqual(methods.allowed('/dashboard/jobs/api/queues'), ['GET']);
  routes.push({ method: 'DELETE', url: '/v1/images/:id' });
  assert.deepEqual(methods.allowed('/v1/images/abc'), ['DELETE', 'GET'], 'routes added later are seen');
  assert.deepEqual(new RouteMethods([{ method: 'GET', url: '/a.b' }]).allowed('/axb'), [], 'literal segments are literal');
});

test('a request spool keeps small files in memory while the budget lasts, the rest in a temp dir it removes', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'facepipe-spool-unit-'));
  try {
    const budget = new MemoryBudget(100);
    assert.equal(budget.tryReserve(101), false);
    const spool = new RequestSpool(parent, budget, 1000);
    const chunks = async function* (...sizes: number[]) {
      for (const [i, n] of sizes.entries()) yield Buffer.alloc(n, i + 1);
    };
    const small = await spool.store(chunks(30, 30));
    assert.equal(small.size, 60);
    assert.ok(small.bytes && small.path === undefined, 'in memory');
    assert.equal(spool.onDisk, false, 'no temp dir for files that fit');
    assert.equal(budget.available, 40);
    const spilled = await spool.store(chunks(30, 30));
    assert.ok(spilled.path !== undefined && spilled.bytes === undefined, 'over the budget: on disk');
    assert.deepEqual(await spool.read(spilled), Buffer.concat([Buffer.alloc(30, 1), Buffer.alloc(30, 2)]), 'the chunks held before spilling are written first');
    assert.equal(budget.available, 40, 'what was held for the spilled file is given back');
    const tooLarge = await spool.store(chunks(600, 600));
    assert.deepEqual(tooLarge, { size: 1200, tooLarge: true });
    assert.equal(readdirSync(parent).length, 1);
    await spool.close();
    await spool.close();
    assert.equal(budget.available, 100, 'memory returned');
    assert.deepEqual(readdirSync(parent), [], 'temp dir removed');
    assert.ok(!existsSync(spilled.path));
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('listPage: pages in sort-key order, each entry once; an entry removed or added between pages neither repeats nor hides another', () => {
  const items = [5, 3, 9, 1, 7].map((n) => ({ id: `k${n}`, at: n }));
  const key = (i: { id: string; at: number }) => `${sortableNumber(i.at)}|${i.id}`;
  const first = listPage(items, key, 2);
  assert.deepEqual(first.page.map((i) => i.at), [1, 3]);
  // 3 (the cursor's own entry) is removed and 2 added before the next page: 5 and 7 come next.
  const changed = [...items.filter((i) => i.at !== 3), { id: 'k2', at: 2 }];
  const second = listPage(changed, key, 2, first.nextCursor!);
  assert.deepEqual(second.page.map((i) => i.at), [5, 7]);
  const third = listPage(changed, key, 2, second.nextCursor!);
  assert.deepEqual([third.page.map((i) => i.at), third.nextCursor], [[9], null]);
  assert.deepEqual(listPage([], key, 10), { page: [], nextCursor: null });
  assert.ok(sortableNumber(10) > sortableNumber(9));
});
