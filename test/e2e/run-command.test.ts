import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, freshShellEnv } from '../helpers/cli.js';
import { dataPath, missingData } from '../helpers/data.js';

const examples = 'recognition/face_recognition_examples';


test('`facepipe run <dir> --enroll <dir> --out <file>` runs everything on the embedded default and stops it', { skip: missingData(`${examples}/knn_test`, `${examples}/knn_train`) }, async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'facepipe-run-'));
  try {
    const out = join(cwd, 'results.jsonl');
    const { code, stdout, stderr } = await runCli(['run', dataPath(examples, 'knn_test'), '--enroll', dataPath(examples, 'knn_train'), '--out', out], { cwd, env: freshShellEnv() });
    assert.equal(code, 0, stderr);
    assert.match(stderr, /private redis-server/);
    assert.match(stderr, /embedded S3/);
    assert.match(stdout, /obama_and_biden\.jpg: .*obama.*biden|obama_and_biden\.jpg: .*biden.*obama/);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 5);
    for (const line of lines) {
      assert.equal(typeof line.file, 'string');
      assert.match(line.imageId, /^[0-9a-f]{64}$/);
      for (const face of line.faces) {
        assert.equal(face.box.length, 4);
        assert.equal(typeof face.score, 'number');
        assert.ok('name' in face.match && 'distance' in face.match);
      }
    }
    assert.deepEqual(lines.find((l) => l.file === 'obama1.jpg').faces.map((f: { match: { name: string } }) => f.match.name), ['obama']);
    // The embedded store keeps the rule that expires intermediates nothing consumed, and every
    // image's were consumed: of faces/ only the display chips are left.
    const s3 = join(cwd, '.facepipe', 's3');
    const [bucket] = readdirSync(s3, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(s3, e.name));
    assert.match(readFileSync(join(bucket!, 'lifecycle.xml'), 'utf8'), /<ID>facepipe-intermediates<\/ID>[\s\S]*<Key>facepipe-lifecycle<\/Key>/);
    const live = new Set<string>();
    for (const line of readFileSync(join(bucket!, 'index.jsonl'), 'utf8').split('\n').filter(Boolean)) {
      const rec = JSON.parse(line) as { k: string; d?: 1 };
      if (rec.d) live.delete(rec.k);
      else live.add(rec.k);
    }
    const faceObjects = [...live].filter((k) => k.startsWith('faces/'));
    assert.ok(faceObjects.length > 0);
    assert.deepEqual(faceObjects.filter((k) => !k.endsWith('/chips-view.webp')), []);
    // A second run over the same photos answers from the stored results.
    const again = await runCli(['run', dataPath(examples, 'knn_test'), '--quiet'], { cwd, env: freshShellEnv() });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /5 done \(5 from earlier results\)/);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('without redis-server on the PATH, `facepipe run` says how to fix it', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'facepipe-run-'));
  try {
    const { code, stderr } = await runCli(['run', cwd], { cwd, env: freshShellEnv({ PATH: '/nonexistent' }) });
    assert.notEqual(code, 0);
    assert.match(stderr, /redis-server was not found/);
    assert.match(stderr, /apt-get install redis-server/);
    assert.match(stderr, /REDIS_URL/);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('a bad setting stops the CLI at start with the variable named', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'facepipe-run-'));
  try {
    const { code, stderr } = await runCli(['run', cwd], { cwd, env: freshShellEnv({ FACEPIPE_EMBED_BATCH_SIZE: 'many' }) });
    assert.equal(code, 2);
    assert.match(stderr, /FACEPIPE_EMBED_BATCH_SIZE \("many"\)/);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
