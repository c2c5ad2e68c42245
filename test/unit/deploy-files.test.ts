import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { envSchema } from '@facepipe/core';

const root = fileURLToPath(new URL('../..', import.meta.url));
const compose = readFileSync(`${root}/docker-compose.yml`, 'utf8');
const known = new Set(Object.keys(envSchema.shape));
/** Settings the deploy files set before the env schema lists them (the face-index issue adds DATABASE_URL). */
const pending = new Set(['DATABASE_URL']);

test('docker-compose.yml sets only settings facepipe knows', () => {
  const used = new Set([...compose.matchAll(/^\s+((?:FACEPIPE|S3|REDIS|DATABASE)_[A-Z0-9_]+):/gm)].map((m) => m[1]!));
  assert.ok(used.size > 5);
  for (const name of used) assert.ok(known.has(name) || pending.has(name), `${name} is not in the env schema (typo, or a setting that no longer exists)`);
});

test('every facepipe service reaches Redis, S3 and the pgvector Postgres, and waits for them', () => {
  const file = parse(compose, { merge: true }) as {
    services: Record<string, { image?: string; environment?: Record<string, string>; depends_on?: Record<string, unknown> }>;
  };
  const postgres = file.services.postgres;
  assert.match(postgres?.image ?? '', /^pgvector\/pgvector:/, 'the postgres service runs the pgvector image');
  const facepipe = Object.entries(file.services).filter(([, s]) => s.image?.startsWith('facepipe:'));
  assert.ok(facepipe.length >= 5, 'the service, three pools and the cli');
  for (const [name, service] of facepipe) {
    for (const setting of ['REDIS_URL', 'S3_ENDPOINT', 'DATABASE_URL']) assert.ok(service.environment?.[setting], `${name} sets ${setting}`);
    assert.match(service.environment!.DATABASE_URL!, /^postgres(ql)?:\/\/[^@]+@postgres:5432\//, `${name}: DATABASE_URL names the postgres service`);
    for (const dependency of ['redis', 'postgres', 'minio-init']) assert.ok(service.depends_on?.[dependency], `${name} waits for ${dependency}`);
  }
});

test('every setting is documented in docs/configuration.md', () => {
  const docs = readFileSync(`${root}/docs/configuration.md`, 'utf8');
  for (const name of known) assert.ok(docs.includes(`\`${name}\``), `${name} is missing from docs/configuration.md`);
});

const composeBin = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0 ? 'docker-compose' : undefined;
test('docker-compose.yml is a valid Compose file', { skip: composeBin ? false : 'docker-compose is not installed (apt-get install docker-compose)' }, () => {
  const out = spawnSync(composeBin!, ['-f', `${root}/docker-compose.yml`, '--profile', 'gpu', 'config', '-q'], {
    encoding: 'utf8',
    env: { ...process.env, FACEPIPE_API_TOKEN: 'test-token', REDIS_PASSWORD: 'test-password' },
  });
  assert.equal(out.status, 0, out.stderr);
});
