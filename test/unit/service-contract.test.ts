import { test } from 'node:test';
import assert from 'node:assert/strict';
import { contract, generateOpenApi, openApiDocument, parseWith } from '@facepipe/service';
import { OpenApiContract } from '../helpers/openapi-contract.js';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    const e = err as { status?: number; code?: string; message: string };
    return { status: e.status, code: e.code, message: e.message };
  }
  return assert.fail('no refusal');
};

test('one parser for query values: numbers and flags read from text, a bad value named in a 400', () => {
  const list = contract.batches.list.query;
  assert.deepEqual(parseWith(list, {}), { limit: 50 });
  assert.deepEqual(parseWith(list, { limit: '7' }), { limit: 7 });
  for (const bad of ['abc', '0', '501', '1.5', '', ['1', '2']]) {
    assert.deepEqual(refusal(() => parseWith(list, { limit: bad })), { status: 400, code: 'BAD_REQUEST', message: 'limit: a whole number from 1 to 500' }, JSON.stringify(bad));
  }
  const people = contract.library.people.query;
  assert.deepEqual(parseWith(people, {}), { hidden: false });
  for (const yes of ['true', '1', '']) assert.deepEqual(parseWith(people, { hidden: yes }), { hidden: true });
  for (const no of ['false', '0']) assert.deepEqual(parseWith(people, { hidden: no }), { hidden: false });
  assert.equal(refusal(() => parseWith(people, { hidden: 'maybe' })).message, 'hidden: true or false');
  assert.deepEqual(parseWith(contract.enroll.query, {}), { wait: true });
  assert.deepEqual(parseWith(people, { hidden: 'true', other: 'ignored' }), { hidden: true }, 'unknown query parameters are ignored');
});

test('JSON bodies: an unknown field, a wrong type and a missing body each say what to send', () => {
  const merge = contract.library.merge.body;
  const example = merge.meta()?.example;
  assert.deepEqual(parseWith(merge, { into: 'Jane Doe' }, example), { into: 'Jane Doe' });
  assert.equal(refusal(() => parseWith(merge, { into: 'x', nom: 1 }, example)).message, 'unknown field "nom" (fields: into)');
  assert.equal(refusal(() => parseWith(merge, { into: 3 }, example)).message, 'into: the name of the person who keeps the faces');
  assert.equal(refusal(() => parseWith(merge, undefined, example)).message, 'send JSON: {"into":"Jane Doe"}');
  assert.match(refusal(() => parseWith(contract.library.update.body, {})).message, /give "name" \(to rename\) and\/or "hidden"/);
});

test('/openapi.json is generated from the operations: each once, with its scope, inputs and the answers every route can give', () => {
  const ops = Object.entries(openApiDocument.paths ?? {}).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
  assert.equal(ops.length, new Set(ops).size);
  const all = [contract.images, contract.batches, contract.library, contract.keys, contract.webhooks, contract.dashboard, contract.probes].flatMap((group) => Object.values(group));
  assert.equal(ops.length, all.length + 1, 'every operation (and enroll) is described');
  const list = openApiDocument.paths!['/v1/batches']!.get!;
  assert.equal((list as Record<string, unknown>)['x-facepipe-scope'], 'read');
  assert.deepEqual(list.parameters?.[0], { schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, required: false, name: 'limit', in: 'query' });
  assert.deepEqual((list.parameters?.[1] as { name: string }).name, 'cursor');
  assert.deepEqual(Object.keys(list.responses!).sort(), ['200', '400', '401', '403', '429', '503']);
  const healthz = openApiDocument.paths!['/healthz']!.get!;
  assert.deepEqual(healthz.security, []);
  assert.deepEqual(Object.keys(healthz.responses!).sort(), ['200', '503'], 'a public route has no auth answers; any route may answer SHUTTING_DOWN');
  // The result document is core's schema, field for field.
  const result = openApiDocument.components!.schemas!.ResultDocument as { properties: Record<string, unknown>; required: string[] };
  assert.ok(result.required.includes('faceCount') && 'versions' in result.properties && 'rejected' in result.properties);
  assert.deepEqual(generateOpenApi(all), generateOpenApi(all), 'generation is deterministic');
});

test('every list route pages the same way (limit, cursor → nextCursor), and every example matches its schema', () => {
  const lists = Object.entries(openApiDocument.paths ?? {}).filter(([path]) => ['/v1/batches', '/v1/clusters', '/v1/people/{name}/faces', '/v1/clusters/{id}/faces', '/v1/people-audit'].includes(path));
  assert.equal(lists.length, 5);
  for (const [path, item] of lists) {
    const names = (item.get!.parameters as { name: string; in: string }[]).filter((p) => p.in === 'query').map((p) => p.name);
    // Paging first; a list may take more (a person's faces: `order`).
    assert.deepEqual(names.slice(0, 2), ['limit', 'cursor'], path);
    assert.deepEqual(names.slice(2), path === '/v1/people/{name}/faces' ? ['order'] : [], path);
    const body = (item.get!.responses!['200'] as { content: Record<string, { schema: { properties: Record<string, unknown> } }> }).content['application/json']!.schema;
    assert.ok('nextCursor' in body.properties, path);
  }
  assert.equal(refusal(() => parseWith(contract.library.clusters.query, { cursor: 'abc' })).message, 'cursor: the nextCursor of the previous page');
  assert.equal(refusal(() => parseWith(contract.library.compare.query, { threshold: 'near' })).message, 'threshold: a number from 0 to 4, e.g. 0.5');
  assert.equal(refusal(() => parseWith(contract.library.search.query, { threshold: '9' })).message, 'threshold: a number from 0 to 4, e.g. 0.5');

  const checker = new OpenApiContract(openApiDocument as unknown as Record<string, unknown>);
  let examples = 0;
  for (const [path, item] of Object.entries(openApiDocument.paths ?? {})) {
    for (const [method, op] of Object.entries(item as Record<string, { responses?: Record<string, { content?: Record<string, { example?: unknown }> }> }>)) {
      for (const [status, response] of Object.entries(op.responses ?? {})) {
        const example = response.content?.['application/json']?.example;
        if (example === undefined) continue;
        examples += 1;
        checker.check(method.toUpperCase(), path.replace(/\{\w+\}/g, '1'), Number(status), 'application/json', JSON.stringify(example));
      }
    }
  }
  assert.ok(examples >= 1, 'POST /v1/compare has an example answer');
  const compare = openApiDocument.paths!['/v1/compare']!.post!;
  assert.ok(compare.requestBody && 'multipart/form-data' in (compare.requestBody as { content: object }).content);
});

test('webhook signatures: HMAC-SHA256 of "<t>.<body>", checked in constant time, refused when old', async () => {
  const { signWebhook, verifyWebhook } = await import('@facepipe/service');
  const { createHmac } = await import('node:crypto');
  const body = '{"id":"1-0","type":"batch.finished"}';
  const header = signWebhook('whsec_x', body, 1_700_000_000);
  assert.equal(header, `t=1700000000,v1=${createHmac('sha256', 'whsec_x').update(`1700000000.${body}`).digest('hex')}`);
  assert.ok(verifyWebhook('whsec_x', body, header, 300, 1_700_000_100));
  assert.ok(!verifyWebhook('whsec_x', body, header, 300, 1_700_000_400), 'older than the tolerance');
  assert.ok(!verifyWebhook('whsec_y', body, header, 300, 1_700_000_100));
  for (const bad of [undefined, '', 't=abc,v1=00', 't=1700000000', 't=1700000000,v1=zz']) assert.ok(!verifyWebhook('whsec_x', body, bad, 300, 1_700_000_100), String(bad));
});
