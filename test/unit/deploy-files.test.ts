import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { envSchema } from '@facepipe/core';

const root = fileURLToPath(new URL('../..', import.meta.url));
const compose = readFileSync(`${root}/docker-compose.yml`, 'utf8');
const known = new Set(Object.keys(envSchema.shape));

test('docker-compose.yml sets only settings facepipe knows', () => {
  const used = new Set([...compose.matchAll(/^\s+((?:FACEPIPE|S3|REDIS)_[A-Z0-9_]+):/gm)].map((m) => m[1]!));
  assert.ok(used.size > 5);
  for (const name of used) assert.ok(known.has(name), `${name} is not in the env schema (typo, or a setting that no longer exists)`);
});

test('every setting is documented in docs/configuration.md', () => {
  const docs = readFileSync(`${root}/docs/configuration.md`, 'utf8');
  for (const name of known) assert.ok(docs.includes(`\`${name}\``), `${name} is missing from docs/configuration.md`);
});

const composeBin = spawnSync('docker-compose', ['version'], { encoding: 'utf8' }).status === 0 ? 'docker-compose' : undefined;
test('docker-compose.yml is a valid Compose file', { skip: composeBin ? false : 'docker-compose is not installed (apt-get install docker-compose)' }, () => {
  const out = spawnSync(composeBin!, ['-f', `${root}/docker-compose.yml`, '--profile', 'gpu', 'config', '-q'], {
    encoding: 'utf8',
    env: { ...process.env, FACEPIPE_API_TOKEN: 'test-token' },
  });
  assert.equal(out.status, 0, out.stderr);
});
