import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ResultDocument, ResultFace } from '@facepipe/core';
import { deploymentDatabaseUrl, type FaceState } from '@facepipe/face-index';
import { toResultLine } from '@facepipe/producer';

const face = (index: number, name: string | null): ResultFace => ({
  index,
  box: [10 * index, 0, 10, 10],
  score: 0.9,
  landmarks: [],
  cropKey: 'k',
  cropIndex: index,
  embedding: [],
  embeddingModel: 'm',
  match: { name, distance: name ? 0.4 : 0.7, confidence: 0.5, method: 'nearest', galleryVersion: 1 },
  name,
});
const result = { schema: 'facepipe.result/1', imageId: 'a'.repeat(64), status: 'done', faceCount: 3, faces: [face(0, 'obama'), face(1, null), face(2, null)] } as unknown as ResultDocument;
const entry = { index: 0, source: 'x.jpg', imageId: 'a'.repeat(64) };
const state = (faceIndex: number, s: Partial<FaceState>): FaceState => ({ id: String(faceIndex + 1), imageId: entry.imageId, faceIndex, personId: null, name: null, personSource: null, clusterId: null, matchDistance: null, qualityOk: true, suggestion: null, ...s });

test('--out lines: every face carries "cluster"; null without an index', () => {
  const line = toResultLine(entry, result);
  assert.ok('faces' in line);
  assert.deepEqual(line.faces.map((f) => f.cluster), [null, null, null]);
  assert.deepEqual(line.faces.map((f) => f.match.name), ['obama', null, null]);
});

test('--out lines with the index: its names and clusters win; a named face is in no cluster', () => {
  const line = toResultLine(entry, result, [
    state(0, { personId: '1', name: 'obama', personSource: 'auto', matchDistance: 0.4 }),
    state(1, { clusterId: '7' }),
    state(2, { personId: '2', name: 'Rose', personSource: 'enrolled', clusterId: null }),
  ]);
  assert.ok('faces' in line);
  assert.deepEqual(line.faces.map((f) => [f.match.name, f.cluster]), [['obama', null], [null, '7'], ['Rose', null]]);
  assert.equal(JSON.stringify(line.faces[1]), '{"box":[10,0,10,10],"score":0.9,"match":{"name":null,"distance":0.7},"cluster":"7"}');
});

test('the database of a local deployment is read from <data-dir>/deployment.json', () => {
  const dir = mkdtempSync(join(tmpdir(), 'facepipe-dd-'));
  try {
    assert.equal(deploymentDatabaseUrl(dir), undefined);
    writeFileSync(join(dir, 'deployment.json'), JSON.stringify({ schema: 'facepipe.deployment/1', state: 'ready', pid: process.pid, env: { DATABASE_URL: 'postgres://u@127.0.0.1:5999/postgres' } }));
    assert.equal(deploymentDatabaseUrl(dir), 'postgres://u@127.0.0.1:5999/postgres');
    writeFileSync(join(dir, 'deployment.json'), JSON.stringify({ schema: 'facepipe.deployment/1', state: 'ready', pid: 2 ** 22 + 12345, env: { DATABASE_URL: 'postgres://u@127.0.0.1:5999/postgres' } }));
    assert.equal(deploymentDatabaseUrl(dir), undefined, 'a deployment whose process is gone is not used');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a threshold stricter than the deployment turns automatic names farther than it into suggestions; given names stay', () => {
  const states = [
    state(0, { personId: '1', name: 'obama', personSource: 'auto', matchDistance: 0.4 }),
    state(1, { clusterId: '7' }),
    state(2, { personId: '2', name: 'Rose', personSource: 'enrolled', matchDistance: null }),
  ];
  const strict = toResultLine(entry, result, states, { threshold: 0.35 });
  assert.ok('faces' in strict);
  assert.deepEqual(strict.faces[0], { box: [0, 0, 10, 10], score: 0.9, match: { name: null, distance: 0.4 }, cluster: null, suggestion: { name: 'obama', distance: 0.4 } });
  assert.deepEqual(strict.faces.map((f) => f.match.name), [null, null, 'Rose']);
  // At or above the name's distance nothing changes; without an index the document's name is automatic unless labelled.
  assert.deepEqual(toResultLine(entry, result, states, { threshold: 0.4 }), toResultLine(entry, result, states));
  const plain = toResultLine(entry, result, undefined, { threshold: 0.3 });
  assert.ok('faces' in plain);
  assert.deepEqual(plain.faces[0]!.suggestion, { name: 'obama', distance: 0.4 });
  const labelled = { ...result, faces: [{ ...face(0, 'obama'), label: { name: 'obama', at: 'now' } }] } as ResultDocument;
  const kept = toResultLine(entry, labelled, undefined, { threshold: 0.3 });
  assert.ok('faces' in kept);
  assert.equal(kept.faces[0]!.match.name, 'obama');
});
